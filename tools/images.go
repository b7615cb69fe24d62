package tools

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"regexp"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

const (
	imageToolTimeout = 15 * time.Minute // generation (up to minutes) plus downloads
	imageRequestMin  = 5 * time.Minute  // gateway deadline of one image call, at least
	previewBudget    = 360 << 10        // JPEG bytes of all previews in one result (480 KiB as base64)
	previewMaxOne    = 180 << 10        // JPEG bytes of one preview
	maxImagesN       = 4
	maxInputImages   = 10
)

// imageFamily is how a model makes images.
type imageFamily int

const (
	familyUnknown   imageFamily = iota
	familyImagesAPI             // POST /v1/images/generations and /edits
	familyChat                  // chat completions answering Markdown images
	familyGemini                // generateContent with inline data
)

// Model name prefixes of each family (lower case).
var (
	imagesAPIPrefixes = []string{"dall-e", "gpt-image", "flux", "imagen", "stable-diffusion", "sd3", "sdxl", "recraft",
		"ideogram", "seedream", "doubao-seedream", "kolors", "cogview", "qwen-image", "hidream", "wanx"}
	chatImagePrefixes = []string{"gpt-4o-image", "gpt-4o-all", "sora_image", "sora-image", "jimeng", "nano-banana", "grok-2-image"}
)

// imageFamilyOf routes a model id to the API that makes its images.
func imageFamilyOf(model string) imageFamily {
	m := strings.ToLower(strings.TrimSpace(model))
	switch {
	case strings.HasPrefix(m, "gemini") && strings.Contains(m, "image"):
		return familyGemini
	case hasAnyPrefix(m, chatImagePrefixes):
		return familyChat
	case hasAnyPrefix(m, imagesAPIPrefixes):
		return familyImagesAPI
	}
	return familyUnknown
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// imageModel is the model a call asked for (the default when none) and the
// API family that serves it; an unknown family is an error.
func imageModel(asked, def string) (string, imageFamily, error) {
	model := strings.TrimSpace(asked)
	if model == "" {
		model = def
	}
	fam := imageFamilyOf(model)
	if fam == familyUnknown {
		return "", fam, unknownFamily(model)
	}
	return model, fam, nil
}

func unknownFamily(model string) error {
	return userErrorf("%q is not a known image model: use an images-API model (gpt-image-1, dall-e-3, dall-e-2, flux-*, imagen-*...), a chat image model (gpt-4o-image, sora_image, jimeng...) or a Gemini image model (gemini-2.5-flash-image...); call list_models with kind \"image\" to see what the key offers", model)
}

type generateImageInput struct {
	Prompt   string `json:"prompt"`
	Model    string `json:"model,omitempty" jsonschema_description:"Default WENWEN_IMAGE_MODEL."`
	Size     string `json:"size,omitempty" jsonschema_description:"WxH, or a ratio (16:9) for Gemini."`
	Quality  string `json:"quality,omitempty" jsonschema_description:"hd, low, medium, high."`
	Style    string `json:"style,omitempty" jsonschema:"enum=vivid,enum=natural"`
	N        int    `json:"n,omitempty" jsonschema:"minimum=1,maximum=4"`
	Filename string `json:"filename,omitempty" jsonschema_description:"Name in the output dir; never overwrites."`
	Save     *bool  `json:"save,omitempty" jsonschema_description:"false: URLs only."`
	Preview  *bool  `json:"preview,omitempty" jsonschema_description:"false: no preview."`
}

func (in *generateImageInput) validate() error {
	if strings.TrimSpace(in.Prompt) == "" {
		return userErrorf("prompt is empty: say what to draw")
	}
	if in.N < 0 || in.N > maxImagesN {
		return userErrorf("n must be between 1 and %d", maxImagesN)
	}
	if err := media.CheckFilename(in.Filename); err != nil {
		return err
	}
	return validSize(in.Size)
}

var reSize = regexp.MustCompile(`^(\d{2,5}x\d{2,5}|\d{1,2}:\d{1,2}|auto|[124]K)$`)

func validSize(size string) error {
	if size != "" && !reSize.MatchString(size) {
		return userErrorf("size %q: use WIDTHxHEIGHT such as 1024x1024, or an aspect ratio such as 16:9", size)
	}
	return nil
}

type editImageInput struct {
	Prompt   string   `json:"prompt" jsonschema_description:"The change, e.g. make the sky red."`
	Images   []string `json:"images" jsonschema:"minItems=1,maxItems=10" jsonschema_description:"Local paths, http(s) or data: URLs."`
	Mask     string   `json:"mask,omitempty" jsonschema_description:"PNG, transparent where to edit."`
	Model    string   `json:"model,omitempty" jsonschema_description:"Default WENWEN_IMAGE_MODEL."`
	Size     string   `json:"size,omitempty" jsonschema_description:"WxH of the result."`
	Quality  string   `json:"quality,omitempty" jsonschema_description:"low, medium, high."`
	Filename string   `json:"filename,omitempty" jsonschema_description:"Name in the output dir; never overwrites."`
	Save     *bool    `json:"save,omitempty" jsonschema_description:"false: URLs only."`
	Preview  *bool    `json:"preview,omitempty" jsonschema_description:"false: no preview."`
}

func (in *editImageInput) validate() error {
	if strings.TrimSpace(in.Prompt) == "" {
		return userErrorf("prompt is empty: say what to change")
	}
	if len(in.Images) == 0 || len(in.Images) > maxInputImages {
		return userErrorf("give 1 to %d images (local paths, http(s) URLs or data: URLs)", maxInputImages)
	}
	if err := media.CheckFilename(in.Filename); err != nil {
		return err
	}
	return validSize(in.Size)
}

type analyzeImageInput struct {
	Images   []string `json:"images" jsonschema:"minItems=1,maxItems=10" jsonschema_description:"Local paths, http(s) or data: URLs."`
	Question string   `json:"question"`
	Model    string   `json:"model,omitempty" jsonschema_description:"A vision chat model; default WENWEN_CHAT_MODEL."`
}

func (in *analyzeImageInput) validate() error {
	if strings.TrimSpace(in.Question) == "" {
		return userErrorf("question is empty: say what to find out about the images")
	}
	if len(in.Images) == 0 || len(in.Images) > maxInputImages {
		return userErrorf("give 1 to %d images (local paths, http(s) URLs or data: URLs)", maxInputImages)
	}
	return nil
}

type imageOut struct {
	Path   string `json:"path,omitempty"`
	URL    string `json:"url,omitempty"`
	MIME   string `json:"mime,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

type imagesOutput struct {
	Model         string     `json:"model"`
	Images        []imageOut `json:"images"`
	RevisedPrompt string     `json:"revised_prompt,omitempty"`
	Text          string     `json:"text,omitempty" jsonschema_description:"The model's words besides the images."`
	Usage         *usageOut  `json:"usage,omitempty"`
}

type analyzeImageOutput struct {
	Model string   `json:"model"`
	Text  string   `json:"text"`
	Usage usageOut `json:"usage"`
}

// imageSource is one image a model returned: bytes, or a URL to download.
type imageSource struct {
	url  string
	data []byte
}

// imageRun is what one generation or edit produced before saving.
type imageRun struct {
	sources []imageSource
	revised string
	text    []string
	usage   *usageOut
}

func (r *imageRun) addUsage(in, out, total int) {
	if r.usage == nil {
		r.usage = &usageOut{}
	}
	r.usage.PromptTokens += in
	r.usage.CompletionTokens += out
	r.usage.TotalTokens += total
}

func generateImageTool(d *Deps) Tool {
	t := define("generate_image",
		"Generate images from a prompt (gpt-image-1, dall-e-3, flux, gpt-4o-image, Gemini image models); saves them and returns paths, URLs and a preview. Paid per image; 10 s to 2 min.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in generateImageInput) (Result[imagesOutput], error) {
			model, fam, err := imageModel(in.Model, d.Config.ImageModel)
			if err != nil {
				return Result[imagesOutput]{}, err
			}
			n := max(1, in.N)
			call.Progress.Final(0, float64(n+1), fmt.Sprintf("generating %d image(s) with %s", n, model))
			ctx2 := upstream.WithRequestTimeout(ctx, max(d.Config.Timeout, imageRequestMin))
			var run *imageRun
			switch fam {
			case familyImagesAPI:
				run, err = imagesAPIGenerate(ctx2, d, &upstream.ImageRequest{Model: model, Prompt: in.Prompt, N: in.N, Size: in.Size, Quality: in.Quality, Style: in.Style})
			case familyChat:
				run, err = chatImages(ctx2, d, model, in.Prompt, nil, n)
			case familyGemini:
				run, err = geminiImages(ctx2, d, model, in.Prompt, nil, in.Size, n)
			}
			if err != nil {
				return Result[imagesOutput]{}, err
			}
			return saveImageResult(ctx, d, call, model, run, in.Filename, in.Save, in.Preview, "Generated")
		})
	t.Toolset = "images"
	t.Timeout = imageToolTimeout
	return t
}

func editImageTool(d *Deps) Tool {
	t := define("edit_image",
		"Edit or combine images from a prompt (gpt-image-1, dall-e-2, gpt-4o-image, Gemini); optional PNG mask. Saved and previewed like generate_image. Paid per image.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in editImageInput) (Result[imagesOutput], error) {
			model, fam, err := imageModel(in.Model, d.Config.ImageModel)
			if err != nil {
				return Result[imagesOutput]{}, err
			}
			if strings.HasPrefix(strings.ToLower(model), "dall-e-3") {
				return Result[imagesOutput]{}, userErrorf("dall-e-3 cannot edit images: use gpt-image-1 or dall-e-2, or gpt-4o-image")
			}
			if in.Mask != "" && fam != familyImagesAPI {
				return Result[imagesOutput]{}, userErrorf("mask works only with images-API models (gpt-image-1, dall-e-2): describe the area in the prompt instead")
			}
			inputs, err := loadImages(ctx, d, in.Images, fam != familyChat)
			if err != nil {
				return Result[imagesOutput]{}, err
			}
			call.Progress.Final(0, 2, fmt.Sprintf("editing %d image(s) with %s", len(inputs), model))
			ctx2 := upstream.WithRequestTimeout(ctx, max(d.Config.Timeout, imageRequestMin))
			var run *imageRun
			switch fam {
			case familyImagesAPI:
				req := &upstream.ImageEditRequest{Model: model, Prompt: in.Prompt, Size: in.Size, Quality: in.Quality}
				for _, im := range inputs {
					req.Images = append(req.Images, upstream.ImageFile{Name: im.Name(), MIME: im.MIME, Data: im.Data})
				}
				if in.Mask != "" {
					mask, err := loadImages(ctx, d, []string{in.Mask}, true)
					if err != nil {
						return Result[imagesOutput]{}, err
					}
					if mask[0].MIME != "image/png" {
						return Result[imagesOutput]{}, userErrorf("mask must be a PNG with transparent areas, not %s", mask[0].MIME)
					}
					req.Mask = &upstream.ImageFile{Name: "mask.png", MIME: "image/png", Data: mask[0].Data}
				}
				resp, err := d.Client.EditImage(ctx2, req)
				if err != nil {
					return Result[imagesOutput]{}, err
				}
				run, err = imagesAPIRun(resp)
				if err != nil {
					return Result[imagesOutput]{}, err
				}
			case familyChat:
				run, err = chatImages(ctx2, d, model, in.Prompt, inputs, 1)
			case familyGemini:
				run, err = geminiImages(ctx2, d, model, in.Prompt, inputs, "", 1)
			}
			if err != nil {
				return Result[imagesOutput]{}, err
			}
			return saveImageResult(ctx, d, call, model, run, in.Filename, in.Save, in.Preview, "Edited")
		})
	t.Toolset = "images"
	t.Timeout = imageToolTimeout
	return t
}

func analyzeImageTool(d *Deps) Tool {
	t := define("analyze_image",
		"Ask a vision model about images: describe, read text, compare, find objects. Answers text; costs tokens.",
		hints{readOnly: true, idempotent: true, openWorld: true},
		func(ctx context.Context, call *Call, in analyzeImageInput) (Result[analyzeImageOutput], error) {
			model := strings.TrimSpace(in.Model)
			if model == "" {
				model = d.Config.ChatModel
			}
			inputs, err := loadImages(ctx, d, in.Images, false)
			if err != nil {
				return Result[analyzeImageOutput]{}, err
			}
			req := &upstream.ChatRequest{Model: model, Messages: []upstream.ChatMessage{{Role: "user", Content: imageParts(in.Question, inputs)}}}
			resp, err := d.Client.ChatStream(ctx, req, func(delta upstream.ChatDelta) {
				call.Progress.Report(float64(delta.Chars), 0, fmt.Sprintf("received %d characters", delta.Chars))
			})
			if err != nil {
				return Result[analyzeImageOutput]{}, err
			}
			choice, err := resp.First()
			if err != nil {
				return Result[analyzeImageOutput]{}, err
			}
			out := analyzeImageOutput{Model: resp.Model, Text: choice.Message.Text()}
			if out.Model == "" {
				out.Model = model
			}
			if resp.Usage != nil {
				out.Usage = usageOut{resp.Usage.PromptTokens, resp.Usage.CompletionTokens, resp.Usage.TotalTokens}
			}
			if strings.TrimSpace(out.Text) == "" {
				return Result[analyzeImageOutput]{}, userErrorf("%s answered with no text (finish %s): it may not accept images; try gpt-4o or another vision model", out.Model, choice.FinishReason)
			}
			return Result[analyzeImageOutput]{Value: out, Text: fmt.Sprintf("%s\n[%s, %d tokens]", out.Text, out.Model, out.Usage.TotalTokens)}, nil
		})
	t.Toolset = "images"
	return t
}

// loadImages reads image references; with fetch, URLs are downloaded too
// (for APIs that need the bytes).
func loadImages(ctx context.Context, d *Deps, refs []string, fetch bool) ([]media.Input, error) {
	out := make([]media.Input, 0, len(refs))
	for i, ref := range refs {
		in, err := d.Media.LoadImage(ctx, ref)
		if err == nil && fetch {
			err = d.Media.Fetch(ctx, &in)
		}
		if err != nil {
			if len(refs) > 1 {
				return nil, fmt.Errorf("image %d of %d: %w", i+1, len(refs), err)
			}
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// imageParts is a user message of text followed by images: data: URLs for
// loaded bytes, http(s) URLs passed through for the gateway to fetch.
func imageParts(text string, inputs []media.Input) []upstream.ContentPart {
	parts := []upstream.ContentPart{{Type: "text", Text: text}}
	for _, in := range inputs {
		parts = append(parts, upstream.ContentPart{Type: "image_url", ImageURL: &upstream.ImageURL{URL: in.DataURL()}})
	}
	return parts
}

// attachImages adds images to the last user message of a chat request (the
// chat tool's images argument).
func attachImages(ctx context.Context, d *Deps, req *upstream.ChatRequest, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	if len(refs) > maxInputImages {
		return userErrorf("give at most %d images", maxInputImages)
	}
	last := -1
	for i, m := range req.Messages {
		if m.Role == "user" {
			last = i
		}
	}
	if last < 0 {
		return userErrorf("images go with a user message: give prompt, or a user entry in messages")
	}
	inputs, err := loadImages(ctx, d, refs, false)
	if err != nil {
		return err
	}
	text, _ := req.Messages[last].Content.(string)
	req.Messages[last].Content = imageParts(text, inputs)
	return nil
}

func imagesAPIGenerate(ctx context.Context, d *Deps, req *upstream.ImageRequest) (*imageRun, error) {
	resp, err := d.Client.GenerateImage(ctx, req)
	if err != nil {
		return nil, err
	}
	return imagesAPIRun(resp)
}

func imagesAPIRun(resp *upstream.ImageResponse) (*imageRun, error) {
	run := &imageRun{}
	for i, img := range resp.Data {
		if run.revised == "" {
			run.revised = img.RevisedPrompt
		}
		if img.URL != "" {
			run.sources = append(run.sources, imageSource{url: img.URL})
			continue
		}
		data, err := decodeBase64(img.B64JSON)
		if err != nil {
			return nil, fmt.Errorf("image %d: b64_json is not valid base64: %w", i+1, upstream.ErrMalformedResponse)
		}
		run.sources = append(run.sources, imageSource{data: data})
	}
	if u := resp.Usage; u != nil {
		run.addUsage(u.InputTokens, u.OutputTokens, u.TotalTokens)
	}
	return run, nil
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, ";base64,"); i >= 0 && strings.HasPrefix(s, "data:") {
		s = s[i+len(";base64,"):]
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		data, err = base64.RawStdEncoding.DecodeString(s)
	}
	return data, err
}

// chatImages asks a chat image model n times (one image per answer is the
// rule) and extracts every image of each answer.
func chatImages(ctx context.Context, d *Deps, model, prompt string, inputs []media.Input, n int) (*imageRun, error) {
	run := &imageRun{}
	for range n {
		msg := upstream.ChatMessage{Role: "user", Content: prompt}
		if len(inputs) > 0 {
			msg.Content = imageParts(prompt, inputs)
		}
		resp, err := d.Client.Chat(ctx, &upstream.ChatRequest{Model: model, Messages: []upstream.ChatMessage{msg}})
		if err != nil {
			return nil, err
		}
		got, err := chatReplyImages(ctx, d, resp)
		if err != nil {
			return nil, err
		}
		run.sources = append(run.sources, got.sources...)
		run.text = append(run.text, got.text...)
		if got.usage != nil {
			run.addUsage(got.usage.PromptTokens, got.usage.CompletionTokens, got.usage.TotalTokens)
		}
	}
	return run, nil
}

// chatReplyImages takes the images out of a chat answer: Markdown image
// links and data: URIs, else plain links, else bare image URLs.
func chatReplyImages(ctx context.Context, d *Deps, resp *upstream.ChatResponse) (*imageRun, error) {
	choice, err := resp.First()
	if err != nil {
		return nil, err
	}
	run := &imageRun{}
	if u := resp.Usage; u != nil {
		run.addUsage(u.PromptTokens, u.CompletionTokens, u.TotalTokens)
	}
	refs, rest := extractImageRefs(choice.Message.Text())
	if len(refs) == 0 {
		return nil, userErrorf("%s answered without an image (finish %s): %s; rephrase the prompt or try another model", resp.Model, choice.FinishReason, truncate(strings.TrimSpace(rest), 500))
	}
	for _, ref := range refs {
		in, err := d.Media.LoadImage(ctx, ref)
		if err != nil {
			if strings.HasPrefix(ref, "data:") {
				return nil, fmt.Errorf("the model's inline image: %w", err)
			}
			return nil, err
		}
		if in.Data != nil {
			run.sources = append(run.sources, imageSource{data: in.Data})
		} else {
			run.sources = append(run.sources, imageSource{url: in.URL})
		}
	}
	if rest = dropProgressLines(rest); rest != "" {
		run.text = append(run.text, rest)
	}
	return run, nil
}

// dropProgressLines removes the quoted progress lines ("> 生成中...")
// that chat image channels put before the result.
func dropProgressLines(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, ">") {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, "\n")
}

var (
	reMDImage  = regexp.MustCompile(`!\[[^\]]*\]\(\s*(data:image/[^\s)]+|https?://[^\s)]+)(?:\s+"[^"]*")?\s*\)`)
	reMDLink   = regexp.MustCompile(`\[[^\]]*\]\(\s*(https?://[^\s)]+)(?:\s+"[^"]*")?\s*\)`)
	reBareURL  = regexp.MustCompile(`(?i)https?://[^\s()<>"'\]\[]+\.(?:png|jpe?g|webp|gif)(?:\?[^\s()<>"'\]\[]*)?`)
	reBareData = regexp.MustCompile(`data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/=]+`)
)

// extractImageRefs finds image references in a chat answer, in order and
// without repeats, and returns the text without them.
func extractImageRefs(content string) (refs []string, rest string) {
	seen := map[string]bool{}
	collect := func(re *regexp.Regexp, group int) {
		for _, m := range re.FindAllStringSubmatch(content, -1) {
			if ref := m[group]; !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
		content = re.ReplaceAllString(content, "")
	}
	collect(reMDImage, 1)
	if len(refs) == 0 {
		collect(reBareData, 0)
	}
	if len(refs) == 0 {
		collect(reMDLink, 1)
	}
	if len(refs) == 0 {
		collect(reBareURL, 0)
	}
	return refs, content
}

// geminiAspect turns a size into an aspect ratio Gemini understands.
func geminiAspect(size string) (string, error) {
	if size == "" || size == "auto" {
		return "", nil
	}
	if strings.Contains(size, ":") {
		return size, nil
	}
	var w, h int
	if _, err := fmt.Sscanf(size, "%dx%d", &w, &h); err != nil || w <= 0 || h <= 0 {
		return "", userErrorf("size %q: Gemini image models take an aspect ratio such as 1:1, 16:9 or 3:4", size)
	}
	g := gcd(w, h)
	return fmt.Sprintf("%d:%d", w/g, h/g), nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// geminiImages calls a Gemini image model n times through generateContent;
// input images go as inline data.
func geminiImages(ctx context.Context, d *Deps, model, prompt string, inputs []media.Input, size string, n int) (*imageRun, error) {
	aspect, err := geminiAspect(size)
	if err != nil {
		return nil, err
	}
	parts := []upstream.GeminiPart{{Text: prompt}}
	for _, in := range inputs {
		parts = append(parts, upstream.GeminiPart{InlineData: &upstream.GeminiBlob{MIMEType: in.MIME, Data: in.Base64()}})
	}
	req := &upstream.GenerateContentRequest{
		Contents:         []upstream.GeminiContent{{Role: "user", Parts: parts}},
		GenerationConfig: &upstream.GenerationConfig{ResponseModalities: []string{"TEXT", "IMAGE"}},
	}
	if aspect != "" {
		req.GenerationConfig.ImageConfig = &upstream.ImageConfig{AspectRatio: aspect}
	}
	run := &imageRun{}
	for range n {
		resp, err := d.Client.GenerateContent(ctx, model, req)
		if err != nil {
			return nil, err
		}
		if u := resp.UsageMetadata; u != nil {
			run.addUsage(u.PromptTokenCount, u.CandidatesTokenCount, u.TotalTokenCount)
		}
		blobs := resp.Blobs()
		if len(blobs) == 0 {
			return nil, userErrorf("%s answered without an image (finish %s): %s; rephrase the prompt", model, resp.Candidates[0].FinishReason, truncate(strings.TrimSpace(resp.Text()), 500))
		}
		for i, b := range blobs {
			data, err := decodeBase64(b.Data)
			if err != nil {
				return nil, fmt.Errorf("image %d: inline data is not valid base64: %w", i+1, upstream.ErrMalformedResponse)
			}
			run.sources = append(run.sources, imageSource{data: data})
		}
		if t := strings.TrimSpace(resp.Text()); t != "" {
			run.text = append(run.text, t)
		}
	}
	return run, nil
}

// saveImageResult saves every image, makes the previews and builds the
// result. The previews share a byte budget so that the whole result stays
// well under 1 MiB whatever the gateway sent.
func saveImageResult(ctx context.Context, d *Deps, call *Call, model string, run *imageRun, filename string, save, preview *bool, verb string) (Result[imagesOutput], error) {
	out := imagesOutput{Model: model, Images: make([]imageOut, 0, len(run.sources)), RevisedPrompt: run.revised, Usage: run.usage}
	if t := strings.Join(run.text, "\n"); t != "" {
		out.Text = truncate(t, 2000)
	}
	wantPreview := preview == nil || *preview
	budget := min(previewMaxOne, previewBudget/max(1, len(run.sources)))
	var (
		extra []mcp.Content
		notes []string
	)
	total := float64(len(run.sources) + 1)
	for i, src := range run.sources {
		call.Progress.Final(float64(i+1), total, fmt.Sprintf("saving image %d of %d", i+1, len(run.sources)))
		opts := media.SaveOptions{Filename: filename, Kind: "image", Index: i, Save: save}
		var (
			saved media.Saved
			err   error
		)
		if src.data != nil {
			saved, err = d.Media.SaveBytes(ctx, src.data, opts)
		} else {
			saved, err = d.Media.SaveURL(ctx, src.url, opts)
		}
		if err != nil {
			return Result[imagesOutput]{}, savedSoFar(fmt.Errorf("image %d of %d: %w", i+1, len(run.sources), err), out.Images)
		}
		img := imageOut{Path: saved.Path, URL: saved.URL, MIME: saved.MIME, Bytes: saved.Bytes, Width: saved.Width, Height: saved.Height}
		if wantPreview {
			jpg, note := makePreview(ctx, d, src, saved, &img, budget)
			if jpg != nil {
				extra = append(extra, mcp.NewImageContent(base64.StdEncoding.EncodeToString(jpg), "image/jpeg"))
			}
			if note != "" {
				notes = append(notes, fmt.Sprintf("image %d: %s", i+1, note))
			}
		}
		out.Images = append(out.Images, img)
	}
	return Result[imagesOutput]{Value: out, Text: imagesText(verb, out, notes), Extra: extra}, nil
}

// savedSoFar adds the files already saved to an error, so that nothing paid
// for is lost from sight.
func savedSoFar(err error, done []imageOut) error {
	var paths []string
	for _, im := range done {
		if im.Path != "" {
			paths = append(paths, im.Path)
		} else if im.URL != "" {
			paths = append(paths, im.URL)
		}
	}
	if len(paths) == 0 {
		return err
	}
	return fmt.Errorf("%w (already saved: %s)", err, strings.Join(paths, ", "))
}

// makePreview makes the JPEG preview of one image from the bytes at hand, the
// saved file, or (when nothing was saved) a fetch of its URL; it fills in
// what the image's entry lacks. A failure is a note, not an error.
func makePreview(ctx context.Context, d *Deps, src imageSource, saved media.Saved, img *imageOut, budget int) ([]byte, string) {
	var (
		jpg []byte
		err error
	)
	switch {
	case src.data != nil:
		jpg, _, _, err = media.Preview(src.data, budget)
	case saved.Path != "":
		jpg, _, _, err = media.PreviewFile(saved.Path, budget)
	default:
		// Not saved: fetch it (with the input cap) just to show it.
		in := media.Input{Ref: src.url, URL: src.url}
		if err = d.Media.Fetch(ctx, &in); err == nil {
			img.MIME, img.Bytes = in.MIME, int64(len(in.Data))
			if cfg, _, cerr := image.DecodeConfig(bytes.NewReader(in.Data)); cerr == nil {
				img.Width, img.Height = cfg.Width, cfg.Height
			}
			jpg, _, _, err = media.Preview(in.Data, budget)
		}
	}
	if err != nil {
		return nil, "no preview (" + err.Error() + ")"
	}
	return jpg, ""
}

func imagesText(verb string, out imagesOutput, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d image(s) with %s:\n", verb, len(out.Images), out.Model)
	for i, im := range out.Images {
		where := im.Path
		switch {
		case where == "" && im.URL != "":
			where = im.URL + " (not saved)"
		case where == "":
			where = "(not saved: saving is off and the gateway sent the image inline; see the preview)"
		}
		fmt.Fprintf(&b, "%d. %s", i+1, where)
		if im.Width > 0 {
			fmt.Fprintf(&b, " (%d×%d", im.Width, im.Height)
			if im.MIME != "" {
				fmt.Fprintf(&b, " %s", im.MIME)
			}
			b.WriteString(")")
		}
		b.WriteString("\n")
	}
	if out.RevisedPrompt != "" {
		fmt.Fprintf(&b, "Revised prompt: %s\n", truncate(out.RevisedPrompt, 500))
	}
	if out.Text != "" {
		fmt.Fprintf(&b, "Model said: %s\n", truncate(out.Text, 500))
	}
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
