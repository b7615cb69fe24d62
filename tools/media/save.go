package media

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	// Decoders for image.DecodeConfig and image.Decode.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// SaveOptions say how one file is saved.
type SaveOptions struct {
	Filename string // optional name chosen by the user, relative to the output directory
	Kind     string // "image", "video", "audio": the file must be of this kind; "" accepts anything
	Index    int    // the file's position in one result (0-based): a Filename gets -2, -3... after the first
	Save     *bool  // per-call override of Saving(); nil keeps the default
}

// Saved describes a result file.
type Saved struct {
	Path          string // absolute path on disk; "" when not saved
	URL           string // the http(s) URL it came from, if any
	MIME          string // sniffed from the bytes; "" when nothing was read
	Bytes         int64
	Width, Height int // images only, when the format is decodable
}

func (s *Store) saving(o SaveOptions) bool {
	if o.Save != nil {
		return *o.Save
	}
	return s.save
}

// SaveURL saves the file at url (http, https or a data: URL) under the
// output directory. The download is streamed to a temporary file in the
// target directory with the download timeout and size cap, its type is
// sniffed from the bytes, and it is renamed into place only when complete:
// a failed or cut download leaves nothing behind, and no existing file is
// ever replaced. When saving is off it returns Saved{URL: url} without
// downloading anything (a data: URL is then only measured).
func (s *Store) SaveURL(ctx context.Context, rawURL string, o SaveOptions) (Saved, error) {
	rawURL = strings.TrimSpace(rawURL)
	if isDataURL(rawURL) {
		data, err := decodeDataURL(rawURL, s.maxDownload)
		if err != nil {
			return Saved{}, err
		}
		return s.SaveBytes(ctx, data, o)
	}
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return Saved{}, err
	}
	name, err := parseFilename(o.Filename)
	if err != nil {
		return Saved{}, err
	}
	if !s.saving(o) {
		return Saved{URL: rawURL}, nil
	}
	parent, shown, err := s.prepareDir(name.dirs)
	if err != nil {
		return Saved{}, err
	}
	src := redact(u)

	ctx, cancel := context.WithTimeout(ctx, s.downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Saved{}, errorf(ErrScheme, err, "cannot download %s: %v", src, err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return Saved{}, s.transferErr(ctx, "download", src, 0, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Saved{}, errorf(ErrDownload, nil, "download %s: the server answered %s; the link may have expired, so generate again", src, resp.Status)
	}
	if resp.ContentLength > s.maxDownload {
		return Saved{}, errorf(ErrTooLarge, nil, "download %s: the file is %s, over the %s limit", src, humanBytes(resp.ContentLength), humanBytes(s.maxDownload))
	}
	saved, err := s.write(ctx, resp.Body, o, name, parent, shown, src)
	if err != nil {
		return Saved{}, err
	}
	saved.URL = rawURL
	return saved, nil
}

// SaveBytes saves data (a base64 answer already decoded) the same way as
// SaveURL. When saving is off nothing is written and the result has no Path,
// only the sniffed type, size and image dimensions.
func (s *Store) SaveBytes(ctx context.Context, data []byte, o SaveOptions) (Saved, error) {
	name, err := parseFilename(o.Filename)
	if err != nil {
		return Saved{}, err
	}
	const src = "the gateway's inline data"
	if int64(len(data)) > s.maxDownload {
		return Saved{}, errorf(ErrTooLarge, nil, "%s is %s, over the %s limit", src, humanBytes(int64(len(data))), humanBytes(s.maxDownload))
	}
	if !s.saving(o) {
		t, w, h, err := check(data, o.Kind, src, bytes.NewReader(data))
		if err != nil {
			return Saved{}, err
		}
		return Saved{MIME: t.MIME, Bytes: int64(len(data)), Width: w, Height: h}, nil
	}
	parent, shown, err := s.prepareDir(name.dirs)
	if err != nil {
		return Saved{}, err
	}
	return s.write(ctx, bytes.NewReader(data), o, name, parent, shown, src)
}

// SaveReader streams r into a file the same way as SaveURL (for answers
// such as GET /v1/videos/{id}/content). When saving is off it reads nothing
// and returns a zero Saved: callers decide before asking for the content.
func (s *Store) SaveReader(ctx context.Context, r io.Reader, o SaveOptions) (Saved, error) {
	name, err := parseFilename(o.Filename)
	if err != nil {
		return Saved{}, err
	}
	if !s.saving(o) {
		return Saved{}, nil
	}
	parent, shown, err := s.prepareDir(name.dirs)
	if err != nil {
		return Saved{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.downloadTimeout)
	defer cancel()
	return s.write(ctx, r, o, name, parent, shown, "the gateway's stream")
}

// write copies r into a temporary file in parent, checks it, and links it
// under its final name. shown is parent as the user configured it (without
// resolved symlinks), used for the returned path.
func (s *Store) write(ctx context.Context, r io.Reader, o SaveOptions, name filename, parent, shown, src string) (saved Saved, err error) {
	tmp, err := os.CreateTemp(parent, ".wenwen-*.part")
	if err != nil {
		return Saved{}, errorf(ErrDownload, err, "save %s: cannot write in %s: %v; check WENWEN_OUTPUT_DIR", src, s.dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName) // after a link, the final name keeps the data; after a failure, nothing stays
	}()

	sum := sha256.New()
	head := &headWriter{max: sniffLen}
	n, err := io.Copy(io.MultiWriter(tmp, sum, head), io.LimitReader(ctxReader{ctx, r}, s.maxDownload+1))
	if err != nil {
		return Saved{}, s.transferErr(ctx, "save", src, n, err)
	}
	if n > s.maxDownload {
		return Saved{}, errorf(ErrTooLarge, nil, "save %s: the file is larger than the %s limit; nothing was saved", src, humanBytes(s.maxDownload))
	}
	if n == 0 {
		return Saved{}, errorf(ErrDownload, nil, "save %s: the file is empty; generate again", src)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Saved{}, errorf(ErrDownload, err, "save %s: %v", src, err)
	}
	t, w, h, err := check(head.buf, o.Kind, src, bufio.NewReader(tmp))
	if err != nil {
		return Saved{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Saved{}, errorf(ErrDownload, err, "save %s: %v", src, err)
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return Saved{}, errorf(ErrDownload, err, "save %s: %v", src, err)
	}
	tmp = nil
	_ = os.Chmod(tmpName, 0o644) // CreateTemp makes 0600; these are the user's ordinary files

	base := name.base
	if base == "" {
		base = time.Now().Format("20060102-150405") + "-" + hex.EncodeToString(sum.Sum(nil))[:8]
	} else if o.Index > 0 {
		base = fmt.Sprintf("%s-%d", base, o.Index+1)
	}
	ext := name.extFor(t.Ext)
	final, err := linkUnique(tmpName, parent, base, ext)
	if err != nil {
		return Saved{}, errorf(ErrDownload, err, "save %s: cannot create the file in %s: %v", src, shown, err)
	}
	return Saved{Path: filepath.Join(shown, final), MIME: t.MIME, Bytes: n, Width: w, Height: h}, nil
}

// check sniffs head, enforces kind, and reads image dimensions from r.
func check(head []byte, kind, src string, r io.Reader) (t Type, w, h int, err error) {
	t = Sniff(head)
	if kind != "" && t.Kind() != kind {
		return t, 0, 0, errorf(ErrNotMedia, nil, "%s is not %s %s (it looks like %s)", src, article(kind), kind, describe(head))
	}
	if t.Kind() == "image" && decodable(t.MIME) {
		cfg, _, err := image.DecodeConfig(r)
		if err != nil {
			return t, 0, 0, errorf(ErrNotMedia, err, "%s is not a valid image (%s: %v)", src, t.MIME, err)
		}
		w, h = cfg.Width, cfg.Height
	}
	return t, w, h, nil
}

func article(kind string) string {
	if kind == "image" || kind == "audio" {
		return "an"
	}
	return "a"
}

// decodable reports whether the registered decoders read this image type.
func decodable(mime string) bool {
	switch mime {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// linkUnique gives tmp the name base+ext in dir, or base-2+ext, base-3+ext...
// when taken. A hard link never replaces an existing file; where links are
// not supported the name is reserved with O_EXCL and tmp renamed onto it.
func linkUnique(tmp, dir, base, ext string) (string, error) {
	for i := 1; i <= 1000; i++ {
		name := base + ext
		if i > 1 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		p := filepath.Join(dir, name)
		err := os.Link(tmp, p)
		if err == nil {
			return name, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		f.Close()
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(p)
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("%s-2%s to %s-1000%s are all taken", base, ext, base, ext)
}

// transferErr explains a failed transfer: a deadline, a cut, or another
// network error.
func (s *Store) transferErr(ctx context.Context, op, src string, n int64, err error) error {
	switch {
	case ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		return errorf(ErrDownload, context.DeadlineExceeded, "%s %s: not finished within %v (%s received); nothing was saved, try again", op, src, s.downloadTimeout, humanBytes(n))
	case errors.Is(err, context.Canceled):
		return errorf(ErrDownload, err, "%s %s: cancelled", op, src)
	case n > 0 || errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(ErrDownload, err, "%s %s: the transfer was cut after %s (%v); nothing was saved, try again", op, src, humanBytes(n), scrubURLError(err))
	}
	return errorf(ErrDownload, err, "%s %s: %v", op, src, scrubURLError(err))
}

// scrubURLError drops the URL a *url.Error repeats (it may carry a signed
// query); the message already names the redacted source.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf []byte
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ctxReader stops a copy between reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// filename is a validated user file name: directories below the output
// directory, and a base name with its extension split off.
type filename struct {
	dirs []string
	base string // "" when the user gave none
	ext  string // the user's extension, "" if none
}

// extFor is the extension to use for a file of sniffed extension sniffed:
// the user's when it matches, the sniffed one when the user's is another
// media extension or missing, otherwise both (notes.txt -> notes.txt.png).
func (f filename) extFor(sniffed string) string {
	switch {
	case f.ext == "":
		return sniffed
	case sameExt(f.ext, sniffed):
		return f.ext
	case knownExts[strings.ToLower(f.ext)]:
		return sniffed
	}
	return f.ext + sniffed
}

// CheckFilename reports whether a user file name is acceptable (relative,
// without ".."), so that tools can refuse it before doing paid work. Symlink
// escapes are found only when saving.
func CheckFilename(name string) error {
	_, err := parseFilename(name)
	return err
}

// parseFilename checks a user file name: relative, without "..", each part
// made safe for Windows, macOS and Linux. An empty name is allowed.
func parseFilename(raw string) (filename, error) {
	name := strings.TrimSpace(raw)
	if name == "" {
		return filename{}, nil
	}
	if strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || strings.HasPrefix(name, "~") ||
		filepath.IsAbs(name) || filepath.VolumeName(name) != "" || len(name) >= 2 && name[1] == ':' {
		return filename{}, errorf(ErrFilename, nil, "filename %q is an absolute path: give a name relative to the output directory (WENWEN_OUTPUT_DIR), such as \"cat.png\" or \"cats/cat.png\"", raw)
	}
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, `\`) {
		return filename{}, errorf(ErrFilename, nil, "filename %q has no file name: give one such as \"cat.png\"", raw)
	}
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' })
	var clean []string
	for _, p := range parts {
		switch strings.TrimSpace(p) {
		case ".":
			continue
		case "..":
			return filename{}, errorf(ErrFilename, nil, "filename %q leaves the output directory (..): give a name inside it, such as \"cat.png\" or \"cats/cat.png\"", raw)
		}
		clean = append(clean, safeComponent(p))
	}
	if len(clean) == 0 {
		return filename{}, errorf(ErrFilename, nil, "filename %q has no file name: give one such as \"cat.png\"", raw)
	}
	if len(clean) > 16 {
		return filename{}, errorf(ErrFilename, nil, "filename %q is nested too deep", raw)
	}
	last := clean[len(clean)-1]
	ext := filepath.Ext(last)
	if ext == last || len(ext) > 6 || strings.ContainsAny(ext, " ") {
		ext = "" // ".hidden" or "name.with.long tail" are not extensions
	}
	return filename{dirs: clean[:len(clean)-1], base: strings.TrimSuffix(last, ext), ext: ext}, nil
}

// windowsReserved are device names Windows refuses as file names, with or
// without an extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// safeComponent makes one path part valid on every system: characters
// Windows refuses become _, trailing dots and spaces go, device names get a
// leading _, and the length stays under common limits.
func safeComponent(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"|?*`, r) || r == utf8.RuneError {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	s := strings.TrimLeft(strings.TrimRight(b.String(), ". "), " ")
	if s == "" {
		s = "_"
	}
	stem, _, _ := strings.Cut(s, ".")
	if windowsReserved[strings.ToUpper(strings.TrimSpace(stem))] {
		s = "_" + s
	}
	const maxLen = 180 // bytes; most file systems allow 255
	if len(s) > maxLen {
		ext := filepath.Ext(s)
		if len(ext) > 6 {
			ext = ""
		}
		cut := maxLen - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}

// prepareDir creates the output directory and the user's subdirectories,
// refusing any that is a symlink leading out of the output directory. It
// returns the real directory and the same as configured, for display.
func (s *Store) prepareDir(dirs []string) (real, shown string, err error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return "", "", errorf(ErrDownload, err, "cannot create the output directory %s: %v; set WENWEN_OUTPUT_DIR to a writable directory", s.dir, err)
	}
	root, err := filepath.EvalSymlinks(s.dir)
	if err != nil {
		return "", "", errorf(ErrDownload, err, "cannot use the output directory %s: %v", s.dir, err)
	}
	cur, shown := root, s.dir
	for _, d := range dirs {
		next := filepath.Join(cur, d)
		shown = filepath.Join(shown, d)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(next, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", "", errorf(ErrFilename, err, "cannot create directory %s: %v", shown, err)
			}
			fi, err = os.Lstat(next)
		}
		if err != nil {
			return "", "", errorf(ErrFilename, err, "cannot use directory %s: %v", shown, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(next)
			if err != nil || !within(root, target) {
				return "", "", errorf(ErrFilename, err, "filename leaves the output directory: %s is a symbolic link to a place outside %s", shown, s.dir)
			}
			next = target
			if fi, err = os.Stat(next); err != nil {
				return "", "", errorf(ErrFilename, err, "cannot use directory %s: %v", shown, err)
			}
		}
		if !fi.IsDir() {
			return "", "", errorf(ErrFilename, nil, "cannot save under %s: it is a file, not a directory", shown)
		}
		cur = next
	}
	return cur, shown, nil
}

// within reports whether p is root or inside it (both cleaned and real).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// parseHTTPURL accepts absolute http and https URLs with a host.
func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errorf(ErrScheme, err, "%q is not a valid URL: %v", short(raw), err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, errorf(ErrScheme, nil, "unsupported URL scheme %q in %q: only http and https URLs (or data: URLs and local files) can be used", u.Scheme, short(raw))
	}
	if u.Host == "" {
		return nil, errorf(ErrScheme, nil, "URL %q has no host", short(raw))
	}
	return u, nil
}

// redact shows a URL without its query and credentials: signed links carry
// tokens, and messages do not need them.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

// short cuts long references (data: URLs) for messages.
func short(s string) string {
	if len(s) <= 120 {
		return s
	}
	cut := 100
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
