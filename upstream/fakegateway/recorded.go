package fakegateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Recording is one exchange recorded against new-api, parsed from
// testdata/upstream/<Name>.http.
type Recording struct {
	// Name is the file's base name without .http, e.g. "upstream-429".
	Name string
	// ReqMethod and ReqPath come from the request line; ReqPath has no query,
	// which is in ReqQuery.
	ReqMethod, ReqPath string
	// ReqQuery is the raw query of the request line ("" if none).
	ReqQuery string
	// ReqHeader and ReqBody are the request's headers and body as sent.
	ReqHeader http.Header
	ReqBody   []byte
	// Status is the response status code.
	Status int
	// Header holds the response headers without Transfer-Encoding,
	// Content-Length and Connection, which the server recomputes.
	Header http.Header
	// Body is the exact response body (raw for event streams).
	Body []byte
}

// recordingsDir is testdata/upstream of this module, found from this file's
// location so that tests in any package can load it.
func recordingsDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("locate recordings: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "upstream"), nil
}

// LoadRecording loads and parses testdata/upstream/<name>.http.
func LoadRecording(name string) (Recording, error) {
	dir, err := recordingsDir()
	if err != nil {
		return Recording{}, err
	}
	data, err := os.ReadFile(filepath.Join(dir, name+".http"))
	if err != nil {
		return Recording{}, fmt.Errorf("load recording %s: %w", name, err)
	}
	rec, err := parseRecording(name, data)
	if err != nil {
		return Recording{}, fmt.Errorf("parse recording %s: %w", name, err)
	}
	return rec, nil
}

// Recordings loads every recording, sorted by name.
func Recordings() ([]Recording, error) {
	dir, err := recordingsDir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("list recordings: no .http files in %s", dir)
	}
	slices.Sort(files)
	recs := make([]Recording, 0, len(files))
	for _, f := range files {
		rec, err := LoadRecording(strings.TrimSuffix(filepath.Base(f), ".http"))
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// parseRecording parses the .http format: request line, request headers, a
// blank line, the request body, a line "---", the status line, response
// headers, a blank line and the response body up to the end of the file.
func parseRecording(name string, data []byte) (Recording, error) {
	rec := Recording{Name: name}

	reqLine, rest, ok := cutLine(data)
	if !ok {
		return rec, fmt.Errorf("no request line")
	}
	parts := strings.Fields(reqLine)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/") {
		return rec, fmt.Errorf("bad request line %q", reqLine)
	}
	rec.ReqMethod = parts[0]
	rec.ReqPath, rec.ReqQuery, _ = strings.Cut(parts[1], "?")

	var err error
	rec.ReqHeader, rest, err = parseHeaders(rest)
	if err != nil {
		return rec, fmt.Errorf("request headers: %w", err)
	}

	// The request body runs up to "\n---\n"; an empty body leaves "---\n"
	// right after the blank line.
	if after, found := bytes.CutPrefix(rest, []byte("---\n")); found {
		rest = after
	} else {
		i := bytes.Index(rest, []byte("\n---\n"))
		if i < 0 {
			return rec, fmt.Errorf("no --- separator")
		}
		rec.ReqBody = bytes.Clone(rest[:i])
		rest = rest[i+len("\n---\n"):]
	}

	statusLine, rest, ok := cutLine(rest)
	if !ok {
		return rec, fmt.Errorf("no status line")
	}
	proto, code, _ := strings.Cut(statusLine, " ")
	code, _, _ = strings.Cut(code, " ")
	if !strings.HasPrefix(proto, "HTTP/") {
		return rec, fmt.Errorf("bad status line %q", statusLine)
	}
	if rec.Status, err = strconv.Atoi(code); err != nil || rec.Status < 100 || rec.Status > 599 {
		return rec, fmt.Errorf("bad status line %q", statusLine)
	}

	rec.Header, rest, err = parseHeaders(rest)
	if err != nil {
		return rec, fmt.Errorf("response headers: %w", err)
	}
	// These describe the recorded connection rather than the answer.
	for _, h := range []string{"Transfer-Encoding", "Content-Length", "Connection"} {
		rec.Header.Del(h)
	}
	rec.Body = bytes.Clone(rest)
	return rec, nil
}

// cutLine splits off the first line (without its "\n" or "\r\n").
func cutLine(b []byte) (line string, rest []byte, ok bool) {
	l, rest, ok := bytes.Cut(b, []byte("\n"))
	return string(bytes.TrimSuffix(l, []byte("\r"))), rest, ok
}

// parseHeaders reads "Name: value" lines up to and including a blank line.
func parseHeaders(b []byte) (http.Header, []byte, error) {
	h := make(http.Header)
	for {
		line, rest, ok := cutLine(b)
		if !ok {
			return nil, nil, fmt.Errorf("no blank line after headers")
		}
		b = rest
		if line == "" {
			return h, b, nil
		}
		k, v, found := strings.Cut(line, ":")
		if !found || k == "" || strings.TrimSpace(k) != k {
			return nil, nil, fmt.Errorf("bad header line %q", line)
		}
		h.Add(k, strings.TrimSpace(v))
	}
}

// Replay writes recording name's status, headers and body exactly as
// recorded; event streams are flushed event by event. The recording's
// X-Oneapi-Request-Id replaces the fresh one, so that it matches the id inside
// a recorded error message. A missing recording fails the test.
func (g *Gateway) Replay(w http.ResponseWriter, name string) {
	rec, err := LoadRecording(name)
	if err != nil {
		g.t.Errorf("fakegateway: %v", err)
		http.Error(w, "fakegateway: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRecording(w, rec)
}

// replayTo is Replay for package functions without a Gateway.
func replayTo(w http.ResponseWriter, name string) {
	rec, err := LoadRecording(name)
	if err != nil {
		http.Error(w, "fakegateway: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRecording(w, rec)
}

// replaySubst replays a recording after replacing the string old with repl in
// its body; repl is JSON-escaped because every such body is JSON.
func (g *Gateway) replaySubst(w http.ResponseWriter, name, old, repl string) {
	rec, err := LoadRecording(name)
	if err != nil {
		g.t.Errorf("fakegateway: %v", err)
		http.Error(w, "fakegateway: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if !bytes.Contains(rec.Body, []byte(old)) {
		g.t.Errorf("fakegateway: recording %s does not contain %q", name, old)
	}
	rec.Body = bytes.ReplaceAll(rec.Body, []byte(old), jsonStringContent(repl))
	writeRecording(w, rec)
}

// jsonStringContent is s escaped for use inside a JSON string, with the same
// HTML escaping as encoding/json (and new-api).
func jsonStringContent(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b[1 : len(b)-1]
}

func writeRecording(w http.ResponseWriter, rec Recording) {
	h := w.Header()
	for k, vs := range rec.Header {
		h[k] = slices.Clone(vs)
	}
	w.WriteHeader(rec.Status)
	if !strings.HasPrefix(rec.Header.Get("Content-Type"), "text/event-stream") {
		_, _ = w.Write(rec.Body)
		return
	}
	flusher, _ := w.(http.Flusher)
	body := rec.Body
	for len(body) > 0 {
		n := len(body)
		if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
			n = i + 2
		}
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		body = body[n:]
	}
}
