package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func newClient(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithBaseURL(base), WithAPIKey(fakegateway.Key), WithRetry(2, time.Millisecond, 5*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"ftp base", WithBaseURL("ftp://x")},
		{"no host", WithBaseURL("https://")},
		{"query in base", WithBaseURL("https://x?a=1")},
		{"credentials in base", WithBaseURL("https://u:p@x")},
		{"zero timeout", WithTimeout(0)},
		{"bad retry", WithRetry(-1, time.Second, time.Second)},
		{"cap below base", WithRetry(1, time.Second, time.Millisecond)},
		{"key with space", WithAPIKey("sk-a b")},
		{"nil http client", WithHTTPClient(nil)},
		{"empty user agent", WithUserAgent("")},
	}
	for _, tt := range tests {
		if _, err := New(tt.opt); err == nil {
			t.Errorf("%s: New = nil error; want an error", tt.name)
		}
	}
	c, err := New(WithBaseURL("https://api.example.com/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL(); got != "https://api.example.com" {
		t.Errorf("BaseURL() = %q; want the /v1 dropped", got)
	}
}

func TestListModelsBothShapes(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		var opts []fakegateway.Option
		if legacy {
			opts = append(opts, fakegateway.WithLegacyModelList())
		}
		g := fakegateway.New(t, opts...)
		models, err := newClient(t, g.URL).ListModels(t.Context())
		if err != nil {
			t.Fatalf("legacy=%v: ListModels: %v", legacy, err)
		}
		if len(models) != len(g.Models()) {
			t.Errorf("legacy=%v: got %d models; want %d", legacy, len(models), len(g.Models()))
		}
		if got := g.Last(fakegateway.RouteModels).Header.Get("Authorization"); got != "Bearer "+fakegateway.Key {
			t.Errorf("Authorization = %q; want Bearer key", got)
		}
	}
}

func TestNoKeySendsNothing(t *testing.T) {
	g := fakegateway.New(t)
	c, err := New(WithBaseURL(g.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListModels(t.Context()); !errors.Is(err, ErrNoAPIKey) {
		t.Errorf("ListModels without key = %v; want ErrNoAPIKey", err)
	}
	if _, err := c.Chat(t.Context(), &ChatRequest{Model: "gpt-4o-mini"}); !errors.Is(err, ErrNoAPIKey) {
		t.Errorf("Chat without key = %v; want ErrNoAPIKey", err)
	}
	if n := g.Count(fakegateway.RouteModels) + g.Count(fakegateway.RouteChatCompletions); n != 0 {
		t.Errorf("gateway saw %d requests; want 0", n)
	}
}

func TestBadKeyIsAPIError(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL, WithAPIKey("sk-wrongwrongwrong"))
	_, err := c.ListModels(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Kind() != KindBadKey {
		t.Fatalf("ListModels with a bad key = %v; want *APIError KindBadKey", err)
	}
	if n := g.Count(fakegateway.RouteModels); n != 1 {
		t.Errorf("a 401 was sent %d times; want 1 (not retried)", n)
	}
}

// TestGetRetriedPostNot: a GET is retried on transient statuses; a POST is
// sent exactly once whatever the status.
func TestGetRetriedPostNot(t *testing.T) {
	var gets, posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if gets.Add(1) < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(`{"data":[{"id":"m1"}],"object":"list"}`))
			return
		}
		posts.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	models, err := c.ListModels(t.Context())
	if err != nil || len(models) != 1 {
		t.Fatalf("ListModels = %v, %v; want one model after two retries", models, err)
	}
	if n := gets.Load(); n != 3 {
		t.Errorf("GET sent %d times; want 3", n)
	}
	if _, err := c.Chat(t.Context(), &ChatRequest{Model: "m1"}); err == nil {
		t.Fatal("Chat = nil error; want 502")
	}
	if _, err := c.ChatStream(t.Context(), &ChatRequest{Model: "m1"}, nil); err == nil {
		t.Fatal("ChatStream = nil error; want 502")
	}
	if n := posts.Load(); n != 2 {
		t.Errorf("POST sent %d times for 2 calls; want 2 (never retried)", n)
	}
}

func TestFailedPostSentOnceAgainstFake(t *testing.T) {
	for _, model := range []string{fakegateway.ModelFault500, fakegateway.ModelFault429, fakegateway.ModelFault502HTML, fakegateway.ModelFault503CPU} {
		g := fakegateway.New(t)
		c := newClient(t, g.URL)
		_, err := c.ChatStream(t.Context(), &ChatRequest{Model: model, Messages: []ChatMessage{{Role: "user", Content: "hi"}}}, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Errorf("%s: err = %v; want *APIError", model, err)
		}
		if n := g.Count(fakegateway.RouteChatCompletions); n != 1 {
			t.Errorf("%s: POST sent %d times; want 1", model, n)
		}
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", r.URL.Query().Get("after"))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"data":[]}`))
	}))
	t.Cleanup(srv.Close)

	c := newClient(t, srv.URL, WithRetry(1, time.Millisecond, 5*time.Second))
	start := time.Now()
	r := &request{method: http.MethodGet, path: "/v1/models", auth: authBearer, query: map[string][]string{"after": {"1"}}}
	if err := c.do(t.Context(), r, nil); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v; want at least the 1 s of Retry-After", waited)
	}

	n.Store(0)
	c = newClient(t, srv.URL, WithRetry(1, time.Millisecond, 20*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	r.query = map[string][]string{"after": {"3600"}}
	if err := c.do(ctx, r, nil); err != nil {
		t.Errorf("with Retry-After 3600 and a 20 ms cap: %v; want a capped wait and success", err)
	}
}

func TestTimeouts(t *testing.T) {
	g := fakegateway.New(t, fakegateway.WithSlowDelay(5*time.Second))
	c := newClient(t, g.URL, WithTimeout(50*time.Millisecond))
	req := &ChatRequest{Model: fakegateway.ModelFaultSlow, Messages: []ChatMessage{{Role: "user", Content: "hi"}}}
	_, err := c.Chat(t.Context(), req)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Chat past the timeout = %v; want DeadlineExceeded saying how long", err)
	}
	ctx := WithRequestTimeout(t.Context(), 80*time.Millisecond)
	_, err = c.ChatStream(ctx, req, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "80ms") {
		t.Errorf("ChatStream with WithRequestTimeout = %v; want the 80ms deadline", err)
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	const canary = "sk-CANARYcanary1234567890"
	// The gateway echoing the key back must not carry it into our error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"bad key ` + canary + ` and CANARYcanary1234567890","type":"new_api_error"}}`))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, WithAPIKey(canary))
	_, err := c.ListModels(t.Context())
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error = %v; want an error without the key", err)
	}
	// A transport error names the URL; keys must not be in it either.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c = newClient(t, dead.URL, WithAPIKey(canary))
	_, err = c.Chat(t.Context(), &ChatRequest{Model: "m"})
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("transport error = %v; want an error without the key", err)
	}
	if got := redactURL("https://h/v1beta/models/x:generateContent?key=" + canary); strings.Contains(got, "CANARY") {
		t.Errorf("redactURL kept the key: %s", got)
	}
}
