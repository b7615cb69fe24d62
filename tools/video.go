package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Video APIs: a chat-completion model that streams progress and answers
// with a link (sora_video2), or the asynchronous /v1/videos API.
const (
	videoAPIChat  = "chat"
	videoAPIAsync = "async"
)

type generateVideoInput struct {
	Prompt      string `json:"prompt"`
	Model       string `json:"model,omitempty" jsonschema_description:"Default sora_video2 (WENWEN_VIDEO_MODEL)."`
	Image       string `json:"image,omitempty" jsonschema_description:"Start image: path, URL or data: URL."`
	Seconds     int    `json:"seconds,omitempty" jsonschema:"minimum=1,maximum=60" jsonschema_description:"Async models (sora-2): 4, 8 or 12."`
	Size        string `json:"size,omitempty" jsonschema_description:"Async models: e.g. 1280x720."`
	WaitSeconds *int   `json:"wait_seconds,omitempty" jsonschema:"minimum=0" jsonschema_description:"Default 45."`
	New         bool   `json:"new,omitempty" jsonschema_description:"Start a new paid job, no reuse."`
}

var reVideoSize = regexp.MustCompile(`^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$`)

func (in *generateVideoInput) validate() error {
	in.Prompt = strings.TrimSpace(in.Prompt)
	switch {
	case in.Prompt == "":
		return userErrorf("give prompt: what the video shows")
	case in.Seconds < 0 || in.Seconds > 60:
		return userErrorf("seconds must be between 1 and 60")
	case in.Size != "" && !reVideoSize.MatchString(in.Size):
		return userErrorf("size %q: use WIDTHxHEIGHT, e.g. 1280x720", in.Size)
	case in.WaitSeconds != nil && *in.WaitSeconds < 0:
		return userErrorf("wait_seconds must be 0 or more")
	}
	return nil
}

// videoArgs are a video job's persisted arguments.
type videoArgs struct {
	Prompt  string `json:"prompt"`
	Model   string `json:"model"`
	API     string `json:"api"`
	Image   string `json:"image,omitempty"` // the reference as given
	Seconds int    `json:"seconds,omitempty"`
	Size    string `json:"size,omitempty"`
}

// videoImage is a loaded start image: a URL the gateway accepts (chat) and
// the bytes (async upload).
type videoImage struct {
	url  string
	data []byte
	mime string
}

func loadVideoImage(ctx context.Context, d *Deps, ref string, needBytes bool) (*videoImage, error) {
	in, err := d.Media.LoadImage(ctx, ref)
	if err != nil {
		return nil, err
	}
	if needBytes && in.Data == nil {
		if err := d.Media.Fetch(ctx, &in); err != nil {
			return nil, err
		}
	}
	return &videoImage{url: in.DataURL(), data: in.Data, mime: in.MIME}, nil
}

// endpointCache remembers which API each model uses, from GET /v1/models,
// for ten minutes.
type endpointCache struct {
	mu    sync.Mutex
	at    time.Time
	types map[string][]string
}

// videoAPI decides how model makes videos: the gateway's model list says
// "openai-video" for the async API; without an answer, well-known async
// model families are recognised by name and the rest use chat.
func (c *endpointCache) videoAPI(ctx context.Context, d *Deps, model string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.types == nil || time.Since(c.at) > 10*time.Minute {
		lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		models, err := d.Client.ListModels(lctx)
		cancel()
		if err == nil {
			c.types, c.at = make(map[string][]string, len(models)), time.Now()
			for _, m := range models {
				c.types[m.ID] = m.SupportedEndpointTypes
			}
		}
	}
	if types, ok := c.types[model]; ok && len(types) > 0 {
		if slices.Contains(types, "openai-video") {
			return videoAPIAsync
		}
		return videoAPIChat
	}
	l := strings.ToLower(model)
	for _, p := range []string{"sora-2", "veo", "kling", "wan", "hailuo", "seedance", "vidu"} {
		if strings.HasPrefix(l, p) {
			return videoAPIAsync
		}
	}
	return videoAPIChat
}

func generateVideoTool(d *Deps) Tool {
	cache := &endpointCache{}
	t := define("generate_video",
		"Make a video (paid; minutes). Waits wait_seconds, then gives a job_id for get_job; the job goes on and the mp4 is saved. Repeats reuse the job.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in generateVideoInput) (Result[jobOutput], error) {
			if !d.Client.HasKey() {
				return Result[jobOutput]{}, upstream.ErrNoAPIKey
			}
			model := strings.TrimSpace(in.Model)
			if model == "" {
				model = d.Config.VideoModel
			}
			api := cache.videoAPI(ctx, d, model)
			if api == videoAPIChat && (in.Seconds != 0 || in.Size != "") {
				return Result[jobOutput]{}, userErrorf("seconds and size apply to async video models (such as sora-2 or veo3); %s makes videos through chat and chooses them itself: leave them out, or pick an async model from list_models", model)
			}
			var img *videoImage
			if in.Image != "" {
				var err error
				if img, err = loadVideoImage(ctx, d, in.Image, api == videoAPIAsync); err != nil {
					return Result[jobOutput]{}, err
				}
			}
			args := videoArgs{Prompt: in.Prompt, Model: model, API: api, Image: in.Image, Seconds: in.Seconds, Size: in.Size}
			return startJob(ctx, d, call, jobs.Spec{Kind: kindVideo, Args: args, New: in.New, Prepared: img}, in.WaitSeconds)
		})
	t.Toolset = "video"
	t.Timeout = d.Config.MaxWait + waitMargin
	return t
}

// runVideo is the job handler of generate_video.
func runVideo(ctx context.Context, d *Deps, r *jobs.Run) (jobs.Result, error) {
	var a videoArgs
	if err := r.Args(&a); err != nil {
		return jobs.Result{}, err
	}
	img, _ := r.Prepared().(*videoImage)
	if a.Image != "" && img == nil && r.Job().TaskID == "" {
		var err error
		if img, err = loadVideoImage(ctx, d, a.Image, a.API == videoAPIAsync); err != nil {
			return jobs.Result{}, err
		}
	}
	if a.API == videoAPIAsync {
		return runAsyncVideo(ctx, d, r, a, img)
	}
	return runChatVideo(ctx, d, r, a, img)
}

// runChatVideo streams a chat video model inside the job, with the long
// WENWEN_JOB_TIMEOUT deadline: the gateway may send nothing for minutes.
func runChatVideo(ctx context.Context, d *Deps, r *jobs.Run, a videoArgs, img *videoImage) (jobs.Result, error) {
	var content any = a.Prompt
	if img != nil {
		content = []upstream.ContentPart{
			{Type: "text", Text: a.Prompt},
			{Type: "image_url", ImageURL: &upstream.ImageURL{URL: img.url}},
		}
	}
	req := &upstream.ChatRequest{Model: a.Model, Messages: []upstream.ChatMessage{{Role: "user", Content: content}}}
	r.Report(0, "sent to the gateway; waiting for its first progress line")
	res, err := d.Client.ChatVideo(upstream.WithRequestTimeout(ctx, d.Config.JobTimeout), req, func(p upstream.VideoProgress) {
		r.Report(p.Percent, p.Message)
	})
	if res != nil {
		r.SetUsage(jobUsage(res.Usage))
	}
	if err != nil {
		return jobs.Result{}, err
	}
	r.Report(100, "saving the video")
	file, note := saveJobFile(ctx, d, res.URL, "video")
	return jobs.Result{Files: []jobs.File{file}, Note: note}, nil
}

func jobUsage(u *upstream.Usage) *jobs.Usage {
	if u == nil {
		return nil
	}
	return &jobs.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// runAsyncVideo submits to POST /v1/videos (unless resuming a task) and
// polls until the video is done, then saves it.
func runAsyncVideo(ctx context.Context, d *Deps, r *jobs.Run, a videoArgs, img *videoImage) (jobs.Result, error) {
	id := r.Job().TaskID
	if id == "" {
		req := &upstream.VideoRequest{Model: a.Model, Prompt: a.Prompt, Size: a.Size}
		if a.Seconds > 0 {
			req.Seconds = strconv.Itoa(a.Seconds)
		}
		if img != nil {
			req.Image, req.ImageMIME = img.data, img.mime
		}
		r.Report(0, "submitting")
		v, err := d.Client.CreateVideo(ctx, req)
		if err != nil {
			return jobs.Result{}, err
		}
		id = v.ID
		r.SetTask(id)
	}
	var v *upstream.Video
	err := poll(ctx, d, r, func(ctx context.Context) (bool, error) {
		var err error
		if v, err = d.Client.GetVideo(ctx, id); err != nil {
			return false, err
		}
		if v.State() == upstream.VideoPending {
			msg := strings.ReplaceAll(v.Status, "_", " ")
			if msg == "" {
				msg = "pending"
			}
			if v.Progress > 0 {
				msg = fmt.Sprintf("%s %.0f%%", msg, float64(v.Progress))
			}
			r.Report(float64(v.Progress), msg)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return jobs.Result{}, err
	}
	if v.State() == upstream.VideoFailed {
		return jobs.Result{}, fmt.Errorf("the gateway reports video %s failed: %s", id, v.FailReason())
	}
	r.Report(100, "saving the video")
	r.SetUsage(jobUsage(v.Usage))
	if v.Link() != "" {
		file, note := saveJobFile(ctx, d, v.Link(), "video")
		if file.Path == "" && ctx.Err() != nil {
			return jobs.Result{}, ctx.Err() // resume (and save) at the next start
		}
		return jobs.Result{Files: []jobs.File{file}, Note: note}, nil
	}
	contentURL := d.Client.BaseURL() + "/v1/videos/" + id + "/content"
	if !d.Media.Saving() {
		return jobs.Result{Files: []jobs.File{{URL: contentURL}}, Note: "saving is off (WENWEN_SAVE_MEDIA=false): download the video from url with the API key"}, nil
	}
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 && !sleepCtx(ctx, time.Duration(attempt)*2*time.Second) {
			break
		}
		c, err := d.Client.VideoContent(upstream.WithRequestTimeout(ctx, d.Config.JobTimeout), id)
		if err == nil {
			var saved media.Saved
			saved, err = d.Media.SaveReader(ctx, c.Body, media.SaveOptions{Kind: "video"})
			c.Body.Close()
			if err == nil {
				f := fileFrom(saved)
				f.URL = contentURL
				return jobs.Result{Files: []jobs.File{f}}, nil
			}
		}
		lastErr = err
		if !transient(err) && !errors.Is(err, media.ErrDownload) {
			break
		}
	}
	if ctx.Err() != nil {
		return jobs.Result{}, ctx.Err()
	}
	return jobs.Result{Files: []jobs.File{{URL: contentURL}}, Note: fmt.Sprintf("generated, but not saved: %v; download it from url with the API key before it expires", lastErr)}, nil
}

// saveJobFile saves a job's result link through the media layer, trying a
// failed download three times. When it cannot save, the job still succeeds
// with the link and a note: the generation is paid and the link works.
func saveJobFile(ctx context.Context, d *Deps, url, kind string) (jobs.File, string) {
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 && !sleepCtx(ctx, time.Duration(attempt)*2*time.Second) {
			break
		}
		saved, err := d.Media.SaveURL(ctx, url, media.SaveOptions{Kind: kind})
		if err == nil {
			f := fileFrom(saved)
			if f.URL == "" {
				f.URL = url
			}
			return f, ""
		}
		lastErr = err
		if !errors.Is(err, media.ErrDownload) {
			break
		}
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return jobs.File{URL: url}, fmt.Sprintf("generated, but not saved: %v; the link may expire, so download it soon", lastErr)
}

func fileFrom(s media.Saved) jobs.File {
	return jobs.File{Path: s.Path, URL: s.URL, MIME: s.MIME, Bytes: s.Bytes, Width: s.Width, Height: s.Height}
}

// poll calls check until it reports done: quickly at first, then every
// 5 s, until the job's deadline (its creation plus WENWEN_JOB_TIMEOUT).
// Errors that may pass (network, 429, 5xx) are shown as the job's message
// and retried; others end the job.
func poll(ctx context.Context, d *Deps, r *jobs.Run, check func(context.Context) (bool, error)) error {
	deadline := r.Job().Created.Add(d.Config.JobTimeout)
	start := time.Now()
	for {
		done, err := check(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !transient(err):
			return err
		case err != nil:
			r.Report(-1, "the gateway did not answer a status query, trying again: "+truncate(err.Error(), 200))
		case done:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("task %s not finished: %w", r.Job().TaskID, context.DeadlineExceeded)
		}
		if !sleepCtx(ctx, min(max(time.Since(start)/4, 200*time.Millisecond), 5*time.Second)) {
			return ctx.Err()
		}
	}
}

// transient reports whether a failed status query may succeed if repeated.
func transient(err error) bool {
	var apiErr *upstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, upstream.ErrMalformedResponse) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// sleepCtx sleeps d; it returns false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
