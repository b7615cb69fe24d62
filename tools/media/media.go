// Package media owns the files the tools take in and give out: it loads
// input images and audio (local paths, http(s) URLs, data: URLs) with size
// caps and type sniffing, saves generated media under the output directory
// with collision-free names, streamed and atomic, and makes small JPEG
// previews an agent can look at. It knows nothing of MCP.
//
// Every error meant for the user is a *Error whose text says what to do; its
// Kind (ErrNotFound, ErrNotMedia, ErrTooLarge, ErrScheme, ErrFilename,
// ErrDownload) can be tested with errors.Is.
package media

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultMaxDownload     = 2 << 30 // bytes saved from one download
	DefaultMaxInput        = 20 << 20
	DefaultFetchTimeout    = 60 * time.Second
	DefaultDownloadTimeout = 10 * time.Minute
)

// Kinds of *Error, for errors.Is.
var (
	ErrNotFound = errors.New("file not found")
	ErrNotMedia = errors.New("not a supported media file")
	ErrTooLarge = errors.New("file too large")
	ErrScheme   = errors.New("unsupported reference")
	ErrFilename = errors.New("invalid file name")
	ErrDownload = errors.New("download failed")
)

// Error is a media failure the user can act on: Msg says what happened and
// what to do. It unwraps to its Kind and to the underlying cause, if any.
type Error struct {
	Kind error  // one of ErrNotFound, ErrNotMedia, ErrTooLarge, ErrScheme, ErrFilename, ErrDownload
	Msg  string // the whole message
	Err  error  // underlying cause, may be nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap gives the kind and the cause, so that errors.Is works with both
// (context.DeadlineExceeded, for instance).
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func errorf(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Options configure a Store; zero fields take the defaults above.
type Options struct {
	Dir             string        // output directory, absolute; created at the first save
	Save            bool          // false: keep URLs only and write nothing (WENWEN_SAVE_MEDIA)
	HTTPClient      *http.Client  // for downloads and fetches; never sends the gateway key
	MaxDownload     int64         // bytes, per saved file (default 2 GiB)
	MaxInput        int64         // bytes, per input file or fetched URL (default 20 MiB)
	FetchTimeout    time.Duration // whole fetch of one input URL (default 60 s)
	DownloadTimeout time.Duration // whole download of one result (default 10 min)
}

// Store loads inputs and saves outputs. It is safe for concurrent use.
type Store struct {
	dir             string
	save            bool
	hc              *http.Client
	maxDownload     int64
	maxInput        int64
	fetchTimeout    time.Duration
	downloadTimeout time.Duration
}

// NewStore checks o and returns a Store. The directory is not created here
// but at the first save, so a server that never saves leaves no trace.
func NewStore(o Options) (*Store, error) {
	dir := strings.TrimSpace(o.Dir)
	if dir == "" {
		return nil, errors.New("media: output directory is empty")
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("media: output directory %q is not absolute", dir)
	}
	if o.MaxDownload < 0 || o.MaxInput < 0 || o.FetchTimeout < 0 || o.DownloadTimeout < 0 {
		return nil, errors.New("media: negative limit")
	}
	s := &Store{
		dir:             filepath.Clean(dir),
		save:            o.Save,
		hc:              o.HTTPClient,
		maxDownload:     o.MaxDownload,
		maxInput:        o.MaxInput,
		fetchTimeout:    o.FetchTimeout,
		downloadTimeout: o.DownloadTimeout,
	}
	if s.hc == nil {
		s.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if s.maxDownload == 0 {
		s.maxDownload = DefaultMaxDownload
	}
	if s.maxInput == 0 {
		s.maxInput = DefaultMaxInput
	}
	if s.fetchTimeout == 0 {
		s.fetchTimeout = DefaultFetchTimeout
	}
	if s.downloadTimeout == 0 {
		s.downloadTimeout = DefaultDownloadTimeout
	}
	return s, nil
}

// Saving reports whether results are written to disk by default
// (false when WENWEN_SAVE_MEDIA is off).
func (s *Store) Saving() bool { return s.save }

// Dir is the output directory.
func (s *Store) Dir() string { return s.dir }

// MaxInput is the size limit of one input file, in bytes.
func (s *Store) MaxInput() int64 { return s.maxInput }

// humanBytes formats n for messages: 512 B, 20 MiB, 2 GiB, 1.5 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	suffix := []string{"KiB", "MiB", "GiB", "TiB"}[exp]
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
