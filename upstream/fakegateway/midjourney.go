package fakegateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Route keys of the Midjourney routes, for [Gateway.Count] and [Gateway.Last].
const (
	RouteMJImagine = "POST /mj/submit/imagine"
	RouteMJBlend   = "POST /mj/submit/blend"
	RouteMJAction  = "POST /mj/submit/action"
	RouteMJFetch   = "GET /mj/task/{id}/fetch"
	RouteMJList    = "POST /mj/task/list-by-condition"
	RouteMJSeed    = "GET /mj/task/{id}/image-seed"
	RouteMJImage   = "GET /mj/image/{id}"
)

// Prompt words that make the Midjourney and video routes misbehave. They are
// matched inside the prompt, so a test can write "a cat fault-fail".
const (
	// PromptBanned is a banned word: a submit answers code 24 on HTTP 200.
	PromptBanned = "nsfw"
	// PromptFail makes a task (Midjourney or async video) end in failure.
	PromptFail = "fault-fail"
	// PromptQueueFull makes a Midjourney submit answer code 23 (queue full).
	PromptQueueFull = "fault-queue-full"
	// PromptNoLink makes a chat video model end its answer without a link.
	PromptNoLink = "fault-nolink"
)

// defaultTaskDuration is how long a Midjourney task or a video takes unless
// [WithTaskDuration] says otherwise.
const defaultTaskDuration = 300 * time.Millisecond

// longTasks is the state of the long-running routes: Midjourney tasks and
// videos (async and chat).
type longTasks struct {
	mu       sync.Mutex
	duration time.Duration
	seq      int
	mj       map[string]*mjTask
	mjOrder  []string
	videos   map[string]*fakeVideo
}

func newLongTasks() *longTasks {
	return &longTasks{duration: defaultTaskDuration, mj: make(map[string]*mjTask), videos: make(map[string]*fakeVideo)}
}

// WithTaskDuration sets how long a Midjourney task or a video takes from
// submission to success (default 300ms). A long duration is the slow mode:
// tasks stay in progress, and chat video streams stay silent, for that long.
func WithTaskDuration(d time.Duration) Option {
	return func(g *Gateway) { g.long.duration = d }
}

// SetTaskDuration changes the duration of tasks submitted from now on.
func (g *Gateway) SetTaskDuration(d time.Duration) {
	g.long.mu.Lock()
	defer g.long.mu.Unlock()
	g.long.duration = d
}

func (g *Gateway) taskDuration() time.Duration {
	g.long.mu.Lock()
	defer g.long.mu.Unlock()
	return g.long.duration
}

// mjTask is a Midjourney task of the fake.
type mjTask struct {
	id, action, customID, prompt string
	submitted                    time.Time
	duration                     time.Duration
	fail                         string // failReason when the task is to fail
	upscaled                     bool   // an upscale result has other buttons
	seen                         int    // fetches so far: the first one sees the fresh form
}

// mjTaskJSON is a task in the recorded key order (mj-task-fetch-*).
type mjTaskJSON struct {
	ID          string            `json:"id"`
	Action      string            `json:"action"`
	CustomID    string            `json:"customId"`
	BotType     string            `json:"botType"`
	Prompt      string            `json:"prompt"`
	PromptEn    string            `json:"promptEn"`
	Description string            `json:"description"`
	State       string            `json:"state"`
	SubmitTime  int64             `json:"submitTime"`
	StartTime   int64             `json:"startTime"`
	FinishTime  int64             `json:"finishTime"`
	ImageURL    string            `json:"imageUrl"`
	VideoURL    string            `json:"videoUrl"`
	VideoURLs   []string          `json:"videoUrls"`
	Status      string            `json:"status"`
	Progress    string            `json:"progress"`
	FailReason  string            `json:"failReason"`
	Buttons     []mjButtonJSON    `json:"buttons"`
	MaskBase64  string            `json:"maskBase64"`
	Properties  map[string]string `json:"properties"`
}

type mjButtonJSON struct {
	CustomID string `json:"customId"`
	Emoji    string `json:"emoji"`
	Label    string `json:"label"`
	Type     int    `json:"type"`
	Style    int    `json:"style"`
}

// mjSubmitJSON is the submit envelope in the recorded key order.
type mjSubmitJSON struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
	Result      any    `json:"result"`
	Properties  any    `json:"properties"`
}

type mjDiscord struct {
	DiscordInstanceID string `json:"discordInstanceId"`
	DiscordChannelID  string `json:"discordChannelId"`
}

type mjBanned struct {
	PromptEn   string `json:"promptEn"`
	BannedWord string `json:"bannedWord"`
}

// handleMidjourney registers the /mj routes.
func (g *Gateway) handleMidjourney() {
	g.Handle(RouteMJImagine, g.mjImagine)
	g.Handle(RouteMJBlend, g.mjBlend)
	g.Handle(RouteMJAction, g.mjAction)
	g.Handle(RouteMJFetch, g.mjFetch)
	g.Handle(RouteMJList, g.mjList)
	g.Handle(RouteMJSeed, g.mjSeed)
	g.Handle(RouteMJImage, g.mjImage)
}

func (g *Gateway) mjAuth(w http.ResponseWriter, r *http.Request) bool {
	return g.CheckKey(w, BearerKey(r), "badkey-mj-imagine")
}

// writeMJSubmit writes a submit envelope the way new-api relays it: HTTP 200
// and Content-Type text/plain, whatever the code.
func writeMJSubmit(w http.ResponseWriter, v mjSubmitJSON) {
	b, _ := json.Marshal(v) // plain structs always marshal
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeMJGatewayError writes an error new-api makes itself on /mj routes:
// {"code":4,"description":"<desc> ","type":"upstream_error"} (trailing space).
func writeMJGatewayError(w http.ResponseWriter, status int, desc string) {
	WriteJSON(w, status, struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
		Type        string `json:"type"`
	}{4, desc + " ", "upstream_error"})
}

// mjValidation answers code 4 (validation error) on HTTP 200, as
// midjourney-proxy does and new-api relays.
func mjValidation(w http.ResponseWriter, desc string) {
	writeMJSubmit(w, mjSubmitJSON{Code: 4, Description: desc})
}

// mjPromptFaults answers the prompt-triggered refusals; it returns true when
// it wrote an answer.
func (g *Gateway) mjPromptFaults(w http.ResponseWriter, prompt string) bool {
	switch {
	case strings.Contains(prompt, ModelFaultQuotaUser):
		g.Replay(w, "mj-submit-imagine-user-quota-insufficient")
	case strings.Contains(strings.ToLower(prompt), PromptBanned):
		writeMJSubmit(w, mjSubmitJSON{Code: 24, Description: "可能包含敏感词", Properties: mjBanned{PromptEn: prompt, BannedWord: PromptBanned}})
	case strings.Contains(prompt, PromptQueueFull):
		writeMJSubmit(w, mjSubmitJSON{Code: 23, Description: "队列已满，请稍后尝试", Properties: map[string]int{"numberOfQueues": 10}})
	default:
		return false
	}
	return true
}

func validMJMode(mode string) bool {
	return mode == "" || mode == "RELAX" || mode == "FAST"
}

// checkDataImages reports the first entry that is not a base64 image data URL.
func checkDataImages(images []string) string {
	for i, s := range images {
		payload, ok := dataImagePayload(s)
		if !ok {
			return fmt.Sprintf("base64Array[%d] is not a data:image/...;base64 URL", i)
		}
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err != nil || !strings.HasPrefix(http.DetectContentType(raw), "image/") {
			return fmt.Sprintf("base64Array[%d] is not a base64 image", i)
		}
	}
	return ""
}

// mjImagine serves POST /mj/submit/imagine.
func (g *Gateway) mjImagine(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	var req struct {
		Prompt      string   `json:"prompt"`
		Mode        string   `json:"mode"`
		Base64Array []string `json:"base64Array"`
		NotifyHook  string   `json:"notifyHook"`
		State       string   `json:"state"`
		BotType     string   `json:"botType"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Prompt) == "" {
		g.Replay(w, "mj-submit-imagine-empty-prompt")
		return
	}
	if !validMJMode(req.Mode) {
		mjValidation(w, "mode参数错误: RELAX or FAST")
		return
	}
	if msg := checkDataImages(req.Base64Array); msg != "" {
		mjValidation(w, msg)
		return
	}
	if g.mjPromptFaults(w, req.Prompt) {
		return
	}
	g.mjAccept(w, &mjTask{action: "IMAGINE", prompt: req.Prompt, fail: failFor(req.Prompt)})
}

// mjBlend serves POST /mj/submit/blend.
func (g *Gateway) mjBlend(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	var req struct {
		Base64Array []string `json:"base64Array"`
		Dimensions  string   `json:"dimensions"`
		Mode        string   `json:"mode"`
		NotifyHook  string   `json:"notifyHook"`
		State       string   `json:"state"`
		BotType     string   `json:"botType"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	switch {
	case len(req.Base64Array) < 2 || len(req.Base64Array) > 5:
		mjValidation(w, "base64List参数错误: 2 to 5 images")
		return
	case !slices.Contains([]string{"", "PORTRAIT", "SQUARE", "LANDSCAPE"}, req.Dimensions):
		mjValidation(w, "dimensions参数错误: PORTRAIT, SQUARE or LANDSCAPE")
		return
	case !validMJMode(req.Mode):
		mjValidation(w, "mode参数错误: RELAX or FAST")
		return
	}
	if msg := checkDataImages(req.Base64Array); msg != "" {
		mjValidation(w, msg)
		return
	}
	g.mjAccept(w, &mjTask{action: "BLEND"})
}

// mjAction serves POST /mj/submit/action.
func (g *Gateway) mjAction(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	var req struct {
		CustomID          string `json:"customId"`
		TaskID            string `json:"taskId"`
		ChooseSameChannel bool   `json:"chooseSameChannel"`
		NotifyHook        string `json:"notifyHook"`
		State             string `json:"state"`
		AccountFilter     any    `json:"accountFilter"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	if req.CustomID == "" || req.TaskID == "" {
		mjValidation(w, "customId and taskId are required")
		return
	}
	now := time.Now()
	g.long.mu.Lock()
	parent, ok := g.long.mj[req.TaskID]
	var status string
	var buttons []mjButtonJSON
	if ok {
		status, _ = parent.state(now)
		buttons = parent.buttons()
	}
	g.long.mu.Unlock()
	switch {
	case !ok:
		writeMJGatewayError(w, http.StatusBadRequest, "task_not_found")
		return
	case status != "SUCCESS":
		writeMJGatewayError(w, http.StatusBadRequest, "task_status_not_success")
		return
	case !slices.ContainsFunc(buttons, func(b mjButtonJSON) bool { return b.CustomID == req.CustomID }):
		mjValidation(w, "customId不存在: not a button of task "+req.TaskID)
		return
	}
	t := &mjTask{action: actionOf(req.CustomID), customID: req.CustomID, prompt: parent.prompt}
	t.upscaled = t.action == "UPSCALE"
	g.mjAccept(w, t)
}

// actionOf names the task a button click makes.
func actionOf(customID string) string {
	parts := strings.Split(customID, "::")
	if len(parts) < 3 {
		return "ACTION"
	}
	switch parts[2] {
	case "upsample":
		return "UPSCALE"
	case "variation":
		return "VARIATION"
	case "reroll":
		return "REROLL"
	case "high_variation":
		return "HIGH_VARIATION"
	case "low_variation":
		return "LOW_VARIATION"
	}
	if parts[1] == "Outpaint" {
		return "ZOOM"
	}
	return strings.ToUpper(parts[2])
}

func failFor(prompt string) string {
	if strings.Contains(prompt, PromptFail) {
		return "Job failed: the image could not be generated (fake failure)"
	}
	return ""
}

// mjAccept stores a new task and answers the recorded success envelope.
func (g *Gateway) mjAccept(w http.ResponseWriter, t *mjTask) {
	now := time.Now()
	g.long.mu.Lock()
	t.submitted = now
	t.duration = g.long.duration
	for {
		g.long.seq++
		t.id = fmt.Sprintf("%d%03d", now.UnixMilli(), g.long.seq%1000)
		if _, dup := g.long.mj[t.id]; !dup {
			break
		}
	}
	g.long.mj[t.id] = t
	g.long.mjOrder = append(g.long.mjOrder, t.id)
	g.long.mu.Unlock()
	writeMJSubmit(w, mjSubmitJSON{Code: 1, Description: "提交成功", Result: t.id,
		Properties: mjDiscord{"1118138338562560102", "1118138338562560102"}})
}

// state is the task's status and progress at now, ignoring the fresh form.
func (t *mjTask) state(now time.Time) (status string, progress int) {
	el := now.Sub(t.submitted)
	switch {
	case el >= t.duration && t.fail != "":
		return "FAILURE", 0
	case el >= t.duration:
		return "SUCCESS", 100
	case el < t.duration/4:
		return "SUBMITTED", 0
	}
	return "IN_PROGRESS", min(99, int(100*el/t.duration))
}

// hash is a stable uuid-like string for the task's button ids.
func (t *mjTask) hash() string {
	s := sha256.Sum256([]byte(t.id))
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// buttons are the next actions of a finished task: U1-U4, reroll and V1-V4
// for a grid, other ones for an upscale.
func (t *mjTask) buttons() []mjButtonJSON {
	h := t.hash()
	if t.upscaled {
		return []mjButtonJSON{
			{"MJ::JOB::upsample_v6_2x_subtle::1::" + h + "::SOLO", "", "Upscale (Subtle)", 2, 2},
			{"MJ::JOB::low_variation::1::" + h + "::SOLO", "🪄", "Vary (Subtle)", 2, 2},
			{"MJ::JOB::high_variation::1::" + h + "::SOLO", "🪄", "Vary (Strong)", 2, 2},
			{"MJ::Outpaint::50::1::" + h + "::SOLO", "🔍", "Zoom Out 2x", 2, 2},
		}
	}
	var b []mjButtonJSON
	for i := 1; i <= 4; i++ {
		b = append(b, mjButtonJSON{fmt.Sprintf("MJ::JOB::upsample::%d::%s", i, h), "", fmt.Sprintf("U%d", i), 2, 2})
	}
	b = append(b, mjButtonJSON{"MJ::JOB::reroll::0::" + h + "::SOLO", "🔄", "", 2, 2})
	for i := 1; i <= 4; i++ {
		b = append(b, mjButtonJSON{fmt.Sprintf("MJ::JOB::variation::%d::%s", i, h), "", fmt.Sprintf("V%d", i), 2, 2})
	}
	return b
}

// view renders the task as the gateway shows it now. The first view of a
// task is the fresh form new-api shows before its poller ran: status "",
// progress "0%", buttons, properties and videoUrls null.
func (g *Gateway) mjView(t *mjTask, now time.Time) mjTaskJSON {
	v := mjTaskJSON{ID: t.id, Action: t.action, CustomID: t.customID, Prompt: t.prompt,
		Description: "提交成功", SubmitTime: t.submitted.UnixMilli(), Progress: "0%"}
	t.seen++
	if t.seen == 1 {
		return v
	}
	status, progress := t.state(now)
	v.Status, v.Progress, v.PromptEn = status, strconv.Itoa(progress)+"%", t.prompt
	v.StartTime = t.submitted.Add(t.duration / 4).UnixMilli()
	switch status {
	case "SUCCESS":
		v.FinishTime = t.submitted.Add(t.duration).UnixMilli()
		v.ImageURL = g.URL + "/mj/image/" + t.id
		v.Buttons = t.buttons()
		v.Properties = map[string]string{"finalPrompt": t.prompt, "finalZhPrompt": ""}
	case "FAILURE":
		v.FinishTime = t.submitted.Add(t.duration).UnixMilli()
		v.FailReason = t.fail
		v.Properties = map[string]string{"finalPrompt": t.prompt, "finalZhPrompt": ""}
	}
	return v
}

// mjFetch serves GET /mj/task/{id}/fetch.
func (g *Gateway) mjFetch(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	now := time.Now()
	g.long.mu.Lock()
	t, ok := g.long.mj[r.PathValue("id")]
	var v mjTaskJSON
	if ok {
		v = g.mjView(t, now)
	}
	g.long.mu.Unlock()
	if !ok {
		g.Replay(w, "mj-task-fetch-unknown-id")
		return
	}
	WriteUpstreamJSON(w, http.StatusOK, v)
}

// mjList serves POST /mj/task/list-by-condition: the known tasks among ids,
// in submission order; unknown ids are left out.
func (g *Gateway) mjList(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	now := time.Now()
	out := []mjTaskJSON{}
	g.long.mu.Lock()
	for _, id := range g.long.mjOrder {
		if slices.Contains(req.IDs, id) {
			out = append(out, g.mjView(g.long.mj[id], now))
		}
	}
	g.long.mu.Unlock()
	WriteUpstreamJSON(w, http.StatusOK, out)
}

// mjSeed serves GET /mj/task/{id}/image-seed.
func (g *Gateway) mjSeed(w http.ResponseWriter, r *http.Request) {
	if !g.mjAuth(w, r) {
		return
	}
	g.long.mu.Lock()
	t, ok := g.long.mj[r.PathValue("id")]
	var status string
	if ok {
		status, _ = t.state(time.Now())
	}
	g.long.mu.Unlock()
	switch {
	case !ok:
		g.Replay(w, "mj-task-fetch-unknown-id")
	case status != "SUCCESS":
		writeMJSubmit(w, mjSubmitJSON{Code: 4, Description: "task_status_not_success: the task has no image yet"})
	default:
		s := sha256.Sum256([]byte("seed" + t.id))
		seed := binary.BigEndian.Uint32(s[:4])
		WriteUpstreamJSON(w, http.StatusOK, mjSubmitJSON{Code: 1, Description: "成功", Result: strconv.FormatUint(uint64(seed), 10)})
	}
}

// mjImage serves GET /mj/image/{id}: the finished task's image as a real
// PNG, without authentication (new-api's image forwarding).
func (g *Gateway) mjImage(w http.ResponseWriter, r *http.Request) {
	g.long.mu.Lock()
	t, ok := g.long.mj[r.PathValue("id")]
	var status string
	if ok {
		status, _ = t.state(time.Now())
	}
	g.long.mu.Unlock()
	if !ok || status != "SUCCESS" {
		http.NotFound(w, r)
		return
	}
	b := gridPNG(t.id)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// gridPNG is a 64×64 PNG of four coloured quadrants derived from seed, like
// a Midjourney grid of four images.
func gridPNG(seed string) []byte {
	s := sha256.Sum256([]byte(seed))
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			q := (y/32)*2 + x/32
			img.Set(x, y, color.RGBA{R: s[q*3], G: s[q*3+1], B: s[q*3+2], A: 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // cannot fail on an in-memory buffer
	return buf.Bytes()
}
