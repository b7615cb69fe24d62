package tools

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// defaultGeminiModel is used when gemini_generate names no model.
const defaultGeminiModel = "gemini-2.5-flash"

// Gemini takes inline data up to about 20 MB per request.
const (
	geminiMaxImages     = 10
	geminiMaxImageBytes = 7 << 20
)

type geminiGenerateInput struct {
	Prompt string   `json:"prompt"`
	Model  string   `json:"model,omitempty" jsonschema_description:"Default gemini-2.5-flash; …-image… models draw."`
	Images []string `json:"images,omitempty" jsonschema_description:"Paths, URLs or data: URLs."`
	System string   `json:"system,omitempty"`
}

func (in *geminiGenerateInput) validate() error {
	if strings.TrimSpace(in.Prompt) == "" {
		return userErrorf("prompt is empty")
	}
	if len(in.Images) > geminiMaxImages {
		return userErrorf("%d images: at most %d per call", len(in.Images), geminiMaxImages)
	}
	if strings.ContainsAny(in.Model, "/?#:% ") {
		return userErrorf("model %q is not a model id: take one from list_models", in.Model)
	}
	return nil
}

type geminiImageOut struct {
	Path   string `json:"path,omitempty" jsonschema_description:"Absent when saving is off."`
	MIME   string `json:"mime"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

type geminiGenerateOutput struct {
	Model        string           `json:"model"`
	Text         string           `json:"text"`
	Images       []geminiImageOut `json:"images,omitempty"`
	FinishReason string           `json:"finish_reason,omitempty"`
	Usage        tokensOut        `json:"usage"`
}

func geminiGenerateTool(d *Deps) Tool {
	t := define("gemini_generate",
		"Native Gemini API with input images; image models (gemini-2.5-flash-image-preview) answer with saved, previewed images. Costs tokens.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in geminiGenerateInput) (Result[geminiGenerateOutput], error) {
			model := in.Model
			if model == "" {
				model = defaultGeminiModel
			}
			req := &upstream.GenerateContentRequest{}
			if in.System != "" {
				req.SystemInstruction = &upstream.GeminiContent{Parts: []upstream.GeminiPart{{Text: in.System}}}
			}
			parts := []upstream.GeminiPart{{Text: in.Prompt}}
			if len(in.Images) > 0 {
				images, err := loadInlineImages(ctx, d, in.Images, geminiMaxImageBytes)
				if err != nil {
					return Result[geminiGenerateOutput]{}, err
				}
				for _, img := range images {
					parts = append(parts, upstream.GeminiPart{InlineData: &upstream.GeminiBlob{MIMEType: img.MIME, Data: img.Base64()}})
				}
			}
			req.Contents = []upstream.GeminiContent{{Role: "user", Parts: parts}}
			if strings.Contains(strings.ToLower(model), "image") {
				req.GenerationConfig = &upstream.GenerationConfig{ResponseModalities: []string{"TEXT", "IMAGE"}}
			}
			call.Progress.Report(1, 0, "waiting for "+model)
			resp, err := d.Client.GenerateContent(ctx, model, req)
			if err != nil {
				return Result[geminiGenerateOutput]{}, err
			}
			out := geminiGenerateOutput{Model: model, Text: resp.Text(), FinishReason: resp.Candidates[0].FinishReason}
			if u := resp.UsageMetadata; u != nil {
				out.Usage = tokensOut{u.PromptTokenCount, u.CandidatesTokenCount + u.ThoughtsTokenCount}
			}
			var extra []mcp.Content
			for i, blob := range resp.Blobs() {
				data, err := base64.StdEncoding.DecodeString(blob.Data)
				if err != nil {
					return Result[geminiGenerateOutput]{}, fmt.Errorf("image %d of the answer is not base64: %w", i+1, upstream.ErrMalformedResponse)
				}
				saved, err := d.Media.SaveBytes(ctx, data, media.SaveOptions{Kind: "image", Index: i})
				if err != nil {
					return Result[geminiGenerateOutput]{}, err
				}
				out.Images = append(out.Images, geminiImageOut{Path: saved.Path, MIME: saved.MIME, Width: saved.Width, Height: saved.Height})
				if i == 0 {
					if jpg, _, _, err := media.Preview(data, 0); err == nil {
						extra = append(extra, mcp.NewImageContent(base64.StdEncoding.EncodeToString(jpg), "image/jpeg"))
					}
				}
			}
			if out.Text == "" && len(out.Images) == 0 {
				return Result[geminiGenerateOutput]{}, userErrorf("%s returned nothing (finish reason %s): rephrase the prompt or try another model", model, out.FinishReason)
			}
			return Result[geminiGenerateOutput]{Value: out, Text: geminiText(out), Extra: extra}, nil
		})
	t.Toolset = "gemini"
	return t
}

func geminiText(out geminiGenerateOutput) string {
	var b strings.Builder
	if out.Text != "" {
		b.WriteString(out.Text)
		b.WriteString("\n")
	}
	for _, img := range out.Images {
		where := img.Path
		if where == "" {
			where = "not saved (WENWEN_SAVE_MEDIA=false)"
		}
		fmt.Fprintf(&b, "image: %s (%s, %dx%d)\n", where, img.MIME, img.Width, img.Height)
	}
	fmt.Fprintf(&b, "[%s, finish %s, %d in / %d out tokens]", out.Model, out.FinishReason, out.Usage.InputTokens, out.Usage.OutputTokens)
	return b.String()
}
