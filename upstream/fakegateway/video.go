package fakegateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Route keys of the video routes, for [Gateway.Count] and [Gateway.Last].
// Chat video models (sora_video2) are served by RouteChatCompletions.
const (
	RouteVideos       = "POST /v1/videos"
	RouteVideo        = "GET /v1/videos/{id}"
	RouteVideoContent = "GET /v1/videos/{id}/content"
	RouteVideoFile    = "GET /fake/video/{name}"
)

// ChatVideoModel is the chat-completion video model the fake serves with
// progress lines and a downloadable link.
const ChatVideoModel = "sora_video2"

// fakeVideo is a video of the fake, made by the async API or a chat model.
type fakeVideo struct {
	id, model, prompt, seconds, size string
	created                          time.Time
	duration                         time.Duration
	fail                             bool
}

// state is the async task's status and progress at now.
func (v *fakeVideo) state(now time.Time) (string, int) {
	el := now.Sub(v.created)
	switch {
	case el >= v.duration && v.fail:
		return "failed", 0
	case el >= v.duration:
		return "completed", 100
	case el < v.duration/4:
		return "queued", 0
	}
	return "in_progress", min(99, int(100*el/v.duration))
}

// videoJSON is a video object in the key order of new-api's OpenAIVideo.
type videoJSON struct {
	ID          string      `json:"id"`
	Object      string      `json:"object"`
	Model       string      `json:"model"`
	Status      string      `json:"status"`
	Progress    int         `json:"progress"`
	CreatedAt   int64       `json:"created_at"`
	CompletedAt int64       `json:"completed_at,omitempty"`
	ExpiresAt   int64       `json:"expires_at,omitempty"`
	Seconds     string      `json:"seconds"`
	Size        string      `json:"size"`
	Error       *videoError `json:"error,omitempty"`
}

type videoError struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

func (v *fakeVideo) view(now time.Time) videoJSON {
	status, progress := v.state(now)
	out := videoJSON{ID: v.id, Object: "video", Model: v.model, Status: status, Progress: progress,
		CreatedAt: v.created.Unix(), Seconds: v.seconds, Size: v.size}
	switch status {
	case "completed":
		done := v.created.Add(v.duration)
		out.CompletedAt, out.ExpiresAt = done.Unix(), done.Add(24*time.Hour).Unix()
	case "failed":
		out.Error = &videoError{Message: "Video generation failed: the prompt was refused by the content policy (fake failure)", Code: "content_policy_violation"}
	}
	return out
}

// handleVideo registers the async video routes and the public video files.
func (g *Gateway) handleVideo() {
	g.Handle(RouteVideos, g.createVideo)
	g.Handle(RouteVideo, g.getVideo)
	g.Handle(RouteVideoContent, g.videoContent)
	g.Handle(RouteVideoFile, g.videoFile)
}

// newVideo stores a video and returns it.
func (g *Gateway) newVideo(model, prompt, seconds, size string) *fakeVideo {
	now := time.Now()
	g.long.mu.Lock()
	defer g.long.mu.Unlock()
	g.long.seq++
	v := &fakeVideo{
		id:       fmt.Sprintf("video_%s%06d", g.idPrefix, g.long.seq),
		model:    model,
		prompt:   prompt,
		seconds:  seconds,
		size:     size,
		created:  now,
		duration: g.long.duration,
		fail:     strings.Contains(prompt, PromptFail),
	}
	g.long.videos[v.id] = v
	return v
}

var reVideoSize = regexp.MustCompile(`^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$`)

// videoParams is what POST /v1/videos accepts, from either body form.
type videoParams struct {
	Model, Prompt, Seconds, Size string
	Reference                    []byte // input_reference bytes, nil when absent
}

// createVideo serves POST /v1/videos: multipart/form-data (the OpenAI form:
// prompt, model, seconds, size, input_reference file, metadata) or a JSON
// body with the same names (input_reference as a data URL).
func (g *Gateway) createVideo(w http.ResponseWriter, r *http.Request) {
	if !g.CheckBearer(w, r) {
		return
	}
	p, rerr, ok := readVideoParams(w, r)
	if !ok {
		return
	}
	if rerr != nil {
		g.writeRequestError(w, rerr)
		return
	}
	if p.Model == "" {
		p.Model = "sora-2"
	}
	if !g.CheckModel(w, p.Model) {
		return
	}
	if g.ReplayFault(w, p.Model, false) {
		return
	}
	if !slices.ContainsFunc(catalogue[:], func(m catalogueModel) bool {
		return m.id == p.Model && slices.Contains(m.types, "openai-video")
	}) {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "model", "invalid_model",
			fmt.Sprintf("model %s does not support the video API; use a video model such as sora-2", p.Model))
		return
	}
	if strings.TrimSpace(p.Prompt) == "" {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.")
		return
	}
	if p.Seconds == "" {
		p.Seconds = "4"
	}
	if n, err := strconv.Atoi(p.Seconds); err != nil || n < 1 || n > 60 {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "seconds", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: '4', '8', and '12'.", p.Seconds))
		return
	}
	if p.Size == "" {
		p.Size = "720x1280"
	}
	if !reVideoSize.MatchString(p.Size) {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "size", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Use WIDTHxHEIGHT, e.g. '1280x720'.", p.Size))
		return
	}
	if p.Reference != nil && !strings.HasPrefix(http.DetectContentType(p.Reference), "image/") {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input_reference", "invalid_image", "input_reference must be a PNG, JPEG or WebP image")
		return
	}
	v := g.newVideo(p.Model, p.Prompt, p.Seconds, p.Size)
	WriteUpstreamJSON(w, http.StatusOK, v.view(v.created))
}

// readVideoParams reads either body form. It returns ok false when it has
// already answered (a body new-api itself refuses).
func readVideoParams(w http.ResponseWriter, r *http.Request) (videoParams, *requestError, bool) {
	var p videoParams
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var body map[string]json.RawMessage
		if !ReadJSON(w, r, &body) {
			return p, nil, false
		}
		for k, raw := range body {
			var s string
			if k == "metadata" {
				continue
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				return p, upstreamReject(k, "invalid_type", "Invalid type for '%s': expected a string.", k), true
			}
			switch k {
			case "model":
				p.Model = s
			case "prompt":
				p.Prompt = s
			case "seconds":
				p.Seconds = s
			case "size":
				p.Size = s
			case "input_reference":
				payload, ok := dataImagePayload(s)
				raw, err := base64.StdEncoding.DecodeString(payload)
				if !ok || err != nil {
					return p, upstreamReject(k, "invalid_image", "input_reference must be a data:image/...;base64 URL in a JSON body"), true
				}
				p.Reference = raw
			default:
				return p, upstreamReject(k, "unknown_parameter", "Unknown parameter: '%s'.", k), true
			}
		}
		return p, nil, true
	case "multipart/form-data":
		if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
			writeOwnError(w, http.StatusBadRequest, "invalid_request", "Invalid request: "+err.Error())
			return p, nil, false
		}
		form := r.MultipartForm
		for k := range form.Value {
			switch k {
			case "model", "prompt", "seconds", "size", "metadata":
			default:
				return p, upstreamReject(k, "unknown_parameter", "Unknown parameter: '%s'.", k), true
			}
		}
		for k := range form.File {
			if k != "input_reference" {
				return p, upstreamReject(k, "unknown_parameter", "Unknown file parameter: '%s'.", k), true
			}
		}
		p.Model, p.Prompt = r.FormValue("model"), r.FormValue("prompt")
		p.Seconds, p.Size = r.FormValue("seconds"), r.FormValue("size")
		if fhs := form.File["input_reference"]; len(fhs) > 0 {
			f, err := fhs[0].Open()
			if err == nil {
				p.Reference, err = io.ReadAll(f)
				f.Close()
			}
			if err != nil || len(p.Reference) == 0 {
				return p, upstreamReject("input_reference", "invalid_image", "input_reference is empty"), true
			}
		}
		return p, nil, true
	}
	writeOwnError(w, http.StatusBadRequest, "invalid_request",
		fmt.Sprintf("Invalid request: Content-Type must be multipart/form-data or application/json, got %q", r.Header.Get("Content-Type")))
	return p, nil, false
}

func (g *Gateway) lookupVideo(id string) (*fakeVideo, bool) {
	g.long.mu.Lock()
	defer g.long.mu.Unlock()
	v, ok := g.long.videos[id]
	return v, ok
}

// requestedVideo checks the key and finds the video named in the path; it
// answers 401 or 404 itself and returns false when it cannot.
func (g *Gateway) requestedVideo(w http.ResponseWriter, r *http.Request) (*fakeVideo, bool) {
	if !g.CheckBearer(w, r) {
		return nil, false
	}
	v, ok := g.lookupVideo(r.PathValue("id"))
	if !ok {
		WriteUpstreamError(w, http.StatusNotFound, "invalid_request_error", "", "task_not_found", "Task not found")
	}
	return v, ok
}

// getVideo serves GET /v1/videos/{id}.
func (g *Gateway) getVideo(w http.ResponseWriter, r *http.Request) {
	v, ok := g.requestedVideo(w, r)
	if !ok {
		return
	}
	WriteUpstreamJSON(w, http.StatusOK, v.view(time.Now()))
}

// videoContent serves GET /v1/videos/{id}/content: the MP4 bytes of a
// completed video, 400 while it is not completed, 404 for an unknown id.
func (g *Gateway) videoContent(w http.ResponseWriter, r *http.Request) {
	v, ok := g.requestedVideo(w, r)
	if !ok {
		return
	}
	if status, _ := v.state(time.Now()); status != "completed" {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "", "",
			"Task is not completed yet, current status: "+status)
		return
	}
	writeMP4(w, v.id)
}

// videoFile serves GET /fake/video/{id}.mp4, the public link a chat video
// model answers with (like the OSS bucket behind wenwen): no authentication.
func (g *Gateway) videoFile(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("name"), ".mp4")
	v, known := g.lookupVideo(id)
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	if status, _ := v.state(time.Now()); status != "completed" {
		http.NotFound(w, r)
		return
	}
	writeMP4(w, v.id)
}

func writeMP4(w http.ResponseWriter, id string) {
	b := TinyMP4(id)
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// TinyMP4 is a small MP4 file for seed: an ftyp box (isom), a free box and
// an mdat box of seed-derived bytes. Content sniffing sees video/mp4.
func TinyMP4(seed string) []byte {
	var b bytes.Buffer
	box := func(typ string, payload []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(8+len(payload)))
		b.WriteString(typ)
		b.Write(payload)
	}
	box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	box("free", nil)
	payload := make([]byte, 0, 1024)
	for i := 0; len(payload) < 1024; i++ {
		s := sha256.Sum256([]byte(seed + strconv.Itoa(i)))
		payload = append(payload, s[:]...)
	}
	box("mdat", payload[:1024])
	return b.Bytes()
}

// videoChat answers a chat request for [ChatVideoModel] the way the
// recorded channel does, with the progress lines similar gateways stream:
// "> 排队中", "> 🏃 进度 37", "> 🏃 进度 76", "> 生成完成 ✅", then
// "[下载视频](<link>)" to a file this gateway serves. Like new-api, nothing
// (not even headers) is sent before the second upstream chunk exists, so a
// stream stays silent for the first third of the task duration. A prompt
// with [PromptNoLink] ends with a failure line and no link. It returns
// false for other models.
func (g *Gateway) videoChat(w http.ResponseWriter, r *http.Request, req *chatRequest) bool {
	if req.Model != ChatVideoModel {
		return false
	}
	prompt := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			prompt = messageText(m)
		}
	}
	v := g.newVideo(req.Model, prompt, "", "")
	noLink := strings.Contains(prompt, PromptNoLink)
	reply := chatReply{
		id:           fmt.Sprintf("chatcmpl-%d%06d", v.created.Unix(), g.nextSeq()),
		model:        req.Model,
		created:      v.created.Unix(),
		promptTokens: max(1, len(strings.Fields(prompt))),
	}
	final := "> 生成完成 ✅\n\n[下载视频](" + g.URL + "/fake/video/" + v.id + ".mp4)\n\n"
	if noLink {
		final = "> 生成失败 ❌ 视频生成失败：内容可能违反了使用政策，请修改提示词后重试\n\n"
	}
	steps := []string{"> 排队中...\n\n", "> 🏃 进度 37\n\n", "> 🏃 进度 76\n\n", final}
	third := v.duration / 3
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		case <-g.closed:
			return false
		}
	}
	if !req.Stream {
		if !wait(v.duration) {
			return true
		}
		reply.content = strings.Join(steps, "")
		if !noLink {
			reply.content = final[strings.Index(final, "["):]
		}
		WriteUpstreamJSON(w, http.StatusOK, reply.completion())
		return true
	}
	if !wait(third) {
		return true
	}
	s := g.NewStream(w, r)
	defer s.Close()
	empty := ""
	s.Data(reply.chunk(chunkDelta{Content: &empty, Role: "assistant"}, nil))
	var text strings.Builder
	for i, step := range steps {
		switch i {
		case 2:
			if !wait(third) {
				return true
			}
		case 3:
			if !wait(max(0, v.duration-2*third)) {
				return true
			}
		}
		text.WriteString(step)
		s.Data(reply.chunk(chunkDelta{Content: &step}, nil))
		if s.Err() != nil {
			return true
		}
	}
	reply.content = text.String()
	finish := "stop"
	usage := reply.usage()
	last := reply.chunk(chunkDelta{}, &finish)
	last.Usage = &usage
	s.Data(last)
	s.Data(chatChunk{Choices: []chunkChoice{}, Created: reply.created, ID: reply.id, Model: reply.model, Object: "chat.completion.chunk", Usage: &usage})
	s.Done()
	return true
}
