package tools

import (
	"encoding/json"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestGeminiGenerateText(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "gemini_generate", map[string]any{"prompt": "hello", "system": "be kind", "images": []string{writeSmallPNG(t)}})
	var out geminiGenerateOutput
	decode(t, res, &out)
	if !strings.Contains(out.Text, `You said: "hello"`) || out.Model != defaultGeminiModel || len(out.Images) != 0 || out.Usage.OutputTokens == 0 || out.FinishReason != "STOP" {
		t.Errorf("result %+v; want the text answer of the default model with usage", out)
	}
	last := env.G.Last(fakegateway.RouteGemini)
	// The key travels in a header, never in the URL.
	if last.Header.Get("X-Goog-Api-Key") != fakegateway.Key || last.RawQuery != "" || last.Header.Get("Authorization") != "" {
		t.Errorf("x-goog-api-key %q, query %q, Authorization %q; want the key in x-goog-api-key only", last.Header.Get("X-Goog-Api-Key"), last.RawQuery, last.Header.Get("Authorization"))
	}
	if last.Path != "/v1beta/models/"+defaultGeminiModel+":generateContent" {
		t.Errorf("path %s; want the model's generateContent", last.Path)
	}
	var body struct {
		Contents []struct {
			Parts []map[string]any `json:"parts"`
		} `json:"contents"`
		SystemInstruction struct {
			Parts []map[string]any `json:"parts"`
		} `json:"systemInstruction"`
		GenerationConfig any `json:"generationConfig"`
	}
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Contents) != 1 || len(body.Contents[0].Parts) != 2 || body.Contents[0].Parts[1]["inlineData"] == nil {
		t.Errorf("contents %s; want the prompt and the inline image", last.Body)
	}
	if len(body.SystemInstruction.Parts) != 1 || body.SystemInstruction.Parts[0]["text"] != "be kind" || body.GenerationConfig != nil {
		t.Errorf("request %s; want the system instruction and no generationConfig for a text model", last.Body)
	}
}

func TestGeminiGenerateImages(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "gemini_generate", map[string]any{"prompt": "a red cat", "model": "gemini-2.5-flash-image-preview"})
	var out geminiGenerateOutput
	decode(t, res, &out)
	if len(out.Images) != 1 {
		t.Fatalf("images %+v; want one", out.Images)
	}
	img := out.Images[0]
	f, err := os.Open(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, err := image.DecodeConfig(f)
	f.Close()
	if err != nil || format != "png" || cfg.Width != img.Width || img.Width == 0 || img.MIME != "image/png" {
		t.Errorf("saved %s: %s %dx%d, %v; want the PNG as reported (%+v)", img.Path, format, cfg.Width, cfg.Height, err, img)
	}
	var previews int
	for _, c := range res.Content {
		if ic, ok := c.(mcp.ImageContent); ok && ic.MIMEType == "image/jpeg" && ic.Data != "" {
			previews++
		}
	}
	if previews != 1 {
		t.Errorf("%d previews; want one image content item", previews)
	}
	if !strings.Contains(string(env.G.Last(fakegateway.RouteGemini).Body), `"responseModalities":["TEXT","IMAGE"]`) {
		t.Errorf("request %s; want image output asked for", env.G.Last(fakegateway.RouteGemini).Body)
	}
}

func TestGeminiGenerateErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"empty", map[string]any{"prompt": ""}, []string{"prompt is empty"}},
		{"path in model", map[string]any{"prompt": "x", "model": "../v1/models"}, []string{"not a model id"}},
		{"unknown model", map[string]any{"prompt": "x", "model": "gemini-9"}, []string{"503", "list_models"}},
		{"rate limited", map[string]any{"prompt": "x", "model": fakegateway.ModelFault429}, []string{"429"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "gemini_generate", tt.args)
			if !res.IsError {
				t.Fatalf("success; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(textOf(res), w) {
					t.Errorf("error %q; want it to contain %q", textOf(res), w)
				}
			}
		})
	}
}
