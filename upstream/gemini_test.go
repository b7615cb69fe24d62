package upstream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestGenerateContentImage(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	resp, err := c.GenerateContent(t.Context(), fakegateway.GeminiImageModel, &GenerateContentRequest{
		Contents:         []GeminiContent{{Role: "user", Parts: []GeminiPart{{Text: "a cat"}}}},
		GenerationConfig: &GenerationConfig{ResponseModalities: []string{"TEXT", "IMAGE"}, ImageConfig: &ImageConfig{AspectRatio: "16:9"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	blobs := resp.Blobs()
	if len(blobs) != 1 || blobs[0].MIMEType != "image/png" {
		t.Fatalf("blobs %d (%+v); want one image/png", len(blobs), resp.Candidates)
	}
	data, _ := base64.StdEncoding.DecodeString(blobs[0].Data)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 1344 || cfg.Height != 768 {
		t.Errorf("image %d×%d (%v); want 1344×768 for 16:9", cfg.Width, cfg.Height, err)
	}
	if resp.Text() == "" || resp.UsageMetadata == nil || resp.UsageMetadata.TotalTokenCount == 0 {
		t.Errorf("text %q usage %+v; want both", resp.Text(), resp.UsageMetadata)
	}
	last := g.Last("POST /v1beta/models/" + fakegateway.GeminiImageModel + ":generateContent")
	if last.Header.Get("X-Goog-Api-Key") != fakegateway.Key || last.RawQuery != "" || last.Header.Get("Authorization") != "" {
		t.Errorf("auth: x-goog-api-key %q, query %q, Authorization %q; want the key in x-goog-api-key only",
			last.Header.Get("X-Goog-Api-Key"), last.RawQuery, last.Header.Get("Authorization"))
	}
	if !strings.Contains(string(last.Body), `"responseModalities":["TEXT","IMAGE"]`) {
		t.Errorf("body %s; want responseModalities", last.Body)
	}
}

func TestGenerateContentEditSendsInlineData(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	in := fakegateway.ImagePNG(300, 200, 4)
	resp, err := c.GenerateContent(t.Context(), fakegateway.GeminiImageModel, &GenerateContentRequest{
		Contents: []GeminiContent{{Role: "user", Parts: []GeminiPart{
			{Text: "make it golden"},
			{InlineData: &GeminiBlob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString(in)}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := base64.StdEncoding.DecodeString(resp.Blobs()[0].Data)
	cfg, _, _ := image.DecodeConfig(bytes.NewReader(data))
	if cfg.Width != 300 || cfg.Height != 200 {
		t.Errorf("edited image %d×%d; want the input's 300×200", cfg.Width, cfg.Height)
	}

	// A part that is not an image is refused, as Gemini does.
	_, err = c.GenerateContent(t.Context(), fakegateway.GeminiImageModel, &GenerateContentRequest{
		Contents: []GeminiContent{{Parts: []GeminiPart{{InlineData: &GeminiBlob{MIMEType: "image/png", Data: base64.StdEncoding.EncodeToString([]byte("text"))}}}}},
	})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("bad inline image: error %v; want a 400", err)
	}
}

func TestGeminiPartBothSpellings(t *testing.T) {
	for _, body := range []string{
		`{"candidates":[{"content":{"parts":[{"text":"hi"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}}]}`,
		`{"candidates":[{"content":{"parts":[{"text":"hi"},{"inline_data":{"mime_type":"image/png","data":"AAAA"}}]}}]}`,
	} {
		var r GenerateContentResponse
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if b := r.Blobs(); len(b) != 1 || b[0].MIMEType != "image/png" || b[0].Data != "AAAA" {
			t.Errorf("%s: blobs %+v; want one image/png AAAA", body, b)
		}
	}
	// Written in camelCase, the canonical spelling.
	b, _ := json.Marshal(GeminiPart{InlineData: &GeminiBlob{MIMEType: "image/png", Data: "AAAA"}})
	if string(b) != `{"inlineData":{"mimeType":"image/png","data":"AAAA"}}` {
		t.Errorf("marshal = %s", b)
	}
}

func TestGenerateContentErrors(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	req := &GenerateContentRequest{Contents: []GeminiContent{{Parts: []GeminiPart{{Text: "hi"}}}}}
	tests := []struct {
		model string
		kind  Kind
	}{
		{"gemini-9-unknown", KindModelNotFound},
		{fakegateway.ModelFault429, KindRateLimited},
	}
	for _, tt := range tests {
		_, err := c.GenerateContent(t.Context(), tt.model, req)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Kind() != tt.kind {
			t.Errorf("%s: error %v; want kind %v", tt.model, err, tt.kind)
		}
	}
	if _, err := c.GenerateContent(t.Context(), "../v1/models", req); err == nil {
		t.Error("a model with a slash was accepted")
	}
	bad := newClient(t, g.URL, WithAPIKey("sk-wrong"))
	_, err := bad.GenerateContent(t.Context(), "gemini-2.5-flash", req)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Kind() != KindBadKey {
		t.Errorf("bad key: error %v; want KindBadKey", err)
	}

	blocked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"promptFeedback":{"blockReason":"SAFETY"}}`))
	}))
	defer blocked.Close()
	_, err = newClient(t, blocked.URL).GenerateContent(t.Context(), "gemini-2.5-flash", req)
	if !errors.Is(err, ErrPromptBlocked) || !strings.Contains(err.Error(), "SAFETY") {
		t.Errorf("blocked prompt: error %v; want ErrPromptBlocked naming SAFETY", err)
	}
}
