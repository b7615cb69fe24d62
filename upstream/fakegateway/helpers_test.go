package fakegateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// response is what a test request got back; readErr is the error reading the
// body, if the connection broke.
type response struct {
	status  int
	header  http.Header
	body    []byte
	readErr error
}

// send makes a request with ctx; hdr values override the defaults
// (Authorization: Bearer Key, and Content-Type: application/json for a body).
// An empty header value removes the header.
func send(ctx context.Context, t *testing.T, g *Gateway, method, path, body string, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+Key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, readErr := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b, readErr: readErr}
}

// chat posts body to /v1/chat/completions with the default headers.
func chat(t *testing.T, g *Gateway, body string) response {
	t.Helper()
	return send(t.Context(), t, g, http.MethodPost, "/v1/chat/completions", body, nil)
}

func mustRecording(t *testing.T, name string) Recording {
	t.Helper()
	rec, err := LoadRecording(name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return rec
}

// sseEvents splits an event stream into its events (without the blank line).
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Errorf("stream does not end with a blank line: %q", tail(body))
	}
	var events []string
	for e := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		if e != "" {
			events = append(events, e)
		}
	}
	return events
}

// dataChunks decodes the data events that hold JSON objects.
func dataChunks(t *testing.T, events []string) []map[string]any {
	t.Helper()
	var chunks []map[string]any
	for _, e := range events {
		data, ok := strings.CutPrefix(e, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		chunks = append(chunks, m)
	}
	return chunks
}

func tail(b []byte) []byte {
	return b[max(0, len(b)-80):]
}

// errorEnvelopeOf decodes {"error":{…}}.
func errorEnvelopeOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var env struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		t.Fatalf("not an error envelope: %s (%v)", body, err)
	}
	return env.Error
}

// keysOf returns the sorted keys of a JSON object.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not an object: %s", raw)
	}
	return slices.Sorted(maps.Keys(m))
}
