package fakegateway

import (
	"bytes"
	"encoding/json"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMidjourneySubmitStrict(t *testing.T) {
	g := New(t)
	for _, tc := range []struct {
		name   string
		path   string
		body   string
		hdr    map[string]string
		status int
		want   string
	}{
		{"no key", "/mj/submit/imagine", `{"prompt":"a cat"}`, map[string]string{"Authorization": ""}, 401, "Invalid token"},
		{"bad key", "/mj/submit/imagine", `{"prompt":"a cat"}`, map[string]string{"Authorization": "Bearer sk-wrong"}, 401, "Invalid token"},
		{"not JSON", "/mj/submit/imagine", `{"prompt":`, nil, 400, "invalid JSON"},
		{"form body", "/mj/submit/imagine", `prompt=cat`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, "Content-Type"},
		{"prompt of the wrong type", "/mj/submit/imagine", `{"prompt":7}`, nil, 400, "invalid JSON"},
		{"empty prompt (recorded)", "/mj/submit/imagine", `{"prompt":""}`, nil, 400, "prompt_is_required "},
		{"bad mode", "/mj/submit/imagine", `{"prompt":"a cat","mode":"TURBO"}`, nil, 200, `"code":4`},
		{"banned word", "/mj/submit/imagine", `{"prompt":"a nsfw cat"}`, nil, 200, `"code":24,"description":"可能包含敏感词"`},
		{"queue full", "/mj/submit/imagine", `{"prompt":"a cat fault-queue-full"}`, nil, 200, `"code":23`},
		{"user quota (recorded)", "/mj/submit/imagine", `{"prompt":"fault-quota-user"}`, nil, 400, "quota_not_enough "},
		{"reference not an image", "/mj/submit/imagine", `{"prompt":"a cat","base64Array":["https://x/a.png"]}`, nil, 200, `"code":4`},
		{"blend of one", "/mj/submit/blend", `{"base64Array":["data:image/png;base64,AAAA"]}`, nil, 200, `"code":4`},
		{"action without task", "/mj/submit/action", `{"customId":"MJ::JOB::upsample::1::x","taskId":"42"}`, nil, 400, "task_not_found "},
		{"fetch unknown (recorded)", "/mj/task/9999999999999999/fetch", "", nil, 400, "task_no_found "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodPost
			if tc.body == "" {
				method = http.MethodGet
			}
			r := send(t.Context(), t, g, method, tc.path, tc.body, tc.hdr)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%s %s: %d %s; want %d containing %q", method, tc.path, r.status, r.body, tc.status, tc.want)
			}
		})
	}
	if n := g.Count(RouteMJImagine); n != 11 {
		t.Errorf("Count(%s) = %d; want 11 (rejected requests count too)", RouteMJImagine, n)
	}
}

func TestMidjourneyTaskLifecycle(t *testing.T) {
	g := New(t, WithTaskDuration(200*time.Millisecond))
	r := send(t.Context(), t, g, http.MethodPost, "/mj/submit/imagine", `{"prompt":"a cat","base64Array":[]}`, nil)
	rec := mustRecording(t, "mj-submit-imagine-ok")
	if r.status != 200 || r.header.Get("Content-Type") != rec.Header.Get("Content-Type") {
		t.Fatalf("submit: %d %q; want 200 with the recorded %q", r.status, r.header.Get("Content-Type"), rec.Header.Get("Content-Type"))
	}
	var sub struct {
		Code   int    `json:"code"`
		Result string `json:"result"`
	}
	if err := json.Unmarshal(r.body, &sub); err != nil || sub.Code != 1 || len(sub.Result) != 16 {
		t.Fatalf("submit body %s: want code 1 and a 16-digit task id", r.body)
	}
	if got, want := keysOf(t, r.body), keysOf(t, rec.Body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("submit keys %v; want the recorded %v", got, want)
	}

	fresh := send(t.Context(), t, g, http.MethodGet, "/mj/task/"+sub.Result+"/fetch", "", nil)
	recFresh := mustRecording(t, "mj-task-fetch-immediately")
	if strings.Join(keysOf(t, fresh.body), ",") != strings.Join(keysOf(t, recFresh.Body), ",") {
		t.Errorf("fresh task keys %v; want the recorded %v", keysOf(t, fresh.body), keysOf(t, recFresh.Body))
	}
	for _, part := range []string{`"status":""`, `"progress":"0%"`, `"buttons":null`, `"properties":null`, `"videoUrls":null`, `"imageUrl":""`} {
		if !bytes.Contains(fresh.body, []byte(part)) {
			t.Errorf("fresh task %s lacks %s", fresh.body, part)
		}
	}
	if a := send(t.Context(), t, g, http.MethodPost, "/mj/submit/action", `{"customId":"x","taskId":"`+sub.Result+`"}`, nil); a.status != 400 || !strings.Contains(string(a.body), "task_status_not_success") {
		t.Errorf("action on an unfinished task: %d %s", a.status, a.body)
	}

	time.Sleep(250 * time.Millisecond)
	done := send(t.Context(), t, g, http.MethodGet, "/mj/task/"+sub.Result+"/fetch", "", nil)
	var task struct {
		Status   string `json:"status"`
		ImageURL string `json:"imageUrl"`
		Buttons  []struct {
			CustomID string `json:"customId"`
			Label    string `json:"label"`
			Emoji    string `json:"emoji"`
		} `json:"buttons"`
	}
	if err := json.Unmarshal(done.body, &task); err != nil || task.Status != "SUCCESS" || len(task.Buttons) != 9 || task.Buttons[4].Emoji != "🔄" {
		t.Fatalf("finished task %s", done.body)
	}
	img, err := http.Get(task.ImageURL) // no key: new-api's image forwarding is public
	if err != nil {
		t.Fatal(err)
	}
	defer img.Body.Close()
	if _, err := png.Decode(img.Body); err != nil || img.Header.Get("Content-Type") != "image/png" {
		t.Errorf("image at %s: %v, %s; want a PNG", task.ImageURL, err, img.Header.Get("Content-Type"))
	}

	list := send(t.Context(), t, g, http.MethodPost, "/mj/task/list-by-condition", `{"ids":["`+sub.Result+`","9999999999999999"]}`, nil)
	var tasks []map[string]any
	if err := json.Unmarshal(list.body, &tasks); err != nil || len(tasks) != 1 {
		t.Errorf("list-by-condition: %s; want only the known task", list.body)
	}
	act := send(t.Context(), t, g, http.MethodPost, "/mj/submit/action", `{"customId":"`+task.Buttons[0].CustomID+`","taskId":"`+sub.Result+`"}`, nil)
	if !strings.Contains(string(act.body), `"code":1`) {
		t.Errorf("action: %s", act.body)
	}
	seed := send(t.Context(), t, g, http.MethodGet, "/mj/task/"+sub.Result+"/image-seed", "", nil)
	if !strings.Contains(string(seed.body), `"code":1`) {
		t.Errorf("image-seed: %s", seed.body)
	}
	if g.Count(RouteMJFetch) != 2 || g.Count(RouteMJSeed) != 1 || g.Count(RouteMJList) != 1 {
		t.Errorf("counts fetch %d seed %d list %d; want 2, 1, 1", g.Count(RouteMJFetch), g.Count(RouteMJSeed), g.Count(RouteMJList))
	}
}

func TestVideoRoutesStrict(t *testing.T) {
	g := New(t, WithTaskDuration(150*time.Millisecond))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("prompt", "a boat")
	_ = mw.WriteField("model", "sora-2")
	_ = mw.WriteField("colour", "blue")
	_ = mw.Close()
	for _, tc := range []struct {
		name, body, ct string
		status         int
		want           string
	}{
		{"text body", "prompt=x", "text/plain", 400, "multipart/form-data or application/json"},
		{"unknown multipart field", form.String(), mw.FormDataContentType(), 400, "colour"},
		{"unknown JSON field", `{"prompt":"x","duration":5}`, "application/json", 400, "duration"},
		{"missing prompt", `{"model":"sora-2"}`, "application/json", 400, "prompt"},
		{"bad seconds", `{"prompt":"x","seconds":"forever"}`, "application/json", 400, "seconds"},
		{"chat model", `{"prompt":"x","model":"gpt-4o-mini"}`, "application/json", 400, "does not support the video API"},
		{"unknown model", `{"prompt":"x","model":"sora-9"}`, "application/json", 503, "model_not_found"},
		{"JSON accepted", `{"prompt":"x","model":"veo3","seconds":"8","size":"1280x720"}`, "application/json", 200, `"status":"queued"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t.Context(), t, g, http.MethodPost, "/v1/videos", tc.body, map[string]string{"Content-Type": tc.ct})
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%d %s; want %d containing %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	if r := send(t.Context(), t, g, http.MethodGet, "/v1/videos/x", "", map[string]string{"Authorization": "Bearer sk-nope"}); r.status != 401 {
		t.Errorf("status without a valid key: %d; want 401", r.status)
	}
}

func TestVideoChatStreamTiming(t *testing.T) {
	g := New(t, WithTaskDuration(600*time.Millisecond))
	start := time.Now()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, g.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"sora_video2","stream":true,"messages":[{"role":"user","content":"画只猫"}]}`))
	req.Header.Set("Authorization", "Bearer "+Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ttfb := time.Since(start); ttfb < 180*time.Millisecond {
		t.Errorf("headers after %v; want nothing before the second chunk (a third of the task)", ttfb)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	text := ""
	var usage int
	for _, c := range dataChunks(t, sseEvents(t, body.Bytes())) {
		for _, ch := range c["choices"].([]any) {
			if s, ok := ch.(map[string]any)["delta"].(map[string]any)["content"].(string); ok {
				text += s
			}
		}
		if u, ok := c["usage"].(map[string]any); ok {
			usage = int(u["total_tokens"].(float64))
		}
	}
	for _, want := range []string{"> 排队中", "> 🏃 进度 37", "[下载视频](" + g.URL + "/fake/video/"} {
		if !strings.Contains(text, want) {
			t.Errorf("stream text %q lacks %q", text, want)
		}
	}
	if usage == 0 || !strings.HasSuffix(strings.TrimSpace(body.String()), "data: [DONE]") {
		t.Errorf("usage %d, end %q; want a usage chunk and [DONE]", usage, tail(body.Bytes()))
	}
	link := text[strings.Index(text, "(")+1 : strings.LastIndex(text, ")")]
	video, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer video.Body.Close()
	var mp4 bytes.Buffer
	_, _ = mp4.ReadFrom(video.Body)
	if video.StatusCode != 200 || video.Header.Get("Content-Type") != "video/mp4" || !bytes.Equal(mp4.Bytes()[4:8], []byte("ftyp")) {
		t.Errorf("video link: %d %s %q; want an mp4", video.StatusCode, video.Header.Get("Content-Type"), mp4.Bytes()[:8])
	}
}
