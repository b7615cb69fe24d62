package upstream

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// replayRecording answers every request with one recording, or with body when
// the name is not a recording.
func replayRecording(t *testing.T, status int, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, err := fakegateway.LoadRecording(body); err == nil {
			for k, v := range rec.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Status)
			_, _ = w.Write(rec.Body)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMJSubmitJudgedByCode(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string // a recording name or a literal body
		wantID   string
		wantKind Kind
		wantMsg  string
	}{
		{"recorded text/plain success", 200, "mj-submit-imagine-ok", "1730621826053455", 0, ""},
		{"numeric task id", 200, `{"code":1,"description":"提交成功","properties":{},"result":1320098173412546}`, "1320098173412546", 0, ""},
		{"code 21 already exists", 200, `{"code":21,"description":"任务已存在","result":"17"}`, "17", 0, ""},
		{"code 22 queued", 200, `{"code":22,"description":"排队中","result":"18","properties":{"numberOfQueues":3}}`, "18", 0, ""},
		{"banned word on HTTP 200", 200, `{"code":24,"description":"可能包含敏感词","properties":{"promptEn":"nsfw cat","bannedWord":"nsfw"},"result":null}`, "", KindRejected, `可能包含敏感词 (banned word: "nsfw")`},
		{"queue full", 200, `{"code":23,"description":"队列已满，请稍后尝试"}`, "", KindRejected, "queue full"},
		{"recorded user quota", 400, "mj-submit-imagine-user-quota-insufficient", "", KindUserQuota, "quota_not_enough"},
		{"recorded empty prompt", 400, "mj-submit-imagine-empty-prompt", "", KindBadRequest, "prompt_is_required"},
		{"recorded bad key", 401, "badkey-mj-imagine", "", KindBadKey, "Invalid token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := replayRecording(t, tc.status, "text/plain; charset=utf-8", tc.body)
			id, err := newClient(t, srv.URL).MJImagine(t.Context(), &MJImagineRequest{Prompt: "a cat"})
			if tc.wantID != "" {
				if err != nil || id != tc.wantID {
					t.Fatalf("MJImagine = %q, %v; want %q", id, err, tc.wantID)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("MJImagine error %v; want an *APIError", err)
			}
			if apiErr.Kind() != tc.wantKind || !strings.Contains(apiErr.Message, tc.wantMsg) {
				t.Errorf("error kind %v message %q; want kind %v and %q", apiErr.Kind(), apiErr.Message, tc.wantKind, tc.wantMsg)
			}
		})
	}
}

func TestMJTaskRecordedShapes(t *testing.T) {
	fresh := replayRecording(t, 0, "", "mj-task-fetch-immediately")
	task, err := newClient(t, fresh.URL).MJTask(t.Context(), "1730621826053455")
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != "" || task.Final() || task.Buttons != nil || task.Properties != nil || task.Percent() != 0 {
		t.Errorf("fresh task %+v; want status \"\", pending, null buttons and properties", task)
	}
	done := replayRecording(t, 0, "", "mj-task-fetch-success")
	task, err = newClient(t, done.URL).MJTask(t.Context(), "1730621826053455")
	if err != nil {
		t.Fatal(err)
	}
	if !task.Final() || !task.Succeeded() || task.Percent() != 100 || len(task.Buttons) != 1 || task.Buttons[0].Label != "U1" || !strings.HasSuffix(task.ImageURL, "/mj/image/1730621826053455") {
		t.Errorf("finished task %+v", task)
	}
	unknown := replayRecording(t, 0, "", "mj-task-fetch-unknown-id")
	_, err = newClient(t, unknown.URL).MJTask(t.Context(), "9999999999999999")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Message != "task_no_found" {
		t.Errorf("unknown task: %v; want a 400 *APIError task_no_found", err)
	}
	list := replayRecording(t, 0, "", "mj-task-list-by-condition")
	tasks, err := newClient(t, list.URL).MJTasks(t.Context(), []string{"1730621826053455", "9999999999999999"})
	if err != nil || len(tasks) != 1 || tasks[0].ID != "1730621826053455" {
		t.Errorf("MJTasks = %+v, %v; want the one known task", tasks, err)
	}
}

func TestMJStatusesAndProgress(t *testing.T) {
	for _, tc := range []struct {
		status, progress string
		final, ok        bool
		pct              float64
	}{
		{"", "0%", false, false, 0},
		{"NOT_START", "0%", false, false, 0},
		{"SUBMITTED", "", false, false, 0},
		{"MODAL", "10%", false, false, 10},
		{"IN_PROGRESS", "37%", false, false, 37},
		{"SUCCESS", "100%", true, true, 100},
		{"FAILURE", "junk", true, false, 0},
		{"CANCEL", "5%", true, false, 5},
	} {
		task := MJTask{Status: tc.status, Progress: tc.progress}
		if task.Final() != tc.final || task.Succeeded() != tc.ok || task.Percent() != tc.pct {
			t.Errorf("status %q progress %q: final %v ok %v pct %v; want %v %v %v", tc.status, tc.progress, task.Final(), task.Succeeded(), task.Percent(), tc.final, tc.ok, tc.pct)
		}
	}
}

func TestMJAgainstFake(t *testing.T) {
	g := fakegateway.New(t, fakegateway.WithTaskDuration(200*time.Millisecond))
	c := newClient(t, g.URL)
	id, err := c.MJImagine(t.Context(), &MJImagineRequest{Prompt: "a cat", Mode: "RELAX"})
	if err != nil {
		t.Fatal(err)
	}
	if ct := g.Last(fakegateway.RouteMJImagine).Header.Get("Authorization"); ct != "Bearer "+fakegateway.Key {
		t.Errorf("Authorization %q; want Bearer", ct)
	}
	first, err := c.MJTask(t.Context(), id)
	if err != nil || first.Status != "" || first.Buttons != nil {
		t.Fatalf("first fetch %+v, %v; want the fresh form", first, err)
	}
	var task *MJTask
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if task, err = c.MJTask(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if task.Final() {
			break
		}
	}
	if !task.Succeeded() || len(task.Buttons) != 9 || task.ImageURL != g.URL+"/mj/image/"+id {
		t.Fatalf("task %+v; want SUCCESS with 9 buttons and the gateway's image URL", task)
	}
	next, err := c.MJAction(t.Context(), &MJActionRequest{CustomID: task.Buttons[0].CustomID, TaskID: id})
	if err != nil || next == "" || next == id {
		t.Fatalf("MJAction = %q, %v", next, err)
	}
	_, err = c.MJAction(t.Context(), &MJActionRequest{CustomID: "MJ::JOB::upsample::9::nope", TaskID: id})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Kind() != KindRejected {
		t.Errorf("unknown customId: %v; want a rejection", err)
	}
	seed, err := c.MJImageSeed(t.Context(), id)
	if err != nil || seed == "" {
		t.Errorf("MJImageSeed = %q, %v", seed, err)
	}
	if _, err := c.MJImageSeed(t.Context(), next); err == nil {
		t.Error("seed of an unfinished task: no error")
	}
	blend, err := c.MJBlend(t.Context(), &MJBlendRequest{Base64Array: []string{"data:image/png;base64,nope"}})
	if err == nil {
		t.Errorf("blend of one broken image = %q; want a rejection", blend)
	}
	if n := g.Count(fakegateway.RouteMJBlend); n != 1 {
		t.Errorf("blend sent %d times; want once (never retried)", n)
	}
}
