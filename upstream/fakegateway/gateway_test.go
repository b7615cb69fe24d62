package fakegateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const helloBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`

func TestAuth(t *testing.T) {
	badkey := mustRecording(t, "badkey-chat")
	tests := []struct {
		name   string
		opts   []Option
		auth   string
		wantOK bool
	}{
		{"bearer", nil, "Bearer " + Key, true},
		{"raw key without Bearer", nil, Key, true},
		{"key without sk- prefix", nil, "Bearer " + strings.TrimPrefix(Key, "sk-"), true},
		{"wrong key", nil, "Bearer sk-badkey000000000000000000000000000000000000000000", false},
		{"lower-case bearer", nil, "bearer " + Key, false},
		{"missing", nil, "", false},
		{"custom key", []Option{WithKey("sk-canary123")}, "Bearer sk-canary123", true},
		{"default key refused under WithKey", []Option{WithKey("sk-canary123")}, "Bearer " + Key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(t, tt.opts...)
			got := send(t.Context(), t, g, http.MethodPost, "/v1/chat/completions", helloBody,
				map[string]string{"Authorization": tt.auth})
			if tt.wantOK {
				if got.status != http.StatusOK {
					t.Fatalf("status = %d; want 200 (%s)", got.status, got.body)
				}
				return
			}
			if got.status != http.StatusUnauthorized {
				t.Fatalf("status = %d; want 401", got.status)
			}
			if !bytes.Equal(got.body, badkey.Body) {
				t.Errorf("body = %s; want %s", got.body, badkey.Body)
			}
			e := errorEnvelopeOf(t, got.body)
			if e["type"] != "new_api_error" || !strings.HasPrefix(e["message"].(string), "Invalid token") {
				t.Errorf("envelope = %v", e)
			}
			if got, want := g.Count(RouteChatCompletions), 1; got != want {
				t.Errorf("Count = %d; want %d (rejected requests count)", got, want)
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	g := New(t)
	idRE := regexp.MustCompile(`^\d{14}\d{9}[0-9a-f]{8}[A-Za-z0-9]{8}$`)
	for _, path := range []string{"/v1/models", "/v1/models/gpt-4o", "/v1/nope"} {
		got := send(t.Context(), t, g, http.MethodGet, path, "", nil)
		id := got.header.Get(HeaderRequestID)
		if len(id) != 39 || !idRE.MatchString(id) {
			t.Errorf("%s: %s = %q; want new-api's 39-character format", path, HeaderRequestID, id)
		}
		if v := got.header.Get(HeaderAPIVersion); v == "" {
			t.Errorf("%s: no %s", path, HeaderAPIVersion)
		}
	}
	a := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", nil).header.Get(HeaderRequestID)
	b := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", nil).header.Get(HeaderRequestID)
	if a == b {
		t.Errorf("two responses share request id %q", a)
	}
}

func TestUnknownRoute(t *testing.T) {
	g := New(t)
	rec := mustRecording(t, "unknown-route")
	got := send(t.Context(), t, g, http.MethodPost, "/v1/xyz", "{}", nil)
	if got.status != http.StatusNotFound || !bytes.Equal(got.body, rec.Body) {
		t.Errorf("POST /v1/xyz = %d %s; want 404 %s", got.status, got.body, rec.Body)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/v1/chat/completions"},
		{http.MethodPost, "/v1/models"},
		{http.MethodDelete, "/v1/files/abc"},
	} {
		got := send(t.Context(), t, g, tt.method, tt.path, "", nil)
		if got.status != http.StatusNotFound {
			t.Errorf("%s %s: status = %d; want 404", tt.method, tt.path, got.status)
		}
		want := "Invalid URL (" + tt.method + " " + tt.path + ")"
		if e := errorEnvelopeOf(t, got.body); e["message"] != want || e["type"] != "invalid_request_error" {
			t.Errorf("%s %s: error = %v; want message %q", tt.method, tt.path, e, want)
		}
		if n := g.Count(tt.method + " " + tt.path); n != 1 {
			t.Errorf("Count(%s %s) = %d; want 1", tt.method, tt.path, n)
		}
	}
}

func TestCountAndLast(t *testing.T) {
	g := New(t)
	if g.Count(RouteChatCompletions) != 0 || g.Last(RouteChatCompletions).Method != "" {
		t.Fatal("fresh gateway has requests")
	}
	chat(t, g, helloBody)
	send(t.Context(), t, g, http.MethodPost, "/v1/chat/completions", helloBody, map[string]string{"Authorization": "Bearer nope"})
	last := `{"model":"gpt-4o","messages":[{"role":"user","content":"second"}]}`
	send(t.Context(), t, g, http.MethodPost, "/v1/chat/completions?trace=1", last, map[string]string{"X-Trace": "abc"})

	if got := g.Count(RouteChatCompletions); got != 3 {
		t.Errorf("Count(chat) = %d; want 3", got)
	}
	req := g.Last(RouteChatCompletions)
	if req.Method != http.MethodPost || req.Path != "/v1/chat/completions" || req.RawQuery != "trace=1" {
		t.Errorf("Last = %s %s ? %s", req.Method, req.Path, req.RawQuery)
	}
	if string(req.Body) != last {
		t.Errorf("Last.Body = %s; want %s", req.Body, last)
	}
	if req.Header.Get("X-Trace") != "abc" || req.Header.Get("Authorization") != "Bearer "+Key {
		t.Errorf("Last.Header = %v", req.Header)
	}
	req.Body[0] = 'X' // Last returns a copy
	if g.Last(RouteChatCompletions).Body[0] != '{' {
		t.Error("Last shares its body with the caller")
	}

	send(t.Context(), t, g, http.MethodGet, "/v1/models/gpt-4o", "", nil)
	send(t.Context(), t, g, http.MethodGet, "/v1/models/dall-e-3", "", nil)
	if got := g.Count(RouteModel); got != 2 {
		t.Errorf("Count(%s) = %d; want 2", RouteModel, got)
	}
	if got := g.Count("GET /v1/models/gpt-4o"); got != 1 {
		t.Errorf("Count(GET /v1/models/gpt-4o) = %d; want 1", got)
	}
	if got := g.Last(RouteModel).Path; got != "/v1/models/dall-e-3" {
		t.Errorf("Last(%s).Path = %q", RouteModel, got)
	}
	if got := g.Count(RouteModels); got != 0 {
		t.Errorf("Count(%s) = %d; want 0", RouteModels, got)
	}
}

func TestMaxInFlight(t *testing.T) {
	g := New(t)
	const n = 3
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	g.Handle("GET /block", func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
	})

	chat(t, g, helloBody)
	if got := g.MaxInFlight(); got != 1 {
		t.Errorf("MaxInFlight after one request = %d; want 1", got)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { send(t.Context(), t, g, http.MethodGet, "/block", "", nil) })
	}
	wg.Wait()
	if got := g.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight = %d; want %d", got, n)
	}
	if got := g.Count("GET /block"); got != n {
		t.Errorf("Count(GET /block) = %d; want %d", got, n)
	}
}

func TestSlowWaitHonoursCancel(t *testing.T) {
	g := New(t, WithSlowDelay(time.Hour))
	for _, stream := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		body := `{"model":"fault-slow","messages":[{"role":"user","content":"hi"}],"stream":` + map[bool]string{false: "false", true: "true"}[stream] + `}`
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+Key)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("stream=%v: got a response after %v; want the wait to outlast the deadline", stream, time.Since(start))
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("stream=%v: err = %v; want deadline exceeded", stream, err)
		}
		cancel()
	}
	// The handlers must have returned on their own, long before the gateway closes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		g.mu.Lock()
		n := g.inFlight
		g.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d handlers still waiting after the clients went away", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
