package tools

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// outputFiles lists the files under the test server's output directory.
func outputFiles(t *testing.T, env *testEnv) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(env.Deps.Config.OutputDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// previews returns the image contents of a result.
func previews(res *mcp.CallToolResult) []mcp.ImageContent {
	var out []mcp.ImageContent
	for _, c := range res.Content {
		if ic, ok := c.(mcp.ImageContent); ok {
			out = append(out, ic)
		}
	}
	return out
}

// checkImageFile asserts that path holds an image of the reported size.
func checkImageFile(t *testing.T, im imageOut) {
	t.Helper()
	data, err := os.ReadFile(im.Path)
	if err != nil {
		t.Fatalf("saved file: %v", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s does not decode: %v", im.Path, err)
	}
	if cfg.Width != im.Width || cfg.Height != im.Height || "image/"+format != im.MIME || int64(len(data)) != im.Bytes {
		t.Errorf("file is %d×%d image/%s %d bytes; result says %d×%d %s %d", cfg.Width, cfg.Height, format, len(data), im.Width, im.Height, im.MIME, im.Bytes)
	}
}

// noBase64 asserts that structuredContent carries no image bytes.
func noBase64(t *testing.T, res *mcp.CallToolResult) {
	t.Helper()
	b, _ := json.Marshal(res.StructuredContent)
	if bytes.Contains(b, []byte("base64")) || bytes.Contains(b, []byte("iVBOR")) || len(b) > 8<<10 {
		t.Errorf("structuredContent (%d bytes) carries image data: %.300s", len(b), b)
	}
}

func TestGenerateImageRoutes(t *testing.T) {
	tests := []struct {
		name        string
		args        map[string]any
		wantN       int
		wantW       int
		wantH       int
		wantURL     bool
		wantRevised bool
		wantUsage   bool
	}{
		{"images API url", map[string]any{"prompt": "a cat", "model": "dall-e-3", "size": "1792x1024", "quality": "hd", "style": "vivid"}, 1, 1792, 1024, true, true, false},
		{"images API b64", map[string]any{"prompt": "a cat", "model": "gpt-image-1", "n": 2}, 2, 1024, 1024, false, false, true},
		{"images API empty strings", map[string]any{"prompt": "a cat", "model": "flux-kontext-pro", "size": "512x768"}, 1, 512, 768, true, false, false},
		{"default model from config", map[string]any{"prompt": "a cat"}, 1, 1024, 1024, false, false, true},
		{"chat markdown link", map[string]any{"prompt": "a cat", "model": fakegateway.ChatImageModel}, 1, 1024, 1024, true, false, true},
		{"gemini inline data", map[string]any{"prompt": "a cat", "model": fakegateway.GeminiImageModel, "size": "16:9"}, 1, 1344, 768, false, false, true},
		{"gemini size as pixels", map[string]any{"prompt": "a cat", "model": fakegateway.GeminiImageModel, "size": "1920x1080"}, 1, 1344, 768, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			res := env.call(t, "generate_image", tt.args)
			var out imagesOutput
			decode(t, res, &out)
			if len(out.Images) != tt.wantN {
				t.Fatalf("got %d images; want %d\n%s", len(out.Images), tt.wantN, textOf(res))
			}
			paths := map[string]bool{}
			for _, im := range out.Images {
				checkImageFile(t, im)
				if im.Width != tt.wantW || im.Height != tt.wantH {
					t.Errorf("image %d×%d; want %d×%d", im.Width, im.Height, tt.wantW, tt.wantH)
				}
				if (im.URL != "") != tt.wantURL || im.URL != "" && !strings.HasPrefix(im.URL, env.G.URL) {
					t.Errorf("url %q; want a gateway URL: %v", im.URL, tt.wantURL)
				}
				if !strings.HasPrefix(im.Path, env.Deps.Config.OutputDir) {
					t.Errorf("path %s is outside the output dir %s", im.Path, env.Deps.Config.OutputDir)
				}
				paths[im.Path] = true
			}
			if len(paths) != tt.wantN {
				t.Errorf("images share paths: %v", paths)
			}
			if (out.RevisedPrompt != "") != tt.wantRevised || (out.Usage != nil) != tt.wantUsage {
				t.Errorf("revised %q usage %+v; want revised %v usage %v", out.RevisedPrompt, out.Usage, tt.wantRevised, tt.wantUsage)
			}
			if got := len(previews(res)); got != tt.wantN {
				t.Errorf("%d previews; want %d", got, tt.wantN)
			}
			noBase64(t, res)
			if !strings.Contains(textOf(res), out.Images[0].Path) {
				t.Errorf("text does not name the file: %s", textOf(res))
			}
		})
	}
}

func TestGenerateImageGeminiViaChatDataURI(t *testing.T) {
	env := newTestEnv(t)
	resp, err := env.Deps.Client.Chat(t.Context(), hiChat(fakegateway.GeminiImageModel))
	if err != nil {
		t.Fatal(err)
	}
	run, err := chatReplyImages(t.Context(), env.Deps, resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.sources) != 1 || run.sources[0].data == nil || run.sources[0].url != "" {
		t.Fatalf("sources %+v; want one image from the data: URI", run.sources)
	}
	if len(run.text) != 1 || strings.Contains(run.text[0], "base64") {
		t.Errorf("text %q; want the words without the image", run.text)
	}
	r, err := saveImageResult(t.Context(), env.Deps, &Call{Progress: &Progress{}}, fakegateway.GeminiImageModel, run, "", nil, nil, "Generated")
	if err != nil {
		t.Fatal(err)
	}
	checkImageFile(t, r.Value.Images[0])
	if r.Value.Images[0].Width != 512 || r.Value.Images[0].URL != "" || len(r.Extra) != 1 {
		t.Errorf("got %+v with %d previews; want a 512-wide file, no URL, one preview", r.Value.Images[0], len(r.Extra))
	}
}

func TestExtractImageRefs(t *testing.T) {
	png := "data:image/png;base64,iVBORw0KGgo="
	tests := []struct {
		name     string
		content  string
		want     []string
		wantRest string
	}{
		{"markdown images", "> 生成中\n\n![a](https://x.com/1.png) and ![b](https://x.com/2.jpg \"title\")", []string{"https://x.com/1.png", "https://x.com/2.jpg"}, "> 生成中\n\n and "},
		{"data uri", "Here:\n![image](" + png + ")", []string{png}, "Here:\n"},
		{"repeat", "![a](https://x.com/1.png)![a](https://x.com/1.png)", []string{"https://x.com/1.png"}, ""},
		{"plain link fallback", "[下载图片](https://x.com/y?id=1)", []string{"https://x.com/y?id=1"}, ""},
		{"bare url fallback", "done: https://cdn.x.com/a/b.webp?sig=1 enjoy", []string{"https://cdn.x.com/a/b.webp?sig=1"}, "done:  enjoy"},
		{"bare data uri", "result " + png, []string{png}, "result "},
		{"none", "I cannot draw that.", nil, "I cannot draw that."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := extractImageRefs(tt.content)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || rest != tt.wantRest {
				t.Errorf("got %q rest %q; want %q rest %q", got, rest, tt.want, tt.wantRest)
			}
		})
	}
}

func TestImageFamilies(t *testing.T) {
	for model, want := range map[string]imageFamily{
		"dall-e-3": familyImagesAPI, "gpt-image-1": familyImagesAPI, "flux-kontext-pro": familyImagesAPI, "imagen-4.0": familyImagesAPI,
		"gpt-4o-image": familyChat, "gpt-4o-image-vip": familyChat, "jimeng-3.0": familyChat, "sora_image": familyChat,
		"gemini-2.5-flash-image-preview": familyGemini, "gemini-3-pro-image-preview": familyGemini,
		"gpt-4o": familyUnknown, "gemini-2.5-flash": familyUnknown, "llama-3": familyUnknown,
	} {
		if got := imageFamilyOf(model); got != want {
			t.Errorf("imageFamilyOf(%q) = %v; want %v", model, got, want)
		}
	}
}

// TestImagePreviewBounded checks the size rule: a 2048×2048 result
// (and four 1024×1024 ones) gives previews with a long side of at most 768 px and a
// whole tool result under 1 MiB.
func TestImagePreviewBounded(t *testing.T) {
	for _, tt := range []struct{ n, side int }{{1, 2048}, {4, 1024}} { // four 1024s give previews as big as 2048s
		n := tt.n
		env := newTestEnv(t)
		res := env.call(t, "generate_image", map[string]any{"prompt": "a big cat", "model": "flux-kontext-pro", "size": fmt.Sprintf("%dx%d", tt.side, tt.side), "n": n})
		var out imagesOutput
		decode(t, res, &out)
		if out.Images[0].Width != tt.side || out.Images[0].Height != tt.side {
			t.Fatalf("image %d×%d; want %d×%d", out.Images[0].Width, out.Images[0].Height, tt.side, tt.side)
		}
		pv := previews(res)
		if len(pv) != n {
			t.Fatalf("n=%d: %d previews", n, len(pv))
		}
		for _, p := range pv {
			data, err := base64.StdEncoding.DecodeString(p.Data)
			if err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
			if err != nil || format != "jpeg" || p.MIMEType != "image/jpeg" {
				t.Fatalf("preview %s/%s: %v; want a JPEG", p.MIMEType, format, err)
			}
			if max(cfg.Width, cfg.Height) > 768 {
				t.Errorf("preview %d×%d; want a long side of at most 768", cfg.Width, cfg.Height)
			}
		}
		whole, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d: whole result %d bytes", n, len(whole))
		if len(whole) >= 1<<20 {
			t.Errorf("n=%d: whole result is %d bytes; want under 1 MiB", n, len(whole))
		}
	}

	env := newTestEnv(t)
	res := env.call(t, "generate_image", map[string]any{"prompt": "a cat", "model": "dall-e-3", "preview": false})
	if len(previews(res)) != 0 {
		t.Errorf("preview:false still sent %d previews", len(previews(res)))
	}
}

func TestImageSaveOff(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "generate_image", map[string]any{"prompt": "a cat", "model": "dall-e-3", "save": false})
	var out imagesOutput
	decode(t, res, &out)
	im := out.Images[0]
	if im.Path != "" || !strings.HasPrefix(im.URL, env.G.URL) || im.Width != 1024 {
		t.Errorf("save:false gave %+v; want the URL only (size from the preview fetch)", im)
	}
	if len(previews(res)) != 1 {
		t.Errorf("save:false: %d previews; want 1", len(previews(res)))
	}

	off := newTestEnv(t, withEnv("WENWEN_SAVE_MEDIA", "false"))
	res = off.call(t, "generate_image", map[string]any{"prompt": "a cat", "model": "gpt-image-1", "preview": false})
	out = imagesOutput{}
	decode(t, res, &out)
	im = out.Images[0]
	if im.Path != "" || im.URL != "" || im.Width != 1024 || im.MIME != "image/png" {
		t.Errorf("WENWEN_SAVE_MEDIA=false with inline data gave %+v; want no path, no URL, size and type", im)
	}
	if !strings.Contains(textOf(res), "not saved") {
		t.Errorf("text %q; want it to say the image was not saved", textOf(res))
	}
	if files := append(outputFiles(t, env), outputFiles(t, off)...); len(files) != 0 {
		t.Errorf("files written with saving off: %v", files)
	}
	// save:true overrides the switch for one call.
	res = off.call(t, "generate_image", map[string]any{"prompt": "a cat", "model": "gpt-image-1", "save": true})
	out = imagesOutput{}
	decode(t, res, &out)
	checkImageFile(t, out.Images[0])
}

func TestImagesNeverOverwrite(t *testing.T) {
	env := newTestEnv(t)
	var got []string
	for range 2 {
		res := env.call(t, "generate_image", map[string]any{"prompt": "a cat", "model": "gpt-image-1", "n": 2, "filename": "cats/tabby", "preview": false})
		var out imagesOutput
		decode(t, res, &out)
		for _, im := range out.Images {
			got = append(got, filepath.Base(im.Path))
		}
	}
	want := []string{"tabby.png", "tabby-2.png", "tabby-3.png", "tabby-2-2.png"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v; want %v", got, want)
	}
	if files := outputFiles(t, env); len(files) != 4 {
		t.Errorf("%d files on disk; want 4: %v", len(files), files)
	}
}

func TestEditImageMultipartBytes(t *testing.T) {
	env := newTestEnv(t)
	dir := t.TempDir()
	src := fakegateway.ImagePNG(96, 64, 7)
	mask := fakegateway.ImagePNG(96, 64, 8)
	srcPath, maskPath := filepath.Join(dir, "photo.png"), filepath.Join(dir, "mask.png")
	os.WriteFile(srcPath, src, 0o644)
	os.WriteFile(maskPath, mask, 0o644)
	second := fakegateway.ImagePNG(32, 32, 9)

	res := env.call(t, "edit_image", map[string]any{
		"prompt": "make it red", "model": "gpt-image-1", "quality": "high", "mask": maskPath,
		"images": []any{srcPath, "data:image/png;base64," + base64.StdEncoding.EncodeToString(second)},
	})
	var out imagesOutput
	decode(t, res, &out)
	checkImageFile(t, out.Images[0])
	if out.Images[0].Width != 96 || out.Images[0].Height != 64 {
		t.Errorf("edited image %d×%d; want the input's 96×64", out.Images[0].Width, out.Images[0].Height)
	}
	parts, err := fakegateway.ParseMultipart(env.G.Last(fakegateway.RouteImageEdits))
	if err != nil {
		t.Fatal(err)
	}
	var uploads [][]byte
	var gotMask []byte
	for _, p := range parts {
		switch p.Field {
		case "image[]":
			uploads = append(uploads, p.Data)
			if p.ContentType != "image/png" {
				t.Errorf("image[] part Content-Type %q; want image/png", p.ContentType)
			}
		case "mask":
			gotMask = p.Data
		}
	}
	if len(uploads) != 2 || !bytes.Equal(uploads[0], src) || !bytes.Equal(uploads[1], second) {
		t.Errorf("image[] parts do not carry the local file's bytes (%d parts)", len(uploads))
	}
	if !bytes.Equal(gotMask, mask) {
		t.Errorf("mask part differs from the mask file")
	}
}

func TestEditImageChatAndGemini(t *testing.T) {
	env := newTestEnv(t)
	local := filepath.Join(t.TempDir(), "in.png")
	os.WriteFile(local, fakegateway.ImagePNG(200, 100, 3), 0o644)
	remote := env.G.ImageURL(300, 150)

	// Chat: the URL is passed through, the local file goes as a data: URL.
	res := env.call(t, "edit_image", map[string]any{"prompt": "red background", "model": fakegateway.ChatImageModel, "images": []any{remote, local}})
	var out imagesOutput
	decode(t, res, &out)
	checkImageFile(t, out.Images[0])
	body := string(env.G.Last(fakegateway.RouteChatCompletions).Body)
	if !strings.Contains(body, `"url":"`+remote+`"`) || !strings.Contains(body, `"url":"data:image/png;base64,`) {
		t.Errorf("chat body %.400s; want the URL passed through and the file as a data: URL", body)
	}

	// Gemini: both go as inline data, the URL fetched first.
	res = env.call(t, "edit_image", map[string]any{"prompt": "golden", "model": fakegateway.GeminiImageModel, "images": []any{remote, local}})
	out = imagesOutput{}
	decode(t, res, &out)
	checkImageFile(t, out.Images[0])
	if out.Images[0].Width != 300 || out.Images[0].Height != 150 {
		t.Errorf("gemini edit %d×%d; want the first input's 300×150", out.Images[0].Width, out.Images[0].Height)
	}
	gbody := string(env.G.Last(fakegateway.RouteGemini).Body)
	if strings.Count(gbody, `"inlineData"`) != 2 || strings.Contains(gbody, remote) {
		t.Errorf("gemini body %.300s; want two inlineData parts and no URL", gbody)
	}
}

func TestAnalyzeImage(t *testing.T) {
	env := newTestEnv(t)
	local := filepath.Join(t.TempDir(), "photo.jpg") // the name lies; the bytes are PNG
	png := fakegateway.ImagePNG(20, 20, 1)
	os.WriteFile(local, png, 0o644)
	url := "https://example.com/cat.png"
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name string
		ref  string
		want string // in the chat request body
	}{
		{"local path", local, `"url":"data:image/png;base64,` + base64.StdEncoding.EncodeToString(png)[:20]},
		{"http URL", url, `"url":"` + url + `"`},
		{"data URL", dataURL, `"url":"data:image/png;base64,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "analyze_image", map[string]any{"images": []any{tt.ref}, "question": "what is this?", "model": "gpt-4o"})
			var out analyzeImageOutput
			decode(t, res, &out)
			if out.Model != "gpt-4o" || !strings.Contains(out.Text, "what is this?") || out.Usage.TotalTokens == 0 {
				t.Errorf("got %+v; want gpt-4o's answer with usage", out)
			}
			body := string(env.G.Last(fakegateway.RouteChatCompletions).Body)
			if !strings.Contains(body, tt.want) || !strings.Contains(body, `"type":"image_url"`) {
				t.Errorf("chat body %.300s; want an image_url part with %q", body, tt.want)
			}
		})
	}
}

func TestChatImagesArgument(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "chat", map[string]any{"prompt": "describe", "images": []any{"https://example.com/a.png"}, "model": "gpt-4o"})
	if res.IsError {
		t.Fatalf("chat with images: %s", textOf(res))
	}
	body := string(env.G.Last(fakegateway.RouteChatCompletions).Body)
	if !strings.Contains(body, `"content":[{"type":"text","text":"describe"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]`) {
		t.Errorf("chat body %s; want the prompt followed by the image", body)
	}
	res = env.call(t, "chat", map[string]any{"messages": []any{map[string]any{"role": "system", "content": "x"}}, "images": []any{"https://example.com/a.png"}})
	if !res.IsError || !strings.Contains(textOf(res), "user message") {
		t.Errorf("images without a user message: %s; want an isError about the user message", textOf(res))
	}
}

func TestImageToolErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.png")
	os.WriteFile(text, []byte("just some text, not a picture"), 0o644)
	big := filepath.Join(dir, "huge.png")
	f, _ := os.Create(big)
	f.Write(fakegateway.ImagePNG(8, 8, 1))
	f.Truncate(21 << 20) // sparse: 21 MiB on paper
	f.Close()
	outside := t.TempDir()

	tests := []struct {
		name    string
		tool    string
		args    map[string]any
		want    string
		noCalls bool // nothing may reach the gateway
	}{
		{"missing file", "edit_image", map[string]any{"prompt": "x", "images": []any{filepath.Join(dir, "nope.png")}}, "file not found", true},
		{"not an image", "analyze_image", map[string]any{"question": "x", "images": []any{text}}, "is not an image", true},
		{"too large", "edit_image", map[string]any{"prompt": "x", "images": []any{big}}, "over the 20 MiB limit", true},
		{"unsupported scheme", "analyze_image", map[string]any{"question": "x", "images": []any{"ftp://example.com/a.png"}}, `unsupported URL scheme "ftp"`, true},
		{"second image bad", "edit_image", map[string]any{"prompt": "x", "images": []any{"https://example.com/a.png", "gopher://x/y"}, "model": fakegateway.ChatImageModel}, "image 2 of 2", true},
		{"filename dotdot", "generate_image", map[string]any{"prompt": "x", "filename": "../escape.png"}, "leaves the output directory", true},
		{"filename absolute", "generate_image", map[string]any{"prompt": "x", "filename": filepath.Join(outside, "x.png")}, "absolute path", true},
		{"unknown family", "generate_image", map[string]any{"prompt": "x", "model": "llama-3-70b"}, "not a known image model", true},
		{"unknown family edit", "edit_image", map[string]any{"prompt": "x", "model": "gpt-4o", "images": []any{"https://example.com/a.png"}}, "not a known image model", true},
		{"dall-e-3 edit", "edit_image", map[string]any{"prompt": "x", "model": "dall-e-3", "images": []any{"https://example.com/a.png"}}, "cannot edit", true},
		{"mask with chat model", "edit_image", map[string]any{"prompt": "x", "model": fakegateway.ChatImageModel, "mask": text, "images": []any{"https://example.com/a.png"}}, "mask works only", true},
		{"empty prompt", "generate_image", map[string]any{"prompt": " "}, "prompt is empty", true},
		{"bad size", "generate_image", map[string]any{"prompt": "x", "size": "big"}, "size", true},
		{"model not offered", "generate_image", map[string]any{"prompt": "x", "model": "dall-e-9"}, "list_models", false},
		{"gateway refuses size", "generate_image", map[string]any{"prompt": "x", "model": "dall-e-3", "size": "512x512"}, "1792x1024", false},
		{"cut download", "generate_image", map[string]any{"prompt": "x " + fakegateway.PromptCutDownload, "model": "dall-e-3"}, "cut", false},
		{"html instead of image", "generate_image", map[string]any{"prompt": "x " + fakegateway.PromptHTMLDownload, "model": fakegateway.ChatImageModel}, "not an image (it looks like text/html)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			res := env.call(t, tt.tool, tt.args)
			if !res.IsError || !strings.Contains(textOf(res), tt.want) {
				t.Fatalf("got isError %v %q; want an error mentioning %q", res.IsError, textOf(res), tt.want)
			}
			calls := env.G.Count(fakegateway.RouteImageGenerations) + env.G.Count(fakegateway.RouteImageEdits) + env.G.Count(fakegateway.RouteChatCompletions)
			if tt.noCalls && calls != 0 {
				t.Errorf("%d gateway calls; want none for an input error", calls)
			}
			if files := outputFiles(t, env); len(files) != 0 {
				t.Errorf("files left in the output dir: %v", files)
			}
			if files, _ := os.ReadDir(outside); len(files) != 0 {
				t.Errorf("files written outside the output dir")
			}
		})
	}
}

func hiChat(model string) *upstream.ChatRequest {
	return &upstream.ChatRequest{Model: model, Messages: []upstream.ChatMessage{{Role: "user", Content: "draw a cat"}}}
}
