package fakegateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// recordedContentLength returns the Content-Length recorded in the response
// part of a .http file, or -1.
func recordedContentLength(t *testing.T, name string) int {
	t.Helper()
	dir, err := recordingsDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	_, resp, _ := bytes.Cut(data, []byte("\n---\n"))
	m := regexp.MustCompile(`(?m)^Content-Length: (\d+)$`).FindSubmatch(resp)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestRecordingsParse(t *testing.T) {
	recs, err := Recordings()
	if err != nil {
		t.Fatalf("Recordings: %v", err)
	}
	if got, want := len(recs), 88; got != want {
		t.Errorf("got %d recordings; want %d", got, want)
	}
	notJSON := []string{"body-empty", "body-not-json", "body-not-json-zh"}
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			if rec.ReqMethod != http.MethodGet && rec.ReqMethod != http.MethodPost {
				t.Errorf("ReqMethod = %q", rec.ReqMethod)
			}
			if !strings.HasPrefix(rec.ReqPath, "/") || strings.Contains(rec.ReqPath, "?") {
				t.Errorf("ReqPath = %q", rec.ReqPath)
			}
			if rec.Status < 200 || rec.Status > 599 {
				t.Errorf("Status = %d", rec.Status)
			}
			if id := rec.Header.Get(HeaderRequestID); len(id) != 39 {
				t.Errorf("%s = %q; want 39 characters", HeaderRequestID, id)
			}
			for _, h := range []string{"Transfer-Encoding", "Content-Length", "Connection"} {
				if _, ok := rec.Header[h]; ok {
					t.Errorf("Header has %s; want it dropped", h)
				}
			}
			if n := recordedContentLength(t, rec.Name); n >= 0 && n != len(rec.Body) {
				t.Errorf("len(Body) = %d; recorded Content-Length %d", len(rec.Body), n)
			}
			if rec.ReqHeader.Get("Content-Type") == "application/json" && !slices.Contains(notJSON, rec.Name) && !json.Valid(rec.ReqBody) {
				t.Errorf("ReqBody is not JSON: %q", rec.ReqBody)
			}
			// One recording stands in "<N bytes binary body>" for its upload.
			multipart := strings.HasPrefix(rec.ReqHeader.Get("Content-Type"), "multipart/") && bytes.HasPrefix(rec.ReqBody, []byte("--"))
			if multipart && !bytes.HasSuffix(rec.ReqBody, []byte("--\r\n")) {
				t.Errorf("multipart ReqBody does not end with the closing boundary: %q", tail(rec.ReqBody))
			}
		})
	}
}

func TestParseRecording(t *testing.T) {
	data := "GET /v1beta/models?key=sk-x HTTP/1.1\n" +
		"Accept: */*\n" +
		"\n" +
		"---\n" +
		"HTTP/1.1 429 Too Many Requests\n" +
		"Connection: keep-alive\n" +
		"X-Test: a\n" +
		"X-Test: b\n" +
		"\n" +
		"line 1\n\nline 3"
	rec, err := parseRecording("t", []byte(data))
	if err != nil {
		t.Fatalf("parseRecording: %v", err)
	}
	if rec.ReqMethod != "GET" || rec.ReqPath != "/v1beta/models" || rec.ReqQuery != "key=sk-x" {
		t.Errorf("request line = %q %q %q", rec.ReqMethod, rec.ReqPath, rec.ReqQuery)
	}
	if rec.ReqBody != nil {
		t.Errorf("ReqBody = %q; want none", rec.ReqBody)
	}
	if rec.Status != 429 {
		t.Errorf("Status = %d; want 429", rec.Status)
	}
	if got := rec.Header.Values("X-Test"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("X-Test = %q", got)
	}
	if rec.Header.Get("Connection") != "" {
		t.Errorf("Connection kept")
	}
	if got, want := string(rec.Body), "line 1\n\nline 3"; got != want {
		t.Errorf("Body = %q; want %q", got, want)
	}

	for name, bad := range map[string]string{
		"no separator":   "GET / HTTP/1.1\n\nbody",
		"bad status":     "GET / HTTP/1.1\n\n---\nHTTP/1.1 OK\n\n",
		"bad header":     "GET / HTTP/1.1\nnocolon\n\n---\nHTTP/1.1 200 OK\n\n",
		"no blank line":  "GET / HTTP/1.1\n\n---\nHTTP/1.1 200 OK\nA: b",
		"bad request ln": "GET /\n\n---\nHTTP/1.1 200 OK\n\n",
	} {
		if _, err := parseRecording(name, []byte(bad)); err == nil {
			t.Errorf("%s: parseRecording succeeded; want an error", name)
		}
	}
}

func TestLoadRecordingMissing(t *testing.T) {
	if _, err := LoadRecording("no-such-recording"); err == nil {
		t.Fatal("LoadRecording succeeded; want an error")
	}
}

func TestReplayExact(t *testing.T) {
	g := New(t)
	g.Handle("GET /replay/{name}", func(w http.ResponseWriter, r *http.Request) {
		g.Replay(w, r.PathValue("name"))
	})
	recs, err := Recordings()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		t.Run(rec.Name, func(t *testing.T) {
			got := send(t.Context(), t, g, http.MethodGet, "/replay/"+rec.Name, "", nil)
			if got.readErr != nil {
				t.Fatalf("read body: %v", got.readErr)
			}
			if got.status != rec.Status {
				t.Errorf("status = %d; want %d", got.status, rec.Status)
			}
			for k, want := range rec.Header {
				if v := got.header.Values(k); !slices.Equal(v, want) {
					t.Errorf("header %s = %q; want %q", k, v, want)
				}
			}
			if _, ok := rec.Header["Content-Type"]; !ok && got.header.Get("Content-Type") != "" {
				t.Errorf("Content-Type = %q; want none", got.header.Get("Content-Type"))
			}
			if !bytes.Equal(got.body, rec.Body) {
				t.Errorf("body differs:\n got %q\nwant %q", got.body, rec.Body)
			}
		})
	}
	if got, want := g.Count("GET /replay/{name}"), len(recs); got != want {
		t.Errorf("Count(pattern) = %d; want %d", got, want)
	}
}
