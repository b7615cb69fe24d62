package upstream

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestGenerateImageForms(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	tests := []struct {
		name        string
		req         ImageRequest
		wantURL     bool
		wantRevised bool
		wantUsage   bool
	}{
		{"dall-e-3 url", ImageRequest{Model: "dall-e-3", Prompt: "a cat", Size: "1024x1792", Quality: "hd", Style: "vivid"}, true, true, false},
		{"gpt-image-1 b64", ImageRequest{Model: "gpt-image-1", Prompt: "a cat", N: 2}, false, false, true},
		{"flux empty strings", ImageRequest{Model: "flux-kontext-pro", Prompt: "a cat", Size: "512x512"}, true, false, false},
		{"dall-e-2 b64 asked", ImageRequest{Model: "dall-e-2", Prompt: "a cat", ResponseFormat: "b64_json"}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.GenerateImage(t.Context(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			want := max(1, tt.req.N)
			if len(resp.Data) != want {
				t.Fatalf("got %d images; want %d", len(resp.Data), want)
			}
			for _, d := range resp.Data {
				if (d.URL != "") != tt.wantURL || (d.B64JSON != "") == tt.wantURL {
					t.Errorf("url %q b64 %d chars; want url %v", d.URL, len(d.B64JSON), tt.wantURL)
				}
				if (d.RevisedPrompt != "") != tt.wantRevised {
					t.Errorf("revised_prompt %q; want present %v", d.RevisedPrompt, tt.wantRevised)
				}
				if d.B64JSON != "" {
					b, err := base64.StdEncoding.DecodeString(d.B64JSON)
					if err != nil {
						t.Fatal(err)
					}
					if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
						t.Errorf("b64_json does not decode as an image: %v", err)
					}
				}
			}
			if (resp.Usage != nil) != tt.wantUsage {
				t.Errorf("usage %+v; want present %v", resp.Usage, tt.wantUsage)
			}
			last := g.Last(fakegateway.RouteImageGenerations)
			if got := last.Header.Get("Authorization"); got != "Bearer "+fakegateway.Key {
				t.Errorf("Authorization %q; want Bearer key", got)
			}
			if tt.req.Style == "" && strings.Contains(string(last.Body), "style") {
				t.Errorf("body %s sends an empty style", last.Body)
			}
		})
	}
}

func TestGenerateImageErrors(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	tests := []struct {
		model    string
		wantKind Kind
	}{
		{"dall-e-9", KindModelNotFound},
		{fakegateway.ModelFault429, KindRateLimited},
		{fakegateway.ModelFaultQuotaUser, KindUserQuota},
		{"gpt-4o", KindBadRequest}, // not an image model
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			_, err := c.GenerateImage(t.Context(), &ImageRequest{Model: tt.model, Prompt: "a cat"})
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Kind() != tt.wantKind {
				t.Fatalf("error %v; want an *APIError of kind %v", err, tt.wantKind)
			}
			if n := g.Count(fakegateway.RouteImageGenerations); n == 0 {
				t.Errorf("no request reached the gateway")
			}
		})
	}
	before := g.Count(fakegateway.RouteImageGenerations)
	if _, err := c.GenerateImage(t.Context(), &ImageRequest{Model: fakegateway.ModelFault500, Prompt: "x"}); err == nil {
		t.Fatal("fault-500: no error")
	}
	if n := g.Count(fakegateway.RouteImageGenerations) - before; n != 1 {
		t.Errorf("a failed paid POST was sent %d times; want 1", n)
	}
	if _, err := c.GenerateImage(t.Context(), &ImageRequest{Model: fakegateway.ModelFaultBadJSON, Prompt: "x"}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("fault-badjson error %v; want ErrMalformedResponse", err)
	}
}

func TestImageResponseWithoutImages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"created":1,"data":[{"url":"","b64_json":"","revised_prompt":""}]}`))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	if _, err := c.GenerateImage(t.Context(), &ImageRequest{Model: "dall-e-3", Prompt: "x"}); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("answer with only empty strings: error %v; want ErrMalformedResponse", err)
	}
}

func TestEditImageMultipart(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	png1 := fakegateway.ImagePNG(64, 64, 1)
	png2 := fakegateway.ImagePNG(64, 64, 2)
	mask := fakegateway.ImagePNG(64, 64, 3)
	resp, err := c.EditImage(t.Context(), &ImageEditRequest{
		Model: "gpt-image-1", Prompt: "make it red", Quality: "high",
		Images: []ImageFile{{Name: "a.png", MIME: "image/png", Data: png1}, {Name: `b"q.png`, MIME: "image/png", Data: png2}},
		Mask:   &ImageFile{Name: "mask.png", MIME: "image/png", Data: mask},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Data) != 1 || resp.Data[0].B64JSON == "" {
		t.Fatalf("got %+v; want one base64 image", resp.Data)
	}
	parts, err := fakegateway.ParseMultipart(g.Last(fakegateway.RouteImageEdits))
	if err != nil {
		t.Fatal(err)
	}
	var images [][]byte
	fields := map[string]string{}
	for _, p := range parts {
		switch {
		case p.Field == "image[]":
			images = append(images, p.Data)
		case p.Filename == "":
			fields[p.Field] = string(p.Data)
		}
	}
	if len(images) != 2 || !bytes.Equal(images[0], png1) || !bytes.Equal(images[1], png2) {
		t.Errorf("image[] parts differ from the uploaded files (%d parts)", len(images))
	}
	if fields["model"] != "gpt-image-1" || fields["prompt"] != "make it red" || fields["quality"] != "high" {
		t.Errorf("fields %v; want model, prompt and quality", fields)
	}

	// dall-e-2 refuses a non-square image, as OpenAI does.
	_, err = c.EditImage(t.Context(), &ImageEditRequest{Model: "dall-e-2", Prompt: "x", Images: []ImageFile{{Name: "w.png", MIME: "image/png", Data: fakegateway.ImagePNG(64, 32, 1)}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Message, "square") {
		t.Errorf("dall-e-2 non-square: error %v; want a 400 about a square PNG", err)
	}
	// Bytes that are not an image are refused by the gateway.
	_, err = c.EditImage(t.Context(), &ImageEditRequest{Model: "gpt-image-1", Prompt: "x", Images: []ImageFile{{Name: "x.png", Data: []byte("text")}}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("text upload: error %v; want a 400", err)
	}
}
