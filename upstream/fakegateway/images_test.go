package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestImageGenerationsStrict(t *testing.T) {
	g := New(t)
	tests := []struct {
		name       string
		body       string
		hdr        map[string]string
		wantStatus int
		wantBody   string
	}{
		{"ok url", `{"model":"dall-e-3","prompt":"a cat"}`, nil, 200, `"url":"http`},
		{"ok b64", `{"model":"gpt-image-1","prompt":"a cat","n":2}`, nil, 200, `"b64_json":"iVBOR`},
		{"flux empty keys", `{"model":"flux-kontext-pro","prompt":"a cat"}`, nil, 200, `"b64_json":""`},
		{"bad key", `{"model":"dall-e-3","prompt":"a cat"}`, map[string]string{"Authorization": "Bearer sk-nope"}, 401, "Invalid token"},
		{"unknown model", `{"model":"dall-e-7","prompt":"a cat"}`, nil, 503, "dall-e-7"},
		{"chat model", `{"model":"gpt-4o","prompt":"a cat"}`, nil, 400, "does not generate images"},
		{"no prompt", `{"model":"dall-e-3"}`, nil, 400, "prompt"},
		{"dall-e-3 n=2", `{"model":"dall-e-3","prompt":"x","n":2}`, nil, 400, "'n'"},
		{"bad size", `{"model":"dall-e-3","prompt":"x","size":"512x512"}`, nil, 400, "1792x1024"},
		{"style on gpt-image-1", `{"model":"gpt-image-1","prompt":"x","style":"vivid"}`, nil, 400, "style"},
		{"response_format on gpt-image-1", `{"model":"gpt-image-1","prompt":"x","response_format":"url"}`, nil, 400, "response_format"},
		{"prompt wrong type", `{"model":"dall-e-3","prompt":5}`, nil, 400, "invalid JSON"},
		{"fault", `{"model":"fault-429","prompt":"x"}`, nil, 429, "Rate limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t.Context(), t, g, http.MethodPost, "/v1/images/generations", tt.body, tt.hdr)
			if resp.status != tt.wantStatus || !strings.Contains(string(resp.body), tt.wantBody) {
				t.Errorf("got %d %s; want %d containing %q", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestImageFileRoute(t *testing.T) {
	g := New(t)
	u := g.ImageURL(300, 200)
	if !regexp.MustCompile(`/fake/image/\d+-300x200\.png$`).MatchString(u) {
		t.Fatalf("ImageURL = %s", u)
	}
	path := strings.TrimPrefix(u, g.URL)
	resp := send(t.Context(), t, g, http.MethodGet, path, "", map[string]string{"Authorization": ""})
	cfg, _, err := image.DecodeConfig(bytes.NewReader(resp.body))
	if resp.status != 200 || err != nil || cfg.Width != 300 || cfg.Height != 200 {
		t.Errorf("GET %s: %d, %d×%d, %v; want a 300×200 PNG", path, resp.status, cfg.Width, cfg.Height, err)
	}
	cut := send(t.Context(), t, g, http.MethodGet, strings.Replace(path, "/fake/image/", "/fake/image/cut-", 1), "", nil)
	if cut.readErr == nil {
		t.Errorf("cut- file read completely (%d bytes); want a broken body", len(cut.body))
	}
	page := send(t.Context(), t, g, http.MethodGet, strings.Replace(path, "/fake/image/", "/fake/image/html-", 1), "", nil)
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Errorf("html- file: %d %s; want a 200 HTML page", page.status, page.header.Get("Content-Type"))
	}
}

// multipartBody builds a form; files are (field, name, data) triples.
func multipartBody(t *testing.T, fields map[string]string, files [][3]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[2])
	}
	mw.Close()
	return buf.String(), mw.FormDataContentType()
}

func TestImageEditsStrict(t *testing.T) {
	g := New(t)
	sq := string(ImagePNG(64, 64, 1))
	wide := string(ImagePNG(64, 32, 1))
	tests := []struct {
		name       string
		fields     map[string]string
		files      [][3]string
		ctype      string
		wantStatus int
		wantBody   string
	}{
		{"json body", nil, nil, "application/json", 400, "multipart/form-data"},
		{"gpt-image-1", map[string]string{"model": "gpt-image-1", "prompt": "red"}, [][3]string{{"image[]", "a.png", sq}, {"image[]", "b.png", wide}}, "", 200, `"b64_json"`},
		{"dall-e-2 default", map[string]string{"prompt": "red"}, [][3]string{{"image[]", "a.png", sq}}, "", 200, `"url"`},
		{"field image not image[]", map[string]string{"model": "gpt-image-1", "prompt": "red"}, [][3]string{{"image", "a.png", sq}}, "", 400, "repeated 'image[]'"},
		{"no image", map[string]string{"model": "gpt-image-1", "prompt": "red"}, nil, "", 400, "image[]"},
		{"not an image", map[string]string{"model": "gpt-image-1", "prompt": "red"}, [][3]string{{"image[]", "a.png", "hello"}}, "", 400, "not a PNG"},
		{"dall-e-2 not square", map[string]string{"prompt": "red"}, [][3]string{{"image[]", "a.png", wide}}, "", 400, "square"},
		{"dall-e-3 cannot edit", map[string]string{"model": "dall-e-3", "prompt": "red"}, [][3]string{{"image[]", "a.png", sq}}, "", 400, "edits are supported"},
		{"mask wrong size", map[string]string{"model": "gpt-image-1", "prompt": "red"}, [][3]string{{"image[]", "a.png", sq}, {"mask", "m.png", wide}}, "", 400, "mask"},
		{"no prompt", map[string]string{"model": "gpt-image-1"}, [][3]string{{"image[]", "a.png", sq}}, "", 400, "prompt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.fields, tt.files)
			if tt.ctype != "" {
				body, ct = `{"prompt":"x"}`, tt.ctype
			}
			resp := send(t.Context(), t, g, http.MethodPost, "/v1/images/edits", body, map[string]string{"Content-Type": ct})
			if resp.status != tt.wantStatus || !strings.Contains(string(resp.body), tt.wantBody) {
				t.Errorf("got %d %.300s; want %d containing %q", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	parts, err := ParseMultipart(g.Last(RouteImageEdits))
	if err != nil || len(parts) == 0 {
		t.Errorf("ParseMultipart of the last edit: %d parts, %v", len(parts), err)
	}
}

func TestChatImageModels(t *testing.T) {
	g := New(t)
	link := chat(t, g, `{"model":"gpt-4o-image","messages":[{"role":"user","content":"draw a cat"}]}`)
	m := regexp.MustCompile(`!\[image\]\((http[^)]+)\)`).FindStringSubmatch(string(link.body))
	if link.status != 200 || m == nil {
		t.Fatalf("gpt-4o-image: %d %s; want a Markdown image link", link.status, link.body)
	}
	img := send(t.Context(), t, g, http.MethodGet, strings.TrimPrefix(m[1], g.URL), "", nil)
	if _, _, err := image.DecodeConfig(bytes.NewReader(img.body)); err != nil {
		t.Errorf("linked image does not decode: %v", err)
	}

	data := chat(t, g, `{"model":"gemini-2.5-flash-image-preview","stream":true,"messages":[{"role":"user","content":"draw a cat"}]}`)
	if data.status != 200 || !strings.Contains(string(data.body), "data: [DONE]") {
		t.Errorf("gemini via chat stream: %d; want a stream", data.status)
	}
	plain := chat(t, g, `{"model":"gemini-2.5-flash-image-preview","messages":[{"role":"user","content":[{"type":"text","text":"edit"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`)
	var c struct {
		Choices []struct{ Message struct{ Content string } }
	}
	json.Unmarshal(plain.body, &c)
	d := regexp.MustCompile(`!\[image\]\(data:image/png;base64,([^)]+)\)`).FindStringSubmatch(c.Choices[0].Message.Content)
	if d == nil {
		t.Fatalf("gemini via chat: content %.200q; want a data: URI image", c.Choices[0].Message.Content)
	}
	b, _ := base64.StdEncoding.DecodeString(d[1])
	if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
		t.Errorf("data: URI image does not decode: %v", err)
	}
}

func TestGeminiRoute(t *testing.T) {
	g := New(t)
	png := base64.StdEncoding.EncodeToString(ImagePNG(40, 30, 1))
	tests := []struct {
		name       string
		path       string
		body       string
		hdr        map[string]string
		wantStatus int
		wantBody   string
	}{
		{"text by header", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hello"}]}]}`,
			map[string]string{"Authorization": "", "X-Goog-Api-Key": Key}, 200, `You said: \"hello\"`},
		{"query key", "/v1beta/models/gemini-2.5-flash:generateContent?key=" + Key, `{"contents":[{"parts":[{"text":"hello"}]}]}`,
			map[string]string{"Authorization": ""}, 200, "candidates"},
		{"bad key", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"parts":[{"text":"hello"}]}]}`,
			map[string]string{"Authorization": "", "X-Goog-Api-Key": "sk-bad"}, 401, "Invalid token"},
		{"image camel", "/v1beta/models/gemini-2.5-flash-image-preview:generateContent", `{"contents":[{"parts":[{"text":"cat"}]}]}`,
			nil, 200, `"inlineData":{"data":"iVBOR`},
		{"edit snake mirrors", "/v1beta/models/gemini-2.5-flash-image-preview:generateContent",
			`{"contents":[{"parts":[{"text":"gold"},{"inline_data":{"mime_type":"image/png","data":"` + png + `"}}]}]}`, nil, 200, `"inline_data":{"data":"iVBOR`},
		{"bad inline image", "/v1beta/models/gemini-2.5-flash-image-preview:generateContent",
			`{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":"aGVsbG8="}}]}]}`, nil, 400, "not a valid image/png"},
		{"two fields in a part", "/v1beta/models/gemini-2.5-flash:generateContent",
			`{"contents":[{"parts":[{"text":"a","inlineData":{"mimeType":"image/png","data":"` + png + `"}}]}]}`, nil, 400, "exactly one"},
		{"bad aspect", "/v1beta/models/gemini-2.5-flash-image-preview:generateContent",
			`{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"aspectRatio":"7:5"}}}`, nil, 400, "aspect ratio"},
		{"no contents", "/v1beta/models/gemini-2.5-flash:generateContent", `{}`, nil, 400, "contents"},
		{"unknown model", "/v1beta/models/gemini-9:generateContent", `{"contents":[{"parts":[{"text":"x"}]}]}`, nil, 503, "gemini-9"},
		{"unknown action", "/v1beta/models/gemini-2.5-flash:countTokens", `{}`, nil, 404, "Invalid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t.Context(), t, g, http.MethodPost, tt.path, tt.body, tt.hdr)
			if resp.status != tt.wantStatus || !strings.Contains(string(resp.body), tt.wantBody) {
				t.Errorf("got %d %.300s; want %d containing %q", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
