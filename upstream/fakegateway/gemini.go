package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"strings"
)

// RouteGemini is the Gemini-format route, POST /v1beta/models/{model}:{action};
// actions served: generateContent.
const RouteGemini = "POST /v1beta/models/{target}"

// geminiAspects are the aspect ratios Gemini image models accept, with the
// size they answer.
var geminiAspects = map[string][2]int{
	"1:1": {1024, 1024}, "2:3": {832, 1248}, "3:2": {1248, 832}, "3:4": {864, 1184}, "4:3": {1184, 864},
	"4:5": {896, 1152}, "5:4": {1152, 896}, "9:16": {768, 1344}, "16:9": {1344, 768}, "21:9": {1536, 672},
}

func (g *Gateway) handleGemini() {
	g.Handle(RouteGemini, g.gemini)
}

// GeminiKey returns the key of a Gemini-route request with new-api's
// precedence: x-goog-api-key, then ?key=, then Authorization.
func GeminiKey(r *http.Request) string {
	if k := r.Header.Get("X-Goog-Api-Key"); k != "" {
		return k
	}
	if k := r.URL.Query().Get("key"); k != "" {
		return k
	}
	return BearerKey(r)
}

// gemini serves POST /v1beta/models/{model}:{action}.
func (g *Gateway) gemini(w http.ResponseWriter, r *http.Request) {
	model, action, ok := strings.Cut(r.PathValue("target"), ":")
	if !ok || model == "" {
		g.notFound(w, r)
		return
	}
	if !g.CheckKey(w, GeminiKey(r), "badkey-gemini") {
		return
	}
	switch action {
	case "generateContent":
		g.geminiGenerate(w, r, model)
	default:
		g.notFound(w, r)
	}
}

// geminiRequest is the part of a generateContent body the fake checks.
type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	GenerationConfig  *struct {
		ResponseModalities []string `json:"responseModalities"`
		ImageConfig        *struct {
			AspectRatio string `json:"aspectRatio"`
		} `json:"imageConfig"`
	} `json:"generationConfig"`
}

type geminiContent struct {
	Role  string            `json:"role"`
	Parts []json.RawMessage `json:"parts"`
}

// geminiPartKeys are the part fields of which exactly one must be set.
var geminiPartKeys = []string{"text", "inlineData", "inline_data", "fileData", "file_data", "functionCall", "functionResponse"}

// geminiInput is what the checks learned from the request.
type geminiInput struct {
	text      string
	images    [][2]int // width, height of each inline image
	snakeCase bool     // some part used inline_data / mime_type
	tokens    int
}

// checkGeminiRequest validates contents and inline data the way the
// Gemini API does; a non-empty message is an upstream 400.
func checkGeminiRequest(req *geminiRequest) (geminiInput, string) {
	var in geminiInput
	if len(req.Contents) == 0 {
		return in, "contents is not specified"
	}
	for i, c := range req.Contents {
		switch c.Role {
		case "", "user", "model":
		default:
			return in, fmt.Sprintf("Please use a valid role: user, model (contents[%d].role is %q).", i, c.Role)
		}
		if len(c.Parts) == 0 {
			return in, fmt.Sprintf("contents[%d].parts must not be empty.", i)
		}
		for j, raw := range c.Parts {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				return in, fmt.Sprintf("contents[%d].parts[%d] must be an object.", i, j)
			}
			set := 0
			for _, k := range geminiPartKeys {
				if _, ok := fields[k]; ok {
					set++
				}
			}
			if set != 1 {
				return in, fmt.Sprintf("contents[%d].parts[%d] must have exactly one of text, inlineData, fileData, functionCall, functionResponse.", i, j)
			}
			if t, ok := fields["text"]; ok {
				var s string
				if json.Unmarshal(t, &s) != nil {
					return in, fmt.Sprintf("contents[%d].parts[%d].text must be a string.", i, j)
				}
				if c.Role != "model" {
					in.text = s
				}
				in.tokens += len(strings.Fields(s))
			}
			blob, snake := fields["inlineData"], false
			if b, ok := fields["inline_data"]; ok {
				blob, snake = b, true
			}
			if blob == nil {
				continue
			}
			in.snakeCase = in.snakeCase || snake
			var d struct {
				MIMEType      string  `json:"mimeType"`
				MIMETypeSnake string  `json:"mime_type"`
				Data          *string `json:"data"`
			}
			if err := json.Unmarshal(blob, &d); err != nil || d.Data == nil {
				return in, fmt.Sprintf("contents[%d].parts[%d].inline_data needs mime_type and data.", i, j)
			}
			mt := d.MIMEType
			if d.MIMETypeSnake != "" {
				in.snakeCase = true
				mt = d.MIMETypeSnake
			}
			if mt == "" {
				return in, fmt.Sprintf("contents[%d].parts[%d].inline_data.mime_type is required.", i, j)
			}
			data, err := base64.StdEncoding.DecodeString(*d.Data)
			if err != nil || len(data) == 0 {
				return in, fmt.Sprintf("Invalid value at 'contents[%d].parts[%d].inline_data.data' (TYPE_BYTES): invalid base64.", i, j)
			}
			if strings.HasPrefix(mt, "image/") {
				cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
				if err != nil {
					return in, fmt.Sprintf("Unable to process input image at contents[%d].parts[%d]: not a valid %s.", i, j, mt)
				}
				in.images = append(in.images, [2]int{cfg.Width, cfg.Height})
				in.tokens += 258
			}
		}
	}
	return in, ""
}

// geminiGenerate serves :generateContent. Image models (with "image" in the
// name) answer a text part and an inline PNG: the size of the first input
// image for an edit, else from imageConfig.aspectRatio. Inline data comes
// back as inlineData/mimeType, or as inline_data/mime_type when the request
// used that spelling. Other models answer text.
func (g *Gateway) geminiGenerate(w http.ResponseWriter, r *http.Request, model string) {
	if !g.KnownModel(model) {
		g.replaySubst(w, "gemini-model-unknown", "gemini-9-unknown", model)
		return
	}
	var req geminiRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if g.ReplayFault(w, model, false) {
		return
	}
	in, msg := checkGeminiRequest(&req)
	if msg != "" {
		WriteUpstreamError(w, http.StatusBadRequest, "gemini_error", "", "INVALID_ARGUMENT", msg)
		return
	}
	if model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}

	var parts []map[string]any
	outTokens := 0
	if strings.Contains(model, "image") {
		wh, msg := geminiImageSize(&req, in)
		if msg != "" {
			WriteUpstreamError(w, http.StatusBadRequest, "gemini_error", "", "INVALID_ARGUMENT", msg)
			return
		}
		data := base64.StdEncoding.EncodeToString(ImagePNG(wh[0], wh[1], g.nextSeq()))
		blob := map[string]string{"mimeType": "image/png", "data": data}
		key := "inlineData"
		if in.snakeCase {
			blob = map[string]string{"mime_type": "image/png", "data": data}
			key = "inline_data"
		}
		parts = []map[string]any{{"text": "Here is the image."}, {key: blob}}
		outTokens = 1290
	} else {
		text := fmt.Sprintf("Hello from fakegateway (%s). You said: %q.", model, in.text)
		parts = []map[string]any{{"text": text}}
		outTokens = len(strings.Fields(text))
	}
	promptTokens := max(1, in.tokens)
	WriteUpstreamJSON(w, http.StatusOK, map[string]any{
		"candidates": []map[string]any{{
			"content":       map[string]any{"role": "model", "parts": parts},
			"finishReason":  "STOP",
			"index":         0,
			"safetyRatings": []any{},
		}},
		"usageMetadata": map[string]any{
			"promptTokenCount": promptTokens, "candidatesTokenCount": outTokens, "totalTokenCount": promptTokens + outTokens,
			"thoughtsTokenCount": 0, "cachedContentTokenCount": 0,
		},
	})
}

// geminiImageSize picks the answer's size: the first input image's (at most
// 1024 on the long side) or the requested aspect ratio's.
func geminiImageSize(req *geminiRequest, in geminiInput) ([2]int, string) {
	if len(in.images) > 0 {
		w, h := in.images[0][0], in.images[0][1]
		if long := max(w, h); long > 1024 {
			w, h = max(1, w*1024/long), max(1, h*1024/long)
		}
		return [2]int{w, h}, ""
	}
	aspect := "1:1"
	if gc := req.GenerationConfig; gc != nil && gc.ImageConfig != nil && gc.ImageConfig.AspectRatio != "" {
		aspect = gc.ImageConfig.AspectRatio
	}
	wh, ok := geminiAspects[aspect]
	if !ok {
		return wh, fmt.Sprintf("Unsupported aspect ratio %q: use 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9 or 21:9.", aspect)
	}
	return wh, ""
}
