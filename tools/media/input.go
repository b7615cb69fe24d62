package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Input is one media input: a local file or data: URL already read (Data
// set), or an http(s) URL (URL set, Data nil until Fetch).
type Input struct {
	Ref  string // what the user gave (a path, URL or data: URL)
	URL  string // the http(s) URL, when the input is one
	MIME string // sniffed type; "" for a URL not yet fetched
	Data []byte // the bytes; nil until loaded

	kind string // "image" or "audio": what Fetch must find
}

// DataURL is the input as a URL a gateway accepts: a data: URL of the
// bytes when they are loaded, else the http(s) URL.
func (in Input) DataURL() string {
	if in.Data == nil {
		return in.URL
	}
	return "data:" + in.MIME + ";base64," + in.Base64()
}

// Base64 is the standard base64 encoding of the loaded bytes.
func (in Input) Base64() string { return base64.StdEncoding.EncodeToString(in.Data) }

// Name is a file name for uploads: the local file's base name with the
// extension of its real type (gateways may judge a file by its name), or one
// made from the type ("image.png").
func (in Input) Name() string {
	ext := Sniff(in.Data).Ext
	if in.URL == "" && !isDataURL(in.Ref) {
		if b := filepath.Base(in.Ref); b != "." && b != string(filepath.Separator) {
			if e := filepath.Ext(b); e != "" && !sameExt(e, ext) {
				b = strings.TrimSuffix(b, e)
			}
			if !sameExt(filepath.Ext(b), ext) {
				b += ext
			}
			return b
		}
	}
	if in.kind == "" {
		return "file" + ext
	}
	return in.kind + ext
}

// reScheme matches a URL scheme followed by "//" (so "C:\x" is a path).
var reScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// LoadImage reads an image input: a local path (read with the input cap,
// type sniffed from the bytes), a data: URL (decoded and checked), or an
// http(s) URL, which is NOT fetched here (see Fetch) so that it can be
// passed on to the gateway as a URL.
func (s *Store) LoadImage(ctx context.Context, ref string) (Input, error) {
	return s.load(ctx, ref, "image")
}

// LoadAudio reads an audio input (wav, mp3, m4a, ogg, flac, webm) the same
// way as LoadImage.
func (s *Store) LoadAudio(ctx context.Context, ref string) (Input, error) {
	return s.load(ctx, ref, "audio")
}

func (s *Store) load(ctx context.Context, ref, kind string) (Input, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Input{}, errorf(ErrNotFound, nil, "empty %s reference: give a local file path, an http(s) URL or a data: URL", kind)
	}
	if err := ctx.Err(); err != nil {
		return Input{}, err
	}
	in := Input{Ref: ref, kind: kind}
	if isDataURL(ref) {
		data, err := decodeDataURL(ref, s.maxInput)
		if err != nil {
			return Input{}, err
		}
		in.Data = data
		return in, checkInput(&in, "the data: URL")
	}
	if m := reScheme.FindStringSubmatch(ref); m != nil {
		switch strings.ToLower(m[1]) {
		case "http", "https":
			u, err := parseHTTPURL(ref)
			if err != nil {
				return Input{}, err
			}
			in.URL = u.String()
			return in, nil
		case "file":
			u, err := url.Parse(ref)
			if err != nil {
				return Input{}, errorf(ErrScheme, err, "%q is not a valid file URL", short(ref))
			}
			return s.loadFile(in, u.Path)
		}
		return Input{}, errorf(ErrScheme, nil, "unsupported URL scheme %q in %q: give a local file path, an http(s) URL or a data: URL", m[1], short(ref))
	}
	return s.loadFile(in, ref)
}

// loadFile reads a local file. A relative path is tried against the working
// directory first, then against the output directory, so that a file name
// from an earlier result works as is.
func (s *Store) loadFile(in Input, path string) (Input, error) {
	if strings.HasPrefix(path, "~/") || strings.HasPrefix(path, `~\`) {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, path[2:])
		}
	}
	candidates := []string{path}
	if !filepath.IsAbs(path) {
		candidates = append(candidates, filepath.Join(s.dir, path))
	}
	var (
		f   *os.File
		err error
	)
	for _, p := range candidates {
		if f, err = os.Open(p); err == nil {
			path = p
			break
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(path)
			return Input{}, errorf(ErrNotFound, err, "file not found: %s (give an absolute path, an http(s) URL or a data: URL)", abs)
		}
		return Input{}, errorf(ErrNotFound, err, "cannot read %s: %v", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Input{}, errorf(ErrNotFound, err, "cannot read %s: %v", path, err)
	}
	if fi.IsDir() {
		return Input{}, errorf(ErrNotFound, nil, "%s is a directory, not %s %s file", path, article(in.kind), in.kind)
	}
	if fi.Size() > s.maxInput {
		return Input{}, errorf(ErrTooLarge, nil, "%s is %s, over the %s limit for input files: make it smaller", path, humanBytes(fi.Size()), humanBytes(s.maxInput))
	}
	data, err := io.ReadAll(io.LimitReader(f, s.maxInput+1))
	if err != nil {
		return Input{}, errorf(ErrNotFound, err, "cannot read %s: %v", path, err)
	}
	if int64(len(data)) > s.maxInput {
		return Input{}, errorf(ErrTooLarge, nil, "%s is over the %s limit for input files: make it smaller", path, humanBytes(s.maxInput))
	}
	in.Data = data
	return in, checkInput(&in, path)
}

// Fetch downloads a URL input's bytes when the gateway needs bytes
// (multipart uploads, base64 fields): http and https only, with the fetch
// timeout and the input cap, type sniffed and checked. It does nothing for
// an input already loaded.
func (s *Store) Fetch(ctx context.Context, in *Input) error {
	if in.Data != nil {
		return nil
	}
	u, err := parseHTTPURL(in.URL)
	if err != nil {
		return err
	}
	src := redact(u)
	ctx, cancel := context.WithTimeout(ctx, s.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.URL, nil)
	if err != nil {
		return errorf(ErrScheme, err, "cannot fetch %s: %v", src, err)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return s.fetchErr(ctx, src, 0, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorf(ErrDownload, nil, "fetch %s: the server answered %s", src, resp.Status)
	}
	if resp.ContentLength > s.maxInput {
		return errorf(ErrTooLarge, nil, "fetch %s: the file is %s, over the %s limit for input files", src, humanBytes(resp.ContentLength), humanBytes(s.maxInput))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.maxInput+1))
	if err != nil {
		return s.fetchErr(ctx, src, int64(len(data)), err)
	}
	if int64(len(data)) > s.maxInput {
		return errorf(ErrTooLarge, nil, "fetch %s: the file is over the %s limit for input files", src, humanBytes(s.maxInput))
	}
	if len(data) == 0 {
		return errorf(ErrNotMedia, nil, "fetch %s: the file is empty", src)
	}
	loaded := *in
	loaded.Data = data
	if err := checkInput(&loaded, src); err != nil {
		return err
	}
	*in = loaded
	return nil
}

func (s *Store) fetchErr(ctx context.Context, src string, n int64, err error) error {
	if ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return errorf(ErrDownload, context.DeadlineExceeded, "fetch %s: not finished within %v; download it and give the local file instead", src, s.fetchTimeout)
	}
	if n > 0 || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(ErrDownload, err, "fetch %s: the transfer was cut after %s (%v)", src, humanBytes(n), scrubURLError(err))
	}
	return errorf(ErrDownload, err, "fetch %s: %v", src, scrubURLError(err))
}

// audioTypes are the audio formats transcription accepts.
var audioTypes = map[string]bool{
	"audio/wav": true, "audio/mpeg": true, "audio/mp4": true, "audio/ogg": true, "audio/flac": true,
	"video/webm": true, "audio/aac": true, "video/mp4": true,
}

// checkInput sniffs in.Data, sets in.MIME, and refuses data of the wrong
// kind; images must also decode (their header, at least).
func checkInput(in *Input, src string) error {
	t := Sniff(in.Data)
	switch in.kind {
	case "image":
		if t.Kind() != "image" {
			return errorf(ErrNotMedia, nil, "%s is not an image (it looks like %s): give a PNG, JPEG, WebP or GIF file", src, describe(in.Data))
		}
		if decodable(t.MIME) {
			if _, _, err := image.DecodeConfig(bytes.NewReader(in.Data)); err != nil {
				return errorf(ErrNotMedia, err, "%s is not a valid image (%s: %v)", src, t.MIME, err)
			}
		}
	case "audio":
		if !audioTypes[t.MIME] {
			return errorf(ErrNotMedia, nil, "%s is not a supported audio file (it looks like %s): give wav, mp3, m4a, ogg, flac or webm", src, describe(in.Data))
		}
		if t.MIME == "video/mp4" {
			t.MIME = "audio/mp4" // an .m4a whose brand is not M4A
		}
	}
	in.MIME = t.MIME
	return nil
}

func isDataURL(s string) bool {
	return len(s) >= 5 && strings.EqualFold(s[:5], "data:")
}

// decodeDataURL decodes "data:[type][;base64],payload", refusing payloads
// over max bytes before decoding them.
func decodeDataURL(ref string, max int64) ([]byte, error) {
	meta, payload, ok := strings.Cut(ref[5:], ",")
	if !ok {
		return nil, errorf(ErrNotMedia, nil, "data: URL %q has no comma before its data", short(ref))
	}
	if !strings.HasSuffix(strings.ToLower(meta), ";base64") {
		data, err := url.PathUnescape(payload)
		if err != nil {
			return nil, errorf(ErrNotMedia, err, "data: URL is neither base64 nor valid percent-encoding")
		}
		if int64(len(data)) > max {
			return nil, errorf(ErrTooLarge, nil, "the data: URL holds %s, over the %s limit", humanBytes(int64(len(data))), humanBytes(max))
		}
		return []byte(data), nil
	}
	if n := int64(base64.StdEncoding.DecodedLen(len(payload))); n > max+3 {
		return nil, errorf(ErrTooLarge, nil, "the data: URL holds about %s, over the %s limit", humanBytes(n), humanBytes(max))
	}
	payload = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, payload)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err := enc.DecodeString(payload); err == nil {
			if int64(len(data)) > max {
				return nil, errorf(ErrTooLarge, nil, "the data: URL holds %s, over the %s limit", humanBytes(int64(len(data))), humanBytes(max))
			}
			if len(data) == 0 {
				return nil, errorf(ErrNotMedia, nil, "the data: URL is empty")
			}
			return data, nil
		}
	}
	return nil, errorf(ErrNotMedia, nil, "the data: URL's data is not valid base64")
}

// String shows the input for messages without its bytes.
func (in Input) String() string {
	if in.URL != "" {
		return in.URL
	}
	if isDataURL(in.Ref) {
		return fmt.Sprintf("data: URL (%s, %s)", in.MIME, humanBytes(int64(len(in.Data))))
	}
	return in.Ref
}
