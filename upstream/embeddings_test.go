package upstream

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestEmbed(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	dims := 64
	for _, format := range []string{"", "base64"} {
		t.Run("format "+format, func(t *testing.T) {
			resp, err := c.Embed(t.Context(), &EmbeddingRequest{Model: "text-embedding-3-small", Input: []string{"a cat", "a dog", "a cat"}, Dimensions: &dims, EncodingFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Data) != 3 {
				t.Fatalf("%d vectors; want 3", len(resp.Data))
			}
			// The fake lists vectors out of order: they must come back by index.
			for i, e := range resp.Data {
				want := fakegateway.FakeEmbedding([]string{"a cat", "a dog", "a cat"}[i], dims)
				if e.Index != i || len(e.Embedding) != dims {
					t.Fatalf("vector %d: index %d, %d dims; want %d, %d", i, e.Index, len(e.Embedding), i, dims)
				}
				for j := range want {
					if d := e.Embedding[j] - want[j]; d > 1e-6 || d < -1e-6 {
						t.Fatalf("vector %d[%d] = %v; want %v", i, j, e.Embedding[j], want[j])
					}
				}
			}
			if resp.Usage.TotalTokens == 0 {
				t.Error("no usage")
			}
		})
	}
	var body map[string]any
	_ = json.Unmarshal(g.Last(fakegateway.RouteEmbeddings).Body, &body)
	if body["dimensions"] != 64.0 || body["encoding_format"] != "base64" {
		t.Errorf("body %v; want dimensions and encoding_format sent", body)
	}
}

func TestEmbedErrors(t *testing.T) {
	g := fakegateway.New(t)
	tests := []struct {
		name, key, model string
		kind             Kind
	}{
		{"bad key", "sk-wrong00000000", "text-embedding-3-small", KindBadKey},
		{"unknown model", fakegateway.Key, "embed-9", KindModelNotFound},
		{"not an embedding model", fakegateway.Key, "gpt-4o", KindBadRequest},
		{"server error", fakegateway.Key, fakegateway.ModelFault500, KindUpstreamFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, g.URL, WithAPIKey(tt.key))
			_, err := c.Embed(t.Context(), &EmbeddingRequest{Model: tt.model, Input: []string{"x"}})
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Kind() != tt.kind {
				t.Fatalf("err = %v; want kind %v", err, tt.kind)
			}
		})
	}
	c := newClient(t, g.URL)
	for _, m := range []string{fakegateway.ModelFaultBadJSON, fakegateway.ModelFaultCut} {
		if _, err := c.Embed(t.Context(), &EmbeddingRequest{Model: m, Input: []string{"x"}}); err == nil {
			t.Errorf("%s: no error", m)
		}
	}
	// Fewer vectors than inputs is a malformed answer, not a silent gap.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[{"index":0,"embedding":[0.1,0.2]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`))
	}))
	t.Cleanup(srv.Close)
	c = newClient(t, srv.URL)
	if _, err := c.Embed(t.Context(), &EmbeddingRequest{Model: "m", Input: []string{"a", "b"}}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("err = %v; want ErrMalformedResponse", err)
	}
}
