package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// ErrNoVideo is wrapped by *NoVideoError: a video answer that ended without
// a link to the video.
var ErrNoVideo = errors.New("the answer carries no video link")

// NoVideoError is a chat video answer that ended without a video link. It
// keeps the gateway's last words, which usually say why (a refusal, a
// content-policy message, a failed generation).
type NoVideoError struct {
	LastWords string // the end of the answer's text, "" when it was empty
	Cut       error  // the *StreamError when the stream did not end cleanly; may be nil
}

func (e *NoVideoError) Error() string {
	msg := "the gateway ended the answer without a video link"
	if e.Cut != nil {
		msg = "the answer was cut before a video link arrived (" + e.Cut.Error() + ")"
	}
	if e.LastWords == "" {
		return msg + " and said nothing"
	}
	return fmt.Sprintf("%s; its last words: %q", msg, e.LastWords)
}

// Unwrap gives ErrNoVideo and the stream error, for errors.Is and errors.As.
func (e *NoVideoError) Unwrap() []error {
	if e.Cut == nil {
		return []error{ErrNoVideo}
	}
	return []error{ErrNoVideo, e.Cut}
}

// VideoProgress is one progress line of a chat video model, e.g.
// "> 🏃 进度 37" (Percent 37) or "> 排队中" (queued, Percent -1).
type VideoProgress struct {
	Percent float64 // 0..100, or -1 when the line has no number
	Message string  // a short English summary followed by the original line
}

// ChatVideoResult is the outcome of a chat-completion video model.
type ChatVideoResult struct {
	ID    string // completion id
	Model string
	URL   string // the video link taken from the Markdown answer
	Text  string // the whole answer
	Usage *Usage // from the final usage chunk, nil if none came
}

// ChatVideo asks a chat-completion video model (sora_video2) for a video:
// POST /v1/chat/completions with stream:true. Progress lines are passed to
// onProgress (may be nil) as they arrive; the last video link in the answer
// (a Markdown link, or a bare .mp4 URL) is the result. A non-stream reply is
// accepted too. An answer without a link is a *NoVideoError with the
// gateway's last words, never a success.
//
// The call lasts minutes and the gateway may send nothing, not even headers,
// meanwhile: give ctx a long deadline with WithRequestTimeout.
func (c *Client) ChatVideo(ctx context.Context, req *ChatRequest, onProgress func(VideoProgress)) (*ChatVideoResult, error) {
	lines := progressLines{onProgress: onProgress}
	resp, err := c.ChatStream(ctx, req, func(d ChatDelta) { lines.feed(d.Text()) })
	var text string
	var cut *StreamError
	switch {
	case err == nil:
		choice, ferr := resp.First()
		if ferr != nil {
			return nil, fmt.Errorf("video: %w", ferr)
		}
		text = choice.Message.Text()
	case errors.As(err, &cut) && ctx.Err() == nil:
		text = cut.Partial
	default:
		return nil, fmt.Errorf("video: %w", err)
	}
	lines.feed(text + "\n")
	out := &ChatVideoResult{Text: text}
	if resp != nil {
		out.ID, out.Model, out.Usage = resp.ID, resp.Model, resp.Usage
	}
	out.URL = VideoLink(text)
	if cut != nil && !reMarkdownLink.MatchString(text) {
		out.URL = "" // a bare URL in a cut answer may itself be cut
	}
	if out.URL == "" {
		nv := &NoVideoError{LastWords: lastWords(text, 300)}
		if cut != nil {
			nv.Cut = cut
		}
		return out, fmt.Errorf("video: %w", nv)
	}
	return out, nil
}

var (
	reMarkdownLink = regexp.MustCompile(`\[[^\]]*\]\((https?://[^\s)]+)\)`)
	reBareVideoURL = regexp.MustCompile(`https?://[^\s)\]"'<>]+\.(?:mp4|mov|webm|m4v)(?:\?[^\s)\]"'<>]*)?`)
	reVideoExt     = regexp.MustCompile(`(?i)\.(mp4|mov|webm|m4v)(\?|#|$)`)
	reProgressNum  = regexp.MustCompile(`(\d+(?:\.\d+)?)\s*%?`)
)

// VideoLink returns the last video link in a Markdown answer: the last
// Markdown link to a video file, else the last Markdown link, else the last
// bare video URL; "" when there is none.
func VideoLink(text string) string {
	var lastAny, lastVideo string
	for _, m := range reMarkdownLink.FindAllStringSubmatch(text, -1) {
		lastAny = m[1]
		if reVideoExt.MatchString(m[1]) {
			lastVideo = m[1]
		}
	}
	switch {
	case lastVideo != "":
		return lastVideo
	case lastAny != "":
		return lastAny
	}
	if all := reBareVideoURL.FindAllString(text, -1); len(all) > 0 {
		return all[len(all)-1]
	}
	return ""
}

// lastWords is the end of text, at most n bytes on a rune boundary, on one line.
func lastWords(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if len(text) <= n {
		return text
	}
	i := len(text) - n
	for i < len(text) && text[i]&0xC0 == 0x80 {
		i++
	}
	return "…" + text[i:]
}

// progressLines turns the growing answer of a chat video model into progress
// reports, one per complete line that looks like progress.
type progressLines struct {
	onProgress func(VideoProgress)
	done       int // bytes of text already looked at
}

func (p *progressLines) feed(text string) {
	if p.onProgress == nil || len(text) <= p.done {
		return
	}
	for {
		i := strings.IndexByte(text[p.done:], '\n')
		if i < 0 {
			return
		}
		line := text[p.done : p.done+i]
		p.done += i + 1
		if vp, ok := ParseVideoProgress(line); ok {
			p.onProgress(vp)
		}
	}
}

// ParseVideoProgress reads one line of a chat video answer. Progress lines
// are Markdown quotes ("> 排队中", "> 🏃 进度 37", "> 生成完成 ✅"); other
// lines (the link, blank lines) give ok false.
func ParseVideoProgress(line string) (VideoProgress, bool) {
	raw := strings.TrimSpace(line)
	if !strings.HasPrefix(raw, ">") {
		return VideoProgress{}, false
	}
	raw = strings.TrimSpace(strings.TrimLeft(raw, "> "))
	if raw == "" {
		return VideoProgress{}, false
	}
	vp := VideoProgress{Percent: -1}
	lower := strings.ToLower(raw)
	switch {
	case strings.Contains(raw, "排队") || strings.Contains(lower, "queue"):
		vp.Message = "queued"
	case strings.Contains(raw, "完成") || strings.Contains(lower, "complete") || strings.Contains(lower, "done"):
		vp.Message, vp.Percent = "generated", 100
	case strings.Contains(raw, "失败") || strings.Contains(lower, "fail"):
		vp.Message = "failed"
	default:
		vp.Message = "generating"
	}
	if strings.Contains(raw, "进度") || strings.Contains(lower, "progress") || strings.Contains(raw, "%") {
		if m := reProgressNum.FindStringSubmatch(raw[max(strings.Index(raw, "进度"), 0):]); m != nil {
			if f, err := strconv.ParseFloat(m[1], 64); err == nil && f >= 0 && f <= 100 {
				vp.Percent = f
				vp.Message = fmt.Sprintf("generating %g%%", f)
			}
		}
	}
	vp.Message += " (" + raw + ")"
	return vp, true
}

// VideoRequest is the body of POST /v1/videos, the asynchronous video API.
type VideoRequest struct {
	Model     string
	Prompt    string
	Seconds   string // "4", "8", "12"…; "" leaves the model's default
	Size      string // e.g. "1280x720"; "" leaves the default
	Image     []byte // input_reference for image-to-video; nil for text-to-video
	ImageMIME string // Content-Type of Image, e.g. "image/png"
}

// Video is an asynchronous video task, as POST /v1/videos and
// GET /v1/videos/{id} return it.
type Video struct {
	ID          string     `json:"id"`
	TaskID      string     `json:"task_id"` // the generic task style's id, when id is absent
	Object      string     `json:"object"`
	Model       string     `json:"model"`
	Status      string     `json:"status"`
	Progress    flexFloat  `json:"progress"`
	CreatedAt   int64      `json:"created_at"`
	CompletedAt int64      `json:"completed_at"`
	ExpiresAt   int64      `json:"expires_at"`
	Seconds     flexString `json:"seconds"`
	Size        string     `json:"size"`
	Error       *struct {
		Message string     `json:"message"`
		Code    flexString `json:"code"`
	} `json:"error"`
	VideoURL string `json:"video_url"` // some gateways add a direct link
	URL      string `json:"url"`       // the generic task style's link
	Usage    *Usage `json:"usage"`
}

// VideoState is a Video's status folded into three states.
type VideoState int

// Video states. Every status word the gateways use maps to one of them.
const (
	VideoPending VideoState = iota
	VideoSucceeded
	VideoFailed
)

// State folds the status word: completed, succeeded (and success, done) are
// VideoSucceeded; failed, failure, error, cancelled, canceled and expired are
// VideoFailed; anything else (queued, in_progress, processing, pending, "")
// is VideoPending.
func (v *Video) State() VideoState {
	switch strings.ToLower(strings.TrimSpace(v.Status)) {
	case "completed", "succeeded", "success", "done", "finished":
		return VideoSucceeded
	case "failed", "failure", "error", "cancelled", "canceled", "expired":
		return VideoFailed
	}
	return VideoPending
}

// Link is the direct video link the gateway gave, if any.
func (v *Video) Link() string {
	if v.VideoURL != "" {
		return v.VideoURL
	}
	return v.URL
}

// FailReason is the gateway's reason for a failed task.
func (v *Video) FailReason() string {
	if v.Error != nil && v.Error.Message != "" {
		if v.Error.Code != "" {
			return fmt.Sprintf("%s (%s)", v.Error.Message, v.Error.Code)
		}
		return v.Error.Message
	}
	return "the gateway gave no reason (status " + v.Status + ")"
}

// flexFloat decodes a JSON number, a numeric string ("37", "37%") or null.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		s = string(b)
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("progress %q is not a number", s)
	}
	*f = flexFloat(v)
	return nil
}

// CreateVideo starts an asynchronous video: POST /v1/videos as
// multipart/form-data (prompt, model, seconds, size, input_reference). The
// request is sent once, never retried.
func (c *Client) CreateVideo(ctx context.Context, req *VideoRequest) (*Video, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields := [][2]string{{"model", req.Model}, {"prompt", req.Prompt}, {"seconds", req.Seconds}, {"size", req.Size}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("create video: %w", err)
		}
	}
	if len(req.Image) > 0 {
		mt := req.ImageMIME
		if mt == "" {
			mt = http.DetectContentType(req.Image)
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="input_reference"; filename="reference%s"`, extensionFor(mt)))
		h.Set("Content-Type", mt)
		pw, err := mw.CreatePart(h)
		if err != nil {
			return nil, fmt.Errorf("create video: %w", err)
		}
		if _, err := pw.Write(req.Image); err != nil {
			return nil, fmt.Errorf("create video: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("create video: %w", err)
	}
	r := &request{method: http.MethodPost, path: "/v1/videos", auth: authBearer, body: buf.Bytes(), contentType: mw.FormDataContentType()}
	v, err := c.videoObject(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("create video: %w", err)
	}
	return v, nil
}

// GetVideo reads an asynchronous video's state: GET /v1/videos/{id}. A
// failed task is returned as a Video in state VideoFailed, not as an error.
func (c *Client) GetVideo(ctx context.Context, id string) (*Video, error) {
	if strings.TrimSpace(id) == "" {
		return nil, errors.New("video status: empty id")
	}
	r := &request{method: http.MethodGet, path: "/v1/videos/" + url.PathEscape(id), auth: authBearer}
	v, err := c.videoObject(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("video %s: %w", id, err)
	}
	return v, nil
}

// videoObject sends r and decodes a Video. Unlike do, an "error" member next
// to a status is the task's failure, not an error answer.
func (c *Client) videoObject(ctx context.Context, r *request) (*Video, error) {
	resp, cancel, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return nil, c.scrub(fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err))
	}
	var v Video
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %v (body starts %q)", r.method, r.path, ErrMalformedResponse, err, c.scrubString(snippet(body, 80)))
	}
	if v.ID == "" {
		v.ID = v.TaskID
	}
	if v.ID == "" || v.Status == "" && v.Error != nil {
		if apiErr := errorInBody(resp.StatusCode, resp.Header, body); apiErr != nil {
			apiErr.Message = c.scrubString(apiErr.Message)
			return nil, apiErr
		}
		return nil, fmt.Errorf("%s %s: answer without a video id: %w", r.method, r.path, ErrMalformedResponse)
	}
	return &v, nil
}

// VideoContent is an open download of a finished video.
type VideoContent struct {
	Body        io.ReadCloser // close it when done
	ContentType string
	Length      int64 // -1 when unknown
}

// VideoContent opens the bytes of a finished asynchronous video:
// GET /v1/videos/{id}/content. An unfinished task is an *APIError (400).
// The download's deadline is the request timeout (see WithRequestTimeout).
func (c *Client) VideoContent(ctx context.Context, id string) (*VideoContent, error) {
	if strings.TrimSpace(id) == "" {
		return nil, errors.New("video content: empty id")
	}
	r := &request{method: http.MethodGet, path: "/v1/videos/" + url.PathEscape(id) + "/content", auth: authBearer, accept: "video/*, */*"}
	resp, cancel, err := c.send(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("video %s content: %w", id, err)
	}
	return &VideoContent{
		Body:        &cancelOnClose{ReadCloser: resp.Body, cancel: cancel},
		ContentType: resp.Header.Get("Content-Type"),
		Length:      resp.ContentLength,
	}, nil
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func extensionFor(mimeType string) string {
	switch strings.ToLower(mimeType) {
	case "image/png":
		return ".png"
	case "image/jpeg", "image/jpg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	}
	return ""
}
