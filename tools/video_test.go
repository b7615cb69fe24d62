package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// writePNG writes a small PNG and returns its path.
func writePNG(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{G: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkMP4 checks that a saved file is the fake's MP4.
func checkMP4(t *testing.T, f fileOut) {
	t.Helper()
	b, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatalf("saved video: %v", err)
	}
	if len(b) < 12 || string(b[4:8]) != "ftyp" || f.MIME != "video/mp4" || f.Bytes != int64(len(b)) || !strings.HasSuffix(f.Path, ".mp4") {
		t.Errorf("saved video %s: %d bytes, starts %q, mime %q, bytes %d; want an .mp4 with an ftyp box", f.Path, len(b), b[:min(12, len(b))], f.MIME, f.Bytes)
	}
}

func TestGenerateVideoDefaultWait(t *testing.T) {
	e := jobEnv(t, 900*time.Millisecond)
	res := e.callWithProgress(t, "generate_video", map[string]any{"prompt": "画只猫在草地上跳舞"}, "vid-1")
	var out jobOutput
	decode(t, res, &out)
	if out.Status != "succeeded" || out.Kind != kindVideo || out.Progress != 100 || out.Result == nil || len(out.Result.Files) != 1 {
		t.Fatalf("generate_video: %+v; want succeeded with one file", out)
	}
	f := out.Result.Files[0]
	checkMP4(t, f)
	if !strings.HasPrefix(f.URL, e.G.URL+"/fake/video/") {
		t.Errorf("url %q; want the gateway's link", f.URL)
	}
	if out.Usage == nil || out.Usage.TotalTokens == 0 {
		t.Errorf("usage %+v; want the gateway's final usage chunk", out.Usage)
	}
	if !strings.Contains(textOf(res), f.Path) {
		t.Errorf("text %q; want the saved path", textOf(res))
	}
	var body map[string]any
	_ = json.Unmarshal(e.G.Last(fakegateway.RouteChatCompletions).Body, &body)
	if body["model"] != "sora_video2" || body["stream"] != true {
		t.Errorf("request %v; want model sora_video2 with stream true", body)
	}
	// Progress: queued/started, 37%, 76%, done; sent while waiting.
	// Notifications travel apart from the answer: give the last one time.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if n := e.progress("vid-1"); len(n) > 0 && n[len(n)-1]["message"] == "done" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	notes := e.progress("vid-1")
	var msgs []string
	last := -1.0
	for _, n := range notes {
		msgs = append(msgs, n["message"].(string))
		p := n["progress"].(float64)
		if p <= last {
			t.Errorf("progress went from %v to %v; want it increasing", last, p)
		}
		last = p
	}
	joined := strings.Join(msgs, " | ")
	if len(notes) < 4 || !strings.Contains(joined, "37%") || !strings.Contains(joined, "done") {
		t.Errorf("%d progress notifications: %s; want at least 4 including 37%% and done", len(notes), joined)
	}
}

func TestGenerateVideoShortWaitThenGetJob(t *testing.T) {
	e := jobEnv(t, 1500*time.Millisecond)
	out := callJob(t, e, "generate_video", map[string]any{"prompt": "a slow video", "wait_seconds": 1})
	if out.Status != "running" || out.JobID == "" || !strings.Contains(out.NextStep, "get_job") || !strings.Contains(out.NextStep, out.JobID) {
		t.Fatalf("wait_seconds 1: %+v; want running with a job_id and a next step naming get_job", out)
	}
	got := callJob(t, e, "get_job", map[string]any{"job_id": out.JobID, "wait_seconds": 10})
	if got.Status != "succeeded" || got.Result == nil || len(got.Result.Files) != 1 {
		t.Fatalf("get_job: %+v; want succeeded with the file", got)
	}
	checkMP4(t, got.Result.Files[0])
}

func TestGenerateVideoDedupe(t *testing.T) {
	e := jobEnv(t, 800*time.Millisecond)
	args := map[string]any{"prompt": "the same video", "wait_seconds": 0}
	a := callJob(t, e, "generate_video", args)
	b := callJob(t, e, "generate_video", args)
	if b.JobID != a.JobID || !b.Reused || a.Reused {
		t.Errorf("second identical call: job %s reused %v; want job %s reused", b.JobID, b.Reused, a.JobID)
	}
	callJob(t, e, "get_job", map[string]any{"job_id": a.JobID, "wait_seconds": 10})
	c := callJob(t, e, "generate_video", args)
	if c.JobID != a.JobID || c.Status != "succeeded" {
		t.Errorf("identical call after success: %s %s; want the finished job %s", c.JobID, c.Status, a.JobID)
	}
	if n := e.G.Count(fakegateway.RouteChatCompletions); n != 1 {
		t.Errorf("gateway got %d video requests for identical calls; want 1", n)
	}
	args["new"] = true
	d := callJob(t, e, "generate_video", args)
	if d.JobID == a.JobID || d.Reused {
		t.Errorf("new: true gave job %s reused %v; want a new job", d.JobID, d.Reused)
	}
	callJob(t, e, "get_job", map[string]any{"job_id": d.JobID, "wait_seconds": 10})
	if n := e.G.Count(fakegateway.RouteChatCompletions); n != 2 {
		t.Errorf("gateway got %d video requests after new: true; want 2", n)
	}
}

func TestCancelWaitingCallJobGoesOn(t *testing.T) {
	e := jobEnv(t, 1500*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	req := mcp.CallToolRequest{}
	req.Params.Name = "generate_video"
	req.Params.Arguments = map[string]any{"prompt": "cancel my wait"}
	start := time.Now()
	_, err := e.Client.CallTool(ctx, req)
	if err == nil {
		t.Fatal("cancelled call: no error")
	}
	if el := time.Since(start); el > 1300*time.Millisecond {
		t.Errorf("cancelled call returned after %v; want within a second of the cancel", el)
	}
	var out listJobsOutput
	decode(t, e.call(t, "list_jobs", nil), &out)
	if out.Count != 1 {
		t.Fatalf("%d jobs after the cancel; want 1", out.Count)
	}
	got := callJob(t, e, "get_job", map[string]any{"job_id": out.Jobs[0].JobID, "wait_seconds": 10})
	if got.Status != "succeeded" || len(got.Result.Files) != 1 {
		t.Errorf("job after its caller went away: %+v; want it finished and saved", got)
	}
}

func TestGenerateVideoWithoutLinkFails(t *testing.T) {
	e := jobEnv(t, 300*time.Millisecond)
	msg := callErr(t, e, "generate_video", map[string]any{"prompt": "a cat " + fakegateway.PromptNoLink})
	if !strings.Contains(msg, "without a video link") || !strings.Contains(msg, "生成失败") {
		t.Errorf("answer without link: %q; want a failure with the gateway's last words", msg)
	}
	var out listJobsOutput
	decode(t, e.call(t, "list_jobs", map[string]any{"status": "failed"}), &out)
	if out.Count != 1 || out.Jobs[0].Usage == nil {
		t.Errorf("failed jobs: %+v; want the failed video, with the usage the gateway reported", out.Jobs)
	}
}

func TestGenerateVideoAsync(t *testing.T) {
	e := jobEnv(t, 400*time.Millisecond)
	img := writePNG(t, "start.png")
	out := callJob(t, e, "generate_video", map[string]any{"prompt": "a boat", "model": "sora-2", "seconds": 8, "size": "1280x720", "image": img})
	if out.Status != "succeeded" || out.Result == nil || len(out.Result.Files) != 1 || !strings.HasPrefix(out.Result.TaskID, "video_") {
		t.Fatalf("async video: %+v", out)
	}
	checkMP4(t, out.Result.Files[0])
	if !strings.HasSuffix(out.Result.Files[0].URL, "/v1/videos/"+out.Result.TaskID+"/content") {
		t.Errorf("url %q; want the content route", out.Result.Files[0].URL)
	}
	last := e.G.Last(fakegateway.RouteVideos)
	mt, params, _ := mime.ParseMediaType(last.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		t.Fatalf("POST /v1/videos content type %q; want multipart/form-data", mt)
	}
	form, err := multipart.NewReader(bytes.NewReader(last.Body), params["boundary"]).ReadForm(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if form.Value["model"][0] != "sora-2" || form.Value["seconds"][0] != "8" || form.Value["size"][0] != "1280x720" || len(form.File["input_reference"]) != 1 {
		t.Errorf("form %v files %v; want model, seconds, size and input_reference", form.Value, form.File)
	}
	if e.G.Count(fakegateway.RouteVideo) == 0 || e.G.Count(fakegateway.RouteVideoContent) != 1 {
		t.Errorf("status queries %d, content downloads %d; want some and 1", e.G.Count(fakegateway.RouteVideo), e.G.Count(fakegateway.RouteVideoContent))
	}
}

func TestGenerateVideoAsyncFailure(t *testing.T) {
	e := jobEnv(t, 300*time.Millisecond)
	msg := callErr(t, e, "generate_video", map[string]any{"prompt": "a boat " + fakegateway.PromptFail, "model": "veo3"})
	if !strings.Contains(msg, "content policy") {
		t.Errorf("failed async video: %q; want the gateway's reason", msg)
	}
}

func TestGenerateVideoInputErrors(t *testing.T) {
	e := jobEnv(t, 100*time.Millisecond)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"prompt": " "}, "give prompt"},
		{map[string]any{"prompt": "x", "seconds": 8}, "async video models"},
		{map[string]any{"prompt": "x", "model": "sora-2", "size": "big"}, "WIDTHxHEIGHT"},
		{map[string]any{"prompt": "x", "image": "/no/such/file.png"}, "file.png"},
		{map[string]any{"prompt": "x", "wait": 3}, "unknown field"},
	} {
		if msg := callErr(t, e, "generate_video", tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("generate_video %v: %q; want it to mention %q", tc.args, msg, tc.want)
		}
	}
	if n := e.G.Count(fakegateway.RouteChatCompletions) + e.G.Count(fakegateway.RouteVideos); n != 0 {
		t.Errorf("%d video requests for invalid calls; want none", n)
	}
}

func TestGenerateVideoNoKey(t *testing.T) {
	e := jobEnv(t, 100*time.Millisecond, withEnv("WENWEN_API_KEY", ""))
	if msg := callErr(t, e, "generate_video", map[string]any{"prompt": "x"}); !strings.Contains(msg, "WENWEN_API_KEY") {
		t.Errorf("no key: %q; want how to set WENWEN_API_KEY", msg)
	}
	if n := len(e.Deps.Jobs.List(jobs.Filter{})); n != 0 {
		t.Errorf("%d jobs without a key; want none", n)
	}
}
