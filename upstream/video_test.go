package upstream

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestVideoLink(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"[下载视频](https://midjourney-plus.oss-us-west-1.aliyuncs.com/sora/b0537767.mp4)\n\n", "https://midjourney-plus.oss-us-west-1.aliyuncs.com/sora/b0537767.mp4"},
		{"> 🏃 进度 37\n[预览](https://x/a.png)\n[下载视频](https://x/v.mp4?sig=1)", "https://x/v.mp4?sig=1"},
		{"[one](https://x/1.mp4) then [two](https://x/2.mp4)", "https://x/2.mp4"},
		{"[下载](https://x/download?id=7)", "https://x/download?id=7"},
		{"here: https://x/bare.mp4 done", "https://x/bare.mp4"},
		{"> 生成失败 ❌", ""},
		{"[下载视频](https://x/cut", ""},
	} {
		if got := VideoLink(tc.text); got != tc.want {
			t.Errorf("VideoLink(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
}

func TestParseVideoProgress(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
		pct  float64
		msg  string
	}{
		{"> 排队中...", true, -1, "queued"},
		{"> 🏃 进度 37", true, 37, "generating 37%"},
		{">🏃 进度：76.5%", true, 76.5, "generating 76.5%"},
		{"> 生成完成 ✅", true, 100, "generated"},
		{"> 生成中", true, -1, "generating"},
		{"> 生成失败 ❌ 内容违规", true, -1, "failed"},
		{"[下载视频](https://x/v.mp4)", false, 0, ""},
		{"", false, 0, ""},
	} {
		p, ok := ParseVideoProgress(tc.line)
		if ok != tc.ok || ok && (p.Percent != tc.pct || !strings.HasPrefix(p.Message, tc.msg)) {
			t.Errorf("ParseVideoProgress(%q) = %+v, %v; want %v, %v, %q…", tc.line, p, ok, tc.ok, tc.pct, tc.msg)
		}
	}
}

func videoReq(prompt string) *ChatRequest {
	return &ChatRequest{Model: "sora_video2", Messages: []ChatMessage{{Role: "user", Content: prompt}}}
}

func TestChatVideoAgainstFake(t *testing.T) {
	g := fakegateway.New(t, fakegateway.WithTaskDuration(300*time.Millisecond))
	c := newClient(t, g.URL)
	var seen []VideoProgress
	res, err := c.ChatVideo(t.Context(), videoReq("画只猫"), func(p VideoProgress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.URL, g.URL+"/fake/video/") || res.Usage == nil || res.Usage.TotalTokens == 0 {
		t.Errorf("result %+v; want the fake's link and usage", res)
	}
	var pcts []float64
	for _, p := range seen {
		pcts = append(pcts, p.Percent)
	}
	if len(seen) != 4 || pcts[1] != 37 || pcts[2] != 76 || pcts[3] != 100 {
		t.Errorf("progress %v; want queued, 37, 76, 100", pcts)
	}
	var body map[string]any
	_ = json.Unmarshal(g.Last(fakegateway.RouteChatCompletions).Body, &body)
	if body["stream"] != true {
		t.Errorf("request %v; want stream true", body)
	}

	_, err = c.ChatVideo(t.Context(), videoReq("a cat "+fakegateway.PromptNoLink), nil)
	var nv *NoVideoError
	if !errors.As(err, &nv) || !errors.Is(err, ErrNoVideo) || !strings.Contains(nv.LastWords, "生成失败") {
		t.Errorf("answer without link: %v; want a *NoVideoError with the last words", err)
	}
}

func TestChatVideoRecorded(t *testing.T) {
	for _, name := range []string{"chat-sora-video2", "chat-sora-video2-stream"} {
		srv := replayRecording(t, 0, "", name)
		res, err := newClient(t, srv.URL).ChatVideo(t.Context(), videoReq("画只猫在草地上跳舞"), nil)
		if err != nil || res.URL != "https://example.invalid/v.mp4" || res.Usage == nil || res.Usage.TotalTokens != 17 {
			t.Errorf("%s: %+v, %v; want the recorded link and usage", name, res, err)
		}
	}
}

func TestChatVideoCutStream(t *testing.T) {
	stream := func(lines ...string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, l := range lines {
				b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": l}}}})
				_, _ = w.Write([]byte("data: " + string(b) + "\n\n"))
			}
			_, _ = w.Write([]byte("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\ndata: [DONE]\n\n"))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	// Cut after a whole link: the video exists, keep it.
	res, err := newClient(t, stream("> 🏃 进度 90\n", "[下载视频](https://x/v.mp4)\n").URL).ChatVideo(t.Context(), videoReq("x"), nil)
	if err != nil || res.URL != "https://x/v.mp4" {
		t.Errorf("cut after the link: %+v, %v; want the link", res, err)
	}
	// Cut before the link closed: failure that says it was cut.
	_, err = newClient(t, stream("> 🏃 进度 90\n", "[下载视频](https://x/v.mp4").URL).ChatVideo(t.Context(), videoReq("x"), nil)
	var nv *NoVideoError
	if !errors.As(err, &nv) || nv.Cut == nil || !IsStreamCut(err) {
		t.Errorf("cut before the link: %v; want a *NoVideoError wrapping the cut", err)
	}
}

func TestVideoStates(t *testing.T) {
	for _, tc := range []struct {
		status string
		want   VideoState
	}{
		{"queued", VideoPending}, {"in_progress", VideoPending}, {"processing", VideoPending}, {"pending", VideoPending}, {"", VideoPending},
		{"completed", VideoSucceeded}, {"succeeded", VideoSucceeded}, {"SUCCESS", VideoSucceeded},
		{"failed", VideoFailed}, {"cancelled", VideoFailed}, {"expired", VideoFailed},
	} {
		v := Video{Status: tc.status}
		if got := v.State(); got != tc.want {
			t.Errorf("State(%q) = %v; want %v", tc.status, got, tc.want)
		}
	}
	var v Video
	if err := json.Unmarshal([]byte(`{"task_id":"t1","status":"processing","progress":"37%","seconds":8,"url":"https://x/v.mp4"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.TaskID != "t1" || v.Progress != 37 || v.Seconds != "8" || v.Link() != "https://x/v.mp4" {
		t.Errorf("generic task shape decoded as %+v", v)
	}
}

func TestAsyncVideoAgainstFake(t *testing.T) {
	g := fakegateway.New(t, fakegateway.WithTaskDuration(200*time.Millisecond))
	c := newClient(t, g.URL)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
	v, err := c.CreateVideo(t.Context(), &VideoRequest{Model: "sora-2", Prompt: "a boat", Seconds: "8", Size: "1280x720", Image: png})
	if err != nil {
		t.Fatal(err)
	}
	if v.State() != VideoPending || v.Seconds != "8" || v.Size != "1280x720" {
		t.Errorf("created %+v", v)
	}
	var apiErr *APIError
	if _, err := c.VideoContent(t.Context(), v.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "not completed") {
		t.Errorf("content too early: %v; want 400 not completed", err)
	}
	for deadline := time.Now().Add(3 * time.Second); v.State() == VideoPending && time.Now().Before(deadline); time.Sleep(40 * time.Millisecond) {
		if v, err = c.GetVideo(t.Context(), v.ID); err != nil {
			t.Fatal(err)
		}
	}
	if v.State() != VideoSucceeded || v.CompletedAt == 0 {
		t.Fatalf("video %+v; want completed", v)
	}
	content, err := c.VideoContent(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(content.Body)
	content.Body.Close()
	if content.ContentType != "video/mp4" || len(b) < 12 || string(b[4:8]) != "ftyp" {
		t.Errorf("content %s, %d bytes starting %q; want an mp4", content.ContentType, len(b), b[:min(12, len(b))])
	}

	failed, err := c.CreateVideo(t.Context(), &VideoRequest{Model: "veo3", Prompt: "x " + fakegateway.PromptFail})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	if failed, err = c.GetVideo(t.Context(), failed.ID); err != nil || failed.State() != VideoFailed || !strings.Contains(failed.FailReason(), "content_policy_violation") {
		t.Errorf("failed video %+v, %v; want state failed with its reason (not an error)", failed, err)
	}
	if _, err := c.GetVideo(t.Context(), "video_nope"); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("unknown video: %v; want 404", err)
	}
	if _, err := c.CreateVideo(t.Context(), &VideoRequest{Model: "gpt-4o-mini", Prompt: "x"}); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("chat model on the video API: %v; want 400", err)
	}
	if n := g.Count(fakegateway.RouteVideos); n != 3 {
		t.Errorf("POST /v1/videos sent %d times; want 3 (never retried)", n)
	}
}
