package fakegateway

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	// Decoders the edit routes use to check uploaded images.
	_ "image/gif"
	_ "image/jpeg"

	_ "golang.org/x/image/webp"
)

// Route keys of the image family, for [Gateway.Count] and [Gateway.Last].
const (
	RouteImageGenerations = "POST /v1/images/generations"
	RouteImageEdits       = "POST /v1/images/edits"
	// RouteImageFile serves generated PNGs, like the object store the real
	// channels link to (no auth). Names are <seq>-<w>x<h>.png; a "cut-"
	// prefix drops the connection halfway, an "html-" prefix answers an HTML
	// page with status 200, like an expired link behind a login wall.
	RouteImageFile = "GET /fake/image/{name}"
)

// Chat image models: [ChatImageModel] answers chat with progress lines and a
// Markdown link to a PNG on [RouteImageFile]; [GeminiImageModel] answers chat
// with a Markdown data: URI, as new-api renders Gemini inline images.
const (
	ChatImageModel   = "gpt-4o-image"
	GeminiImageModel = "gemini-2.5-flash-image-preview"
)

// Prompt markers: an image request whose prompt contains one answers links
// that misbehave on download (images API URL answers and [ChatImageModel]).
const (
	PromptCutDownload  = "fault-cut-download"  // the linked file breaks off halfway
	PromptHTMLDownload = "fault-html-download" // the link serves an HTML page with status 200
)

// maxFakeImageSide bounds generated images (memory and time in tests).
const maxFakeImageSide = 4096

func (g *Gateway) handleImages() {
	g.Handle(RouteImageGenerations, g.imageGenerations)
	g.Handle(RouteImageEdits, g.imageEdits)
	g.Handle(RouteImageFile, g.imageFile)
}

// ImagePNG returns a w×h PNG whose pattern depends on seed: real, decodable
// and different for each seed, so that two results never share a hash. It is
// greyscale, which keeps 2048×2048 images quick to make under -race.
func ImagePNG(w, h, seed int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x := range row {
			row[x] = uint8((x ^ y) + seed*37)
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	_ = enc.Encode(&buf, img) // cannot fail on an in-memory buffer
	return buf.Bytes()
}

// imageURLFor is ImageURL, misbehaving as the prompt's markers ask.
func (g *Gateway) imageURLFor(prompt string, w, h int) string {
	u := g.ImageURL(w, h)
	switch {
	case strings.Contains(prompt, PromptCutDownload):
		return strings.Replace(u, "/fake/image/", "/fake/image/cut-", 1)
	case strings.Contains(prompt, PromptHTMLDownload):
		return strings.Replace(u, "/fake/image/", "/fake/image/html-", 1)
	}
	return u
}

// ImageURL is the address of a generated w×h PNG on [RouteImageFile].
func (g *Gateway) ImageURL(w, h int) string {
	return fmt.Sprintf("%s/fake/image/%d-%dx%d.png", g.URL, g.nextSeq(), w, h)
}

var reImageFile = regexp.MustCompile(`^(cut-|html-)?(\d+)-(\d+)x(\d+)\.png$`)

// imageFile serves GET /fake/image/{name}.
func (g *Gateway) imageFile(w http.ResponseWriter, r *http.Request) {
	m := reImageFile.FindStringSubmatch(r.PathValue("name"))
	if m == nil {
		http.NotFound(w, r)
		return
	}
	seed, _ := strconv.Atoi(m[2])
	iw, _ := strconv.Atoi(m[3])
	ih, _ := strconv.Atoi(m[4])
	if iw < 1 || ih < 1 || iw > maxFakeImageSide || ih > maxFakeImageSide {
		http.NotFound(w, r)
		return
	}
	if m[1] == "html-" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><body>Please sign in</body></html>")
		return
	}
	b := ImagePNG(iw, ih, seed)
	if m[1] == "cut-" {
		writeCut(w, "image/png", b)
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// imageModel is what the fake knows of an images-API model.
type imageModel struct {
	sizes     []string // accepted sizes; nil: any WxH from 64 to 2048
	qualities []string // nil: any quality passes through
	styles    []string // nil: style refused (dall-e-3 only)
	maxN      int
	b64Only   bool // answers b64_json and refuses response_format (gpt-image-1)
	edits     bool
}

// imageModels are the images-API models of the catalogue.
var imageModels = map[string]imageModel{
	"dall-e-2":         {sizes: []string{"256x256", "512x512", "1024x1024"}, qualities: []string{"standard"}, maxN: 10, edits: true},
	"dall-e-3":         {sizes: []string{"1024x1024", "1792x1024", "1024x1792"}, qualities: []string{"standard", "hd"}, styles: []string{"vivid", "natural"}, maxN: 1},
	"gpt-image-1":      {sizes: []string{"1024x1024", "1536x1024", "1024x1536", "auto"}, qualities: []string{"low", "medium", "high", "auto"}, maxN: 10, b64Only: true, edits: true},
	"flux-kontext-pro": {maxN: 4, edits: true},
}

// imagesRequest is the JSON body of POST /v1/images/generations; field types
// are strict.
type imagesRequest struct {
	Model          string   `json:"model"`
	Prompt         *string  `json:"prompt"`
	N              *float64 `json:"n"`
	Size           string   `json:"size"`
	Quality        string   `json:"quality"`
	Style          string   `json:"style"`
	ResponseFormat string   `json:"response_format"`
}

// imageParams are the checked settings of a generation or an edit.
type imageParams struct {
	model     string
	prompt    string
	n         int
	w, h      int
	b64       bool
	revise    bool // dall-e-3 rewrites prompts
	usage     bool // gpt-image models report tokens
	emptyKeys bool // all three keys present, unused ones "" (new-api re-serialised)
}

// checkImageParams validates what OpenAI and new-api check; a non-empty
// message is an upstream 400 naming param.
func checkImageParams(m imageModel, model, prompt string, n *float64, size, quality, style, format string) (imageParams, string, string) {
	p := imageParams{model: model, prompt: prompt, n: 1, w: 1024, h: 1024}
	if strings.TrimSpace(prompt) == "" {
		return p, "prompt", "Missing required parameter: 'prompt'."
	}
	if n != nil {
		if *n != float64(int(*n)) || *n < 1 || int(*n) > m.maxN {
			return p, "n", fmt.Sprintf("Invalid 'n': %s supports 1 to %d images per request, got %v.", model, m.maxN, *n)
		}
		p.n = int(*n)
	}
	if size != "" && size != "auto" {
		if m.sizes != nil && !slices.Contains(m.sizes, size) {
			return p, "size", fmt.Sprintf("Invalid value: '%s'. Supported values are: %s.", size, quoteList(m.sizes))
		}
		ws, hs, ok := strings.Cut(size, "x")
		w, errW := strconv.Atoi(ws)
		h, errH := strconv.Atoi(hs)
		if !ok || errW != nil || errH != nil || w < 64 || h < 64 || w > 2048 || h > 2048 {
			return p, "size", fmt.Sprintf("Invalid value: '%s'. Expected WIDTHxHEIGHT between 64 and 2048.", size)
		}
		p.w, p.h = w, h
	}
	if quality != "" && m.qualities != nil && !slices.Contains(m.qualities, quality) {
		return p, "quality", fmt.Sprintf("Invalid value: '%s'. Supported values are: %s.", quality, quoteList(m.qualities))
	}
	if style != "" && !slices.Contains(m.styles, style) {
		if m.styles == nil {
			return p, "style", fmt.Sprintf("Unknown parameter: 'style' is only supported by dall-e-3, not %s.", model)
		}
		return p, "style", fmt.Sprintf("Invalid value: '%s'. Supported values are: %s.", style, quoteList(m.styles))
	}
	switch {
	case m.b64Only && format != "":
		return p, "response_format", "Unknown parameter: 'response_format'."
	case format != "" && format != "url" && format != "b64_json":
		return p, "response_format", fmt.Sprintf("Invalid value: '%s'. Supported values are: 'url' and 'b64_json'.", format)
	}
	p.b64 = m.b64Only || format == "b64_json"
	p.revise = model == "dall-e-3"
	p.usage = m.b64Only
	p.emptyKeys = strings.HasPrefix(model, "flux")
	return p, "", ""
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// imagesImage is one entry of an images answer.
type imagesImage struct {
	B64JSON       *string `json:"b64_json,omitempty"`
	RevisedPrompt *string `json:"revised_prompt,omitempty"`
	URL           *string `json:"url,omitempty"`
}

// imagesAnswer builds the answer: URLs on [RouteImageFile] or base64, in
// the key order new-api relays; cut makes every URL one that breaks
// halfway.
func (g *Gateway) imagesAnswer(p imageParams, cut bool) map[string]any {
	data := make([]imagesImage, p.n)
	empty := ""
	for i := range data {
		var d imagesImage
		if p.b64 {
			s := base64.StdEncoding.EncodeToString(ImagePNG(p.w, p.h, g.nextSeq()))
			d.B64JSON = &s
		} else {
			u := g.imageURLFor(p.prompt, p.w, p.h)
			if cut && !strings.Contains(u, "/fake/image/cut-") {
				u = strings.Replace(u, "/fake/image/", "/fake/image/cut-", 1)
			}
			d.URL = &u
		}
		if p.revise {
			rp := "A detailed rendering of: " + p.prompt
			d.RevisedPrompt = &rp
		}
		if p.emptyKeys {
			if d.B64JSON == nil {
				d.B64JSON = &empty
			}
			if d.URL == nil {
				d.URL = &empty
			}
			if d.RevisedPrompt == nil {
				d.RevisedPrompt = &empty
			}
		}
		data[i] = d
	}
	out := map[string]any{"created": time.Now().Unix(), "data": data}
	if p.usage {
		in := max(1, len(strings.Fields(p.prompt)))
		out["usage"] = map[string]any{"input_tokens": in, "output_tokens": 1056 * p.n, "total_tokens": in + 1056*p.n,
			"input_tokens_details": map[string]int{"image_tokens": 0, "text_tokens": in}}
	}
	return out
}

// imageGenerations serves POST /v1/images/generations.
func (g *Gateway) imageGenerations(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "badkey-images") {
		return
	}
	var req imagesRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if req.Model == "" {
		req.Model = "dall-e-2" // new-api's default for this route
	}
	if !g.KnownModel(req.Model) {
		g.replaySubst(w, "images-model-unknown", "dall-e-9", req.Model)
		return
	}
	if g.ReplayFault(w, req.Model, false) {
		return
	}
	m, ok := imageModels[req.Model]
	fault := strings.HasPrefix(req.Model, "fault-")
	if fault {
		m, ok = imageModels["dall-e-2"], true
	}
	if !ok {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "model", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. This model does not generate images on /v1/images/generations.", req.Model))
		return
	}
	prompt := ""
	if req.Prompt != nil {
		prompt = *req.Prompt
	}
	p, param, msg := checkImageParams(m, req.Model, prompt, req.N, req.Size, req.Quality, req.Style, req.ResponseFormat)
	if msg != "" {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", param, "invalid_value", msg)
		return
	}
	g.writeImages(w, r, p)
}

// writeImages answers with the images of p, misbehaving for the fault models
// that are not a plain replay.
func (g *Gateway) writeImages(w http.ResponseWriter, r *http.Request, p imageParams) {
	switch p.model {
	case ModelFaultSlow:
		if !g.SlowWait(r.Context()) {
			return
		}
	case ModelFaultBadJSON:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"created":1,"data":[{"url":"`)
		return
	}
	WriteUpstreamJSON(w, http.StatusOK, g.imagesAnswer(p, p.model == ModelFaultCut))
}

// FormPart is one part of a multipart request body.
type FormPart struct {
	Field       string // form field name, e.g. "image[]"
	Filename    string // "" for plain fields
	ContentType string
	Data        []byte
}

// ParseMultipart splits a recorded multipart/form-data request (from
// [Gateway.Last]) into its parts, in order.
func ParseMultipart(req Request) ([]FormPart, error) {
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("not multipart/form-data: %q", req.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	var parts []FormPart
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, FormPart{Field: p.FormName(), Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
	}
}

// uploadedImage is a checked image from an edit request.
type uploadedImage struct {
	name   string
	format string
	w, h   int
	size   int
}

// imageEdits serves POST /v1/images/edits: multipart, images in repeated
// "image[]" fields (wenwen's name), each checked to be a real image.
func (g *Gateway) imageEdits(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "badkey-images") {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		writeOwnError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("Invalid request: Content-Type must be multipart/form-data, got %q", r.Header.Get("Content-Type")))
		return
	}
	if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
		writeOwnError(w, http.StatusBadRequest, "invalid_request", "Invalid request: cannot parse multipart form: "+err.Error())
		return
	}
	form := r.MultipartForm
	model := r.FormValue("model")
	if model == "" {
		model = "dall-e-2"
	}
	if !g.KnownModel(model) {
		g.replaySubst(w, "images-model-unknown", "dall-e-9", model)
		return
	}
	if g.ReplayFault(w, model, false) {
		return
	}
	m, ok := imageModels[model]
	if strings.HasPrefix(model, "fault-") {
		m, ok = imageModels["gpt-image-1"], true
	}
	if !ok || !m.edits {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "model", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Image edits are supported by dall-e-2, gpt-image-1 and flux-kontext-pro.", model))
		return
	}
	files := form.File["image[]"]
	if len(files) == 0 {
		msg := "Missing required parameter: 'image[]'."
		if len(form.File["image"]) > 0 {
			msg += " The images were sent as 'image'; this gateway reads repeated 'image[]' fields."
		}
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "image[]", "missing_required_parameter", msg)
		return
	}
	maxImages, maxBytes := 16, 25<<20
	if model == "dall-e-2" {
		maxImages, maxBytes = 1, 4<<20
	}
	if len(files) > maxImages {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "image[]", "invalid_value",
			fmt.Sprintf("Invalid 'image[]': %s accepts at most %d image(s), got %d.", model, maxImages, len(files)))
		return
	}
	var imgs []uploadedImage
	for i, fh := range files {
		img, msg := readUpload(fh, maxBytes)
		if msg == "" && model == "dall-e-2" && (img.format != "png" || img.w != img.h) {
			msg = "dall-e-2 needs a square PNG"
		}
		if msg != "" {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("image[%d]", i), "invalid_image",
				fmt.Sprintf("Invalid image file 'image[%d]' (%s): %s.", i, fh.Filename, msg))
			return
		}
		imgs = append(imgs, img)
	}
	if masks := form.File["mask"]; len(masks) > 0 {
		mask, msg := readUpload(masks[0], 4<<20)
		if msg == "" && (mask.format != "png" || mask.w != imgs[0].w || mask.h != imgs[0].h) {
			msg = fmt.Sprintf("the mask must be a PNG of the same size as the image (%dx%d)", imgs[0].w, imgs[0].h)
		}
		if msg != "" {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "mask", "invalid_image", "Invalid mask: "+msg+".")
			return
		}
	}
	var n *float64
	if s := r.FormValue("n"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "n", "invalid_type", "Invalid type for 'n': expected an integer.")
			return
		}
		n = &v
	}
	p, param, msg := checkImageParams(m, model, r.FormValue("prompt"), n, r.FormValue("size"), r.FormValue("quality"), "", r.FormValue("response_format"))
	if msg != "" {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", param, "invalid_value", msg)
		return
	}
	if r.FormValue("size") == "" || r.FormValue("size") == "auto" {
		p.w, p.h = min(imgs[0].w, 2048), min(imgs[0].h, 2048) // the edit keeps the input's size
	}
	p.revise = false
	g.writeImages(w, r, p)
}

// readUpload checks one uploaded file: size, and that it decodes as an
// image. A non-empty message says what is wrong.
func readUpload(fh *multipart.FileHeader, maxBytes int) (uploadedImage, string) {
	img := uploadedImage{name: fh.Filename, size: int(fh.Size)}
	if fh.Size > int64(maxBytes) {
		return img, fmt.Sprintf("%d bytes is over the %d MB limit", fh.Size, maxBytes>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return img, "unreadable upload"
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return img, "not a PNG, JPEG, WEBP or GIF image"
	}
	img.format, img.w, img.h = format, cfg.Width, cfg.Height
	return img, ""
}

// imageChat answers chat requests for the chat image models; it returns
// false for other models.
func (g *Gateway) imageChat(w http.ResponseWriter, r *http.Request, req *chatRequest) bool {
	var content string
	switch req.Model {
	case ChatImageModel:
		prompt := ""
		for _, m := range req.Messages {
			if m.Role == "user" {
				prompt = messageText(m)
			}
		}
		content = "> 排队中...\n\n> 生成中...\n\n![image](" + g.imageURLFor(prompt, 1024, 1024) + ")\n\n"
	case GeminiImageModel:
		png := ImagePNG(512, 512, g.nextSeq())
		content = "Here is your image.\n\n![image](data:image/png;base64," + base64.StdEncoding.EncodeToString(png) + ")"
	default:
		return false
	}
	reply := g.planReply(req)
	reply.content, reply.toolCall = content, nil
	if req.Stream {
		g.streamChat(w, r, req, reply)
		return true
	}
	WriteUpstreamJSON(w, http.StatusOK, reply.completion())
	return true
}
