package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// pngBytes is a w×h PNG with a pattern that depends on seed.
func pngBytes(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x) ^ seed, G: uint8(y), B: uint8(x + y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newStore(t testing.TB, o Options) *Store {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "out")
	}
	s, err := NewStore(o)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

// dirFiles lists every file under dir (relative paths), hidden ones included.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestNewStore(t *testing.T) {
	for _, dir := range []string{"", "relative/dir"} {
		if _, err := NewStore(Options{Dir: dir}); err == nil {
			t.Errorf("NewStore(Dir %q): got nil error; want one", dir)
		}
	}
	dir := filepath.Join(t.TempDir(), "later")
	s, err := NewStore(Options{Dir: dir, Save: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("output dir exists after NewStore (err %v); want it created at the first save", err)
	}
	if !s.Saving() || s.MaxInput() != DefaultMaxInput {
		t.Errorf("Saving %v MaxInput %d; want true %d", s.Saving(), s.MaxInput(), DefaultMaxInput)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		mime string
		ext  string
	}{
		{"png", "\x89PNG\r\n\x1a\n\x00\x00", "image/png", ".png"},
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", ".jpg"},
		{"gif", "GIF89a....", "image/gif", ".gif"},
		{"webp", "RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp", ".webp"},
		{"wav", "RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wav", ".wav"},
		{"mp4", "\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4", ".mp4"},
		{"m4a", "\x00\x00\x00\x18ftypM4A \x00\x00", "audio/mp4", ".m4a"},
		{"mov", "\x00\x00\x00\x14ftypqt  \x00\x00", "video/quicktime", ".mov"},
		{"webm", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm", ".webm"},
		{"ogg", "OggS\x00\x02", "audio/ogg", ".ogg"},
		{"flac", "fLaC\x00\x00", "audio/flac", ".flac"},
		{"mp3 id3", "ID3\x04\x00", "audio/mpeg", ".mp3"},
		{"mp3 frame", "\xff\xfb\x90\x64", "audio/mpeg", ".mp3"},
		{"aac adts", "\xff\xf1\x50\x80", "audio/aac", ".aac"},
		{"html", "<!DOCTYPE html><html>", "", ".bin"},
		{"empty", "", "", ".bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sniff([]byte(tt.head))
			if got.MIME != tt.mime || got.Ext != tt.ext {
				t.Errorf("Sniff = %+v; want {%s %s}", got, tt.mime, tt.ext)
			}
		})
	}
}

func TestSaveURL(t *testing.T) {
	img := pngBytes(t, 64, 32, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain") // a lie: the type comes from the bytes
		w.Write(img)
	}))
	defer srv.Close()

	tests := []struct {
		filename string
		index    int
		want     string // path relative to the output dir; "" for the default name
	}{
		{"", 0, ""},
		{"cat", 0, "cat.png"},
		{"cat.PNG", 0, "cat.PNG"},
		{"cat.jpg", 0, "cat.png"},
		{"notes.txt", 0, "notes.txt.png"},
		{"cats/tabby.png", 0, filepath.Join("cats", "tabby.png")},
		{`cats\ginger.png`, 0, filepath.Join("cats", "ginger.png")},
		{"./dot.png", 0, "dot.png"},
		{"multi.png", 2, "multi-3.png"},
		{"con.png", 0, "_con.png"},
		{`a<b>:c?.png`, 0, "a_b__c_.png"},
	}
	for _, tt := range tests {
		t.Run(tt.filename, func(t *testing.T) {
			s := newStore(t, Options{Save: true})
			got, err := s.SaveURL(t.Context(), srv.URL+"/x.png?sig=secret", SaveOptions{Filename: tt.filename, Kind: "image", Index: tt.index})
			if err != nil {
				t.Fatalf("SaveURL: %v", err)
			}
			if got.MIME != "image/png" || got.Width != 64 || got.Height != 32 || got.Bytes != int64(len(img)) {
				t.Errorf("got %+v; want image/png 64×32 %d bytes", got, len(img))
			}
			if got.URL != srv.URL+"/x.png?sig=secret" {
				t.Errorf("URL = %q; want the source URL", got.URL)
			}
			rel, _ := filepath.Rel(s.Dir(), got.Path)
			if tt.want != "" && rel != tt.want {
				t.Errorf("path = %s; want %s", rel, tt.want)
			}
			if tt.want == "" && !regexpMatch(`^\d{8}-\d{6}-[0-9a-f]{8}\.png$`, rel) {
				t.Errorf("default name = %s; want date-time-hash.png", rel)
			}
			data, err := os.ReadFile(got.Path)
			if err != nil || !bytes.Equal(data, img) {
				t.Errorf("file content differs from the download (err %v)", err)
			}
			if files := dirFiles(t, s.Dir()); len(files) != 1 {
				t.Errorf("files in output dir: %v; want exactly the saved one", files)
			}
		})
	}
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile(pattern).MatchString(s)
}

func TestSaveURLErrors(t *testing.T) {
	img := pngBytes(t, 16, 16, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.png", func(w http.ResponseWriter, r *http.Request) { w.Write(img) })
	mux.HandleFunc("/missing.png", http.NotFound)
	mux.HandleFunc("/big-declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(bytes.Repeat([]byte{0}, 5000))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			w.Write(bytes.Repeat([]byte{7}, 500)) // no Content-Length: the cap must hold while streaming
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("<!DOCTYPE html><html><body>expired</body></html>"))
	})
	mux.HandleFunc("/corrupt.png", func(w http.ResponseWriter, r *http.Request) { w.Write(img[:20]) })
	mux.HandleFunc("/cut.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		w.Write(img[:len(img)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(img)))
		w.Write(img[:100])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name    string
		url     string
		kind    string
		want    error
		wantMsg string
	}{
		{"404", srv.URL + "/missing.png", "image", ErrDownload, "404"},
		{"declared too large", srv.URL + "/big-declared", "", ErrTooLarge, "4 KiB limit"},
		{"streamed too large", srv.URL + "/big-chunked", "", ErrTooLarge, "4 KiB limit"},
		{"html not image", srv.URL + "/page.html", "image", ErrNotMedia, "looks like text/html"},
		{"corrupt png", srv.URL + "/corrupt.png", "image", ErrNotMedia, "not a valid image"},
		{"cut", srv.URL + "/cut.png", "image", ErrDownload, "cut"},
		{"timeout", srv.URL + "/slow.png", "image", context.DeadlineExceeded, "not finished within"},
		{"empty", srv.URL + "/empty", "", ErrDownload, "empty"},
		{"ftp", "ftp://example.com/x.png", "image", ErrScheme, `unsupported URL scheme "ftp"`},
		{"file", "file:///etc/passwd", "image", ErrScheme, `unsupported URL scheme "file"`},
		{"no host", "http:///x.png", "image", ErrScheme, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Options{Save: true, MaxDownload: 4096, DownloadTimeout: 300 * time.Millisecond})
			got, err := s.SaveURL(t.Context(), tt.url, SaveOptions{Kind: tt.kind})
			if !errors.Is(err, tt.want) {
				t.Fatalf("SaveURL = %+v, %v; want error %v", got, err, tt.want)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %T is not a *media.Error", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q; want it to mention %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the URL's query", err)
			}
			if files := dirFiles(t, s.Dir()); len(files) != 0 {
				t.Errorf("files left behind: %v; want none", files)
			}
		})
	}
}

// TestCutDownloadLeavesNothing checks the rule on its own: a
// download cut in the middle leaves no file, not even a temporary one.
func TestCutDownloadLeavesNothing(t *testing.T) {
	body := append(pngBytes(t, 8, 8, 3), bytes.Repeat([]byte("x"), 1<<20)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	s := newStore(t, Options{Save: true})
	_, err := s.SaveURL(t.Context(), srv.URL+"/v.mp4", SaveOptions{Filename: "keep/me.png"})
	if !errors.Is(err, ErrDownload) {
		t.Fatalf("SaveURL error = %v; want ErrDownload", err)
	}
	if files := dirFiles(t, s.Dir()); len(files) != 0 {
		t.Errorf("files after a cut download: %v; want none", files)
	}
}

func TestFilenameConfined(t *testing.T) {
	img := pngBytes(t, 4, 4, 4)
	outside := t.TempDir()
	tests := []struct {
		name     string
		filename string
		setup    func(t *testing.T, dir string)
		want     string
	}{
		{"absolute", "/tmp/x.png", nil, "absolute"},
		{"absolute outside", filepath.Join(outside, "x.png"), nil, "absolute"},
		{"windows drive", `C:\Users\x.png`, nil, "absolute"},
		{"unc", `\\server\share\x.png`, nil, "absolute"},
		{"home", "~/x.png", nil, "absolute"},
		{"dotdot", "../x.png", nil, ".."},
		{"dotdot inside", "a/../../x.png", nil, ".."},
		{"dotdot backslash", `a\..\..\x.png`, nil, ".."},
		{"only dirs", "a/", nil, "no file name"},
		{"symlink escape", "link/x.png", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
				t.Skipf("symlinks unavailable: %v", err)
			}
		}, "symbolic link"},
		{"file as dir", "plain/x.png", func(t *testing.T, dir string) {
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644)
		}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, Options{Save: true})
			if tt.setup != nil {
				tt.setup(t, s.Dir())
			}
			_, err := s.SaveBytes(t.Context(), img, SaveOptions{Filename: tt.filename, Kind: "image"})
			if !errors.Is(err, ErrFilename) {
				t.Fatalf("SaveBytes(%q) error = %v; want ErrFilename", tt.filename, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to mention %q", err, tt.want)
			}
			if files := dirFiles(t, outside); len(files) != 0 {
				t.Errorf("files written outside the output dir: %v", files)
			}
		})
	}

	t.Run("symlink inside is fine", func(t *testing.T) {
		s := newStore(t, Options{Save: true})
		os.MkdirAll(filepath.Join(s.Dir(), "real"), 0o755)
		if err := os.Symlink(filepath.Join(s.Dir(), "real"), filepath.Join(s.Dir(), "alias")); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
		got, err := s.SaveBytes(t.Context(), img, SaveOptions{Filename: "alias/x.png"})
		if err != nil {
			t.Fatalf("SaveBytes: %v", err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), "real", "x.png")); err != nil {
			t.Errorf("saved at %s, not found in real/: %v", got.Path, err)
		}
	})
}

func TestNeverOverwrite(t *testing.T) {
	s := newStore(t, Options{Save: true})
	img := pngBytes(t, 8, 8, 5)

	// The same content twice within one second gives the same default name:
	// the second must get another.
	a, err := s.SaveBytes(t.Context(), img, SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SaveBytes(t.Context(), img, SaveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Path == b.Path {
		t.Errorf("two saves share the path %s", a.Path)
	}

	// A user file name that exists already is kept intact.
	existing := filepath.Join(s.Dir(), "mine.png")
	if err := os.WriteFile(existing, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := s.SaveBytes(t.Context(), img, SaveOptions{Filename: "mine.png"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(existing); string(got) != "precious" {
		t.Errorf("existing file overwritten: %q", got)
	}
	if filepath.Base(c.Path) != "mine-2.png" {
		t.Errorf("second mine.png saved as %s; want mine-2.png", filepath.Base(c.Path))
	}

	// A dangling symlink with the wanted name is not written through.
	target := filepath.Join(t.TempDir(), "target.png")
	if err := os.Symlink(target, filepath.Join(s.Dir(), "trap.png")); err == nil {
		if _, err := s.SaveBytes(t.Context(), img, SaveOptions{Filename: "trap.png"}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("save wrote through a symlink to %s", target)
		}
	}

	// Concurrent saves of one name all land, each in its own file.
	const n = 16
	var wg sync.WaitGroup
	paths := make([]string, n)
	for i := range n {
		wg.Go(func() {
			data := pngBytes(t, 8, 8, uint8(100+i))
			got, err := s.SaveBytes(context.Background(), data, SaveOptions{Filename: "race.png"})
			if err != nil {
				t.Errorf("concurrent save %d: %v", i, err)
				return
			}
			if disk, _ := os.ReadFile(got.Path); !bytes.Equal(disk, data) {
				t.Errorf("concurrent save %d: %s holds other content", i, got.Path)
			}
			paths[i] = got.Path
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			t.Errorf("path %s used twice", p)
		}
		seen[p] = true
	}
}

func TestSavingOff(t *testing.T) {
	var hits atomic.Int32
	img := pngBytes(t, 10, 20, 6)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(img)
	}))
	defer srv.Close()
	s := newStore(t, Options{Save: false})

	got, err := s.SaveURL(t.Context(), srv.URL+"/a.png", SaveOptions{Kind: "image"})
	if err != nil || got != (Saved{URL: srv.URL + "/a.png"}) {
		t.Errorf("SaveURL with saving off = %+v, %v; want the URL only", got, err)
	}
	if hits.Load() != 0 {
		t.Errorf("saving off downloaded %d times; want 0", hits.Load())
	}
	got, err = s.SaveBytes(t.Context(), img, SaveOptions{Kind: "image"})
	if err != nil || got.Path != "" || got.Width != 10 || got.Height != 20 || got.MIME != "image/png" {
		t.Errorf("SaveBytes with saving off = %+v, %v; want no path, 10×20 image/png", got, err)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("output dir created with saving off")
	}

	on := true
	got, err = s.SaveURL(t.Context(), srv.URL+"/a.png", SaveOptions{Kind: "image", Save: &on})
	if err != nil || got.Path == "" {
		t.Errorf("per-call save:true = %+v, %v; want a saved file", got, err)
	}
	off := false
	s2 := newStore(t, Options{Save: true})
	if got, _ := s2.SaveBytes(t.Context(), img, SaveOptions{Save: &off}); got.Path != "" {
		t.Errorf("per-call save:false saved %s", got.Path)
	}
}

func TestSaveDataURL(t *testing.T) {
	img := pngBytes(t, 12, 7, 7)
	s := newStore(t, Options{Save: true})
	got, err := s.SaveURL(t.Context(), "data:image/png;base64,"+base64.StdEncoding.EncodeToString(img), SaveOptions{Kind: "image"})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "" || got.Width != 12 || got.Height != 7 || got.Path == "" {
		t.Errorf("got %+v; want a saved 12×7 file and no URL", got)
	}
}

func TestSaveReader(t *testing.T) {
	s := newStore(t, Options{Save: true})
	mp4 := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), bytes.Repeat([]byte{1}, 10000)...)
	got, err := s.SaveReader(t.Context(), bytes.NewReader(mp4), SaveOptions{Kind: "video", Filename: "clip"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got.Path) != "clip.mp4" || got.MIME != "video/mp4" || got.Bytes != int64(len(mp4)) {
		t.Errorf("got %+v; want clip.mp4 video/mp4 %d bytes", got, len(mp4))
	}
	if _, err := s.SaveReader(t.Context(), strings.NewReader("<html>"), SaveOptions{Kind: "video"}); !errors.Is(err, ErrNotMedia) {
		t.Errorf("SaveReader(html, video) error = %v; want ErrNotMedia", err)
	}
}

func TestLoadImage(t *testing.T) {
	dir := t.TempDir()
	img := pngBytes(t, 20, 10, 8)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pngPath := write("pic.dat", img) // the extension lies; the bytes decide
	textPath := write("notes.png", []byte("hello, I am text"))
	corrupt := write("corrupt.png", img[:30])
	big := write("big.png", append(append([]byte{}, img...), make([]byte, 5000)...))
	var jbuf bytes.Buffer
	jpeg.Encode(&jbuf, image.NewGray(image.Rect(0, 0, 5, 5)), nil)
	jpgPath := write("photo.jpeg", jbuf.Bytes())

	s := newStore(t, Options{Save: true, MaxInput: 4096})
	os.MkdirAll(s.Dir(), 0o755)
	os.WriteFile(filepath.Join(s.Dir(), "earlier.png"), img, 0o644)

	tests := []struct {
		name     string
		ref      string
		wantMIME string
		wantURL  string
		wantErr  error
		wantMsg  string
	}{
		{"png path", pngPath, "image/png", "", nil, ""},
		{"jpeg path", jpgPath, "image/jpeg", "", nil, ""},
		{"file URL", "file://" + filepath.ToSlash(pngPath), "image/png", "", nil, ""},
		{"relative to output dir", "earlier.png", "image/png", "", nil, ""},
		{"data URL", "data:image/png;base64," + base64.StdEncoding.EncodeToString(img), "image/png", "", nil, ""},
		{"data URL wrong declared type", "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(img), "image/png", "", nil, ""},
		{"http URL not fetched", "https://example.com/a.png?x=1", "", "https://example.com/a.png?x=1", nil, ""},
		{"missing", filepath.Join(dir, "nope.png"), "", "", ErrNotFound, "file not found"},
		{"directory", dir, "", "", ErrNotFound, "is a directory"},
		{"text", textPath, "", "", ErrNotMedia, "not an image"},
		{"corrupt", corrupt, "", "", ErrNotMedia, "not a valid image"},
		{"too large", big, "", "", ErrTooLarge, "4 KiB limit"},
		{"data URL text", "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("hi there")), "", "", ErrNotMedia, "not an image"},
		{"data URL bad base64", "data:image/png;base64,!!!not base64!!!", "", "", ErrNotMedia, "base64"},
		{"data URL too large", "data:image/png;base64," + base64.StdEncoding.EncodeToString(make([]byte, 9000)), "", "", ErrTooLarge, "limit"},
		{"ftp", "ftp://example.com/a.png", "", "", ErrScheme, `unsupported URL scheme "ftp"`},
		{"s3", "s3://bucket/a.png", "", "", ErrScheme, `unsupported URL scheme "s3"`},
		{"empty", "  ", "", "", ErrNotFound, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := s.LoadImage(t.Context(), tt.ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("LoadImage error = %v; want %v mentioning %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadImage: %v", err)
			}
			if in.MIME != tt.wantMIME || in.URL != tt.wantURL {
				t.Errorf("got MIME %q URL %q; want %q %q", in.MIME, in.URL, tt.wantMIME, tt.wantURL)
			}
			if tt.wantURL != "" {
				if in.Data != nil || in.DataURL() != tt.wantURL {
					t.Errorf("URL input: Data loaded or DataURL %q; want the URL untouched", in.DataURL())
				}
				return
			}
			if !strings.HasPrefix(in.DataURL(), "data:"+tt.wantMIME+";base64,") {
				t.Errorf("DataURL starts %q; want data:%s;base64,", short(in.DataURL()), tt.wantMIME)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	img := pngBytes(t, 9, 9, 9)
	mux := http.NewServeMux()
	mux.HandleFunc("/a.png", func(w http.ResponseWriter, r *http.Request) { w.Write(img) })
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, r *http.Request) { w.Write(append(img, make([]byte, 5000)...)) })
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html><body>login</body></html>")) })
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/gone.png", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s := newStore(t, Options{MaxInput: 4096, FetchTimeout: 200 * time.Millisecond})

	tests := []struct {
		path    string
		wantErr error
	}{
		{"/a.png", nil},
		{"/big.png", ErrTooLarge},
		{"/page", ErrNotMedia},
		{"/slow.png", context.DeadlineExceeded},
		{"/gone.png", ErrDownload},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			in, err := s.LoadImage(t.Context(), srv.URL+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Fetch(t.Context(), &in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Fetch error = %v; want %v", err, tt.wantErr)
			}
			if err == nil && (!bytes.Equal(in.Data, img) || in.MIME != "image/png") {
				t.Errorf("fetched %d bytes %q; want the PNG", len(in.Data), in.MIME)
			}
			if err != nil && in.Data != nil {
				t.Errorf("a failed fetch left Data set")
			}
		})
	}
	bad := Input{URL: "ftp://x/y.png"}
	if err := s.Fetch(t.Context(), &bad); !errors.Is(err, ErrScheme) {
		t.Errorf("Fetch(ftp) error = %v; want ErrScheme", err)
	}
}

func TestLoadAudio(t *testing.T) {
	dir := t.TempDir()
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...)
	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...)
	files := map[string][]byte{"a.wav": wav, "b.mp3": mp3, "c.txt": []byte("not audio at all"), "d.png": pngBytes(t, 2, 2, 1)}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	s := newStore(t, Options{})
	for name, want := range map[string]string{"a.wav": "audio/wav", "b.mp3": "audio/mpeg", "c.txt": "", "d.png": ""} {
		in, err := s.LoadAudio(t.Context(), filepath.Join(dir, name))
		if want == "" {
			if !errors.Is(err, ErrNotMedia) {
				t.Errorf("LoadAudio(%s) error = %v; want ErrNotMedia", name, err)
			}
			continue
		}
		if err != nil || in.MIME != want {
			t.Errorf("LoadAudio(%s) = %q, %v; want %s", name, in.MIME, err, want)
		}
		if in.Name() != name {
			t.Errorf("Name() = %q; want %q", in.Name(), name)
		}
	}
	os.WriteFile(filepath.Join(dir, "photo.jpg"), pngBytes(t, 2, 2, 1), 0o644)
	for ref, want := range map[string]string{filepath.Join(dir, "photo.jpg"): "photo.png", "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes(t, 2, 2, 1)): "image.png"} {
		in, err := s.LoadImage(t.Context(), ref)
		if err != nil || in.Name() != want {
			t.Errorf("LoadImage(%s).Name() = %q, %v; want %q", short(ref), in.Name(), err, want)
		}
	}
}

func TestPreview(t *testing.T) {
	noise := image.NewNRGBA(image.Rect(0, 0, 1200, 900))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.UintN(256))
	}
	var noisePNG bytes.Buffer
	png.Encode(&noisePNG, noise)

	transparent := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // all pixels transparent black
	var transPNG bytes.Buffer
	png.Encode(&transPNG, transparent)

	tests := []struct {
		name         string
		data         []byte
		maxBytes     int
		wantW, wantH int
	}{
		{"2048 square", pngBytes(t, 2048, 2048, 1), 0, 768, 768},
		{"wide", pngBytes(t, 1600, 400, 1), 0, 768, 192},
		{"tall", pngBytes(t, 300, 1200, 1), 0, 192, 768},
		{"small kept", pngBytes(t, 300, 100, 1), 0, 300, 100},
		{"transparent", transPNG.Bytes(), 0, 40, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jpg, w, h, err := Preview(tt.data, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(jpg))
			if err != nil || format != "jpeg" {
				t.Fatalf("preview is %q (%v); want a JPEG", format, err)
			}
			if cfg.Width != tt.wantW || cfg.Height != tt.wantH || w != tt.wantW || h != tt.wantH {
				t.Errorf("preview %d×%d (reported %d×%d); want %d×%d", cfg.Width, cfg.Height, w, h, tt.wantW, tt.wantH)
			}
			if len(jpg) > DefaultPreviewSize {
				t.Errorf("preview is %d bytes; want at most %d", len(jpg), DefaultPreviewSize)
			}
			if tt.name == "transparent" {
				img, _ := jpeg.Decode(bytes.NewReader(jpg))
				if r, g, b, _ := img.At(20, 20).RGBA(); r>>8 < 240 || g>>8 < 240 || b>>8 < 240 {
					t.Errorf("transparent pixel became %d,%d,%d; want white", r>>8, g>>8, b>>8)
				}
			}
		})
	}

	t.Run("byte budget", func(t *testing.T) {
		for _, budget := range []int{120 << 10, 30 << 10} {
			jpg, w, h, err := Preview(noisePNG.Bytes(), budget)
			if err != nil {
				t.Fatal(err)
			}
			if len(jpg) > budget {
				t.Errorf("noise preview %d bytes (%d×%d); want at most %d", len(jpg), w, h, budget)
			}
		}
	})

	t.Run("not an image", func(t *testing.T) {
		if _, _, _, err := Preview([]byte("<html>"), 0); !errors.Is(err, ErrNotMedia) {
			t.Errorf("Preview(html) error = %v; want ErrNotMedia", err)
		}
	})

	t.Run("file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.png")
		os.WriteFile(p, pngBytes(t, 1000, 500, 3), 0o644)
		_, w, h, err := PreviewFile(p, 0)
		if err != nil || w != 768 || h != 384 {
			t.Errorf("PreviewFile = %d×%d, %v; want 768×384", w, h, err)
		}
	})
}

func TestParseFilenameUnit(t *testing.T) {
	tests := []struct{ in, wantBase, wantExt string }{
		{"cat.png", "cat", ".png"},
		{".hidden", ".hidden", ""},
		{"trailing. ", "trailing", ""},
		{"version 1.2 final", "version 1.2 final", ""},
		{"NUL.txt", "_NUL", ".txt"},
		{"lpt1", "_lpt1", ""},
	}
	for _, tt := range tests {
		f, err := parseFilename(tt.in)
		if err != nil || f.base != tt.wantBase || f.ext != tt.wantExt {
			t.Errorf("parseFilename(%q) = %+v, %v; want base %q ext %q", tt.in, f, err, tt.wantBase, tt.wantExt)
		}
	}
	long := strings.Repeat("é", 200) + ".png"
	f, err := parseFilename(long)
	if err != nil || len(f.base)+len(f.ext) > 180 || f.ext != ".png" || !utf8.ValidString(f.base) {
		t.Errorf("long name: %d bytes, ext %q, %v; want at most 180 bytes of valid UTF-8 ending .png", len(f.base)+len(f.ext), f.ext, err)
	}
}
