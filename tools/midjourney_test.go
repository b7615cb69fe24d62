package tools

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestMidjourneyImagineActionSeed(t *testing.T) {
	e := jobEnv(t, 300*time.Millisecond)
	img := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a lighthouse at dusk --ar 16:9", "mode": "fast"})
	if img.Status != "succeeded" || img.Result == nil || len(img.Result.Files) != 1 || img.Result.TaskID == "" {
		t.Fatalf("mj_imagine: %+v", img)
	}
	f := img.Result.Files[0]
	if b, err := os.ReadFile(f.Path); err != nil || f.MIME != "image/png" || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("saved image %s (%s): %v; want a PNG", f.Path, f.MIME, err)
	}
	var labels []string
	for _, b := range img.Result.Buttons {
		labels = append(labels, b.Label)
	}
	if got := strings.Join(labels, ","); got != "U1,U2,U3,U4,reroll,V1,V2,V3,V4" {
		t.Errorf("buttons %s; want U1-U4, reroll, V1-V4", got)
	}
	if !strings.Contains(img.NextStep, "mj_action") {
		t.Errorf("next step %q; want mj_action named", img.NextStep)
	}
	var body map[string]any
	_ = json.Unmarshal(e.G.Last(fakegateway.RouteMJImagine).Body, &body)
	if body["prompt"] != "a lighthouse at dusk --ar 16:9" || body["mode"] != "FAST" {
		t.Errorf("imagine body %v; want the prompt and mode FAST", body)
	}

	up := callJob(t, e, "mj_action", map[string]any{"job_id": img.JobID, "button": "u1"})
	if up.Status != "succeeded" || up.Kind != kindMJAction || up.Result == nil || len(up.Result.Files) != 1 || up.Result.TaskID == img.Result.TaskID {
		t.Fatalf("mj_action U1: %+v", up)
	}
	var action map[string]any
	_ = json.Unmarshal(e.G.Last(fakegateway.RouteMJAction).Body, &action)
	if action["taskId"] != img.Result.TaskID || !strings.Contains(action["customId"].(string), "upsample::1::") {
		t.Errorf("action body %v; want the parent task and the U1 custom id", action)
	}
	if len(up.Result.Buttons) == 0 || up.Result.Buttons[0].Label != "Upscale (Subtle)" {
		t.Errorf("upscale buttons %+v; want the upscale result's own buttons", up.Result.Buttons)
	}

	var seed mjSeedOutput
	decode(t, e.call(t, "mj_seed", map[string]any{"job_id": up.JobID}), &seed)
	if seed.Seed == "" || seed.TaskID != up.Result.TaskID || seed.JobID != up.JobID {
		t.Errorf("mj_seed: %+v", seed)
	}
	var again mjSeedOutput
	decode(t, e.call(t, "mj_seed", map[string]any{"task_id": up.Result.TaskID}), &again)
	decode(t, e.call(t, "mj_seed", map[string]any{"job_id": up.JobID}), &again)
	if again.Seed != seed.Seed || e.G.Count(fakegateway.RouteMJSeed) != 2 {
		t.Errorf("seed again %q after %d gateway calls; want %q, and the job's stored seed used the second time", again.Seed, e.G.Count(fakegateway.RouteMJSeed), seed.Seed)
	}
	got := callJob(t, e, "get_job", map[string]any{"job_id": up.JobID})
	if got.Result.Seed != seed.Seed {
		t.Errorf("get_job after mj_seed: seed %q; want %q", got.Result.Seed, seed.Seed)
	}

	reroll := callJob(t, e, "mj_action", map[string]any{"task_id": img.Result.TaskID, "button": "🔄", "wait_seconds": 0})
	waitTask(t, e, reroll.JobID)
	_ = json.Unmarshal(e.G.Last(fakegateway.RouteMJAction).Body, &action)
	if !strings.Contains(action["customId"].(string), "reroll") || reroll.JobID == up.JobID {
		t.Errorf("reroll: custom id %v, job %s; want the reroll button in a new job", action["customId"], reroll.JobID)
	}
	same := callJob(t, e, "mj_action", map[string]any{"job_id": img.JobID, "button": "reroll", "wait_seconds": 0})
	if same.JobID != reroll.JobID || !same.Reused {
		t.Errorf("the same click again: job %s reused %v; want %s reused", same.JobID, same.Reused, reroll.JobID)
	}
}

func TestMidjourneyRefusals(t *testing.T) {
	e := jobEnv(t, 200*time.Millisecond)
	msg := callErr(t, e, "mj_imagine", map[string]any{"prompt": "a " + fakegateway.PromptBanned + " cat"})
	if !strings.Contains(msg, "可能包含敏感词") || !strings.Contains(msg, fakegateway.PromptBanned) {
		t.Errorf("banned prompt: %q; want the gateway's reason and the banned word", msg)
	}
	msg = callErr(t, e, "mj_imagine", map[string]any{"prompt": "a cat " + fakegateway.PromptFail})
	if !strings.Contains(msg, "FAILURE") || !strings.Contains(msg, "could not be generated") {
		t.Errorf("failed task: %q; want the status and the fail reason", msg)
	}
	msg = callErr(t, e, "mj_imagine", map[string]any{"prompt": "a cat " + fakegateway.ModelFaultQuotaUser})
	if !strings.Contains(msg, "quota_not_enough") || !strings.Contains(msg, "top up") {
		t.Errorf("quota: %q; want the gateway's code and what to do", msg)
	}
}

func TestMJActionErrors(t *testing.T) {
	e := jobEnv(t, 200*time.Millisecond)
	img := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a tree"})
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"job_id": img.JobID, "button": "U9"}, "U1, U2"},
		{map[string]any{"button": "U1"}, "give job_id"},
		{map[string]any{"job_id": img.JobID, "task_id": "1", "button": "U1"}, "not both"},
		{map[string]any{"job_id": "job_nope", "button": "U1"}, "list_jobs"},
		{map[string]any{"task_id": "9999999999999999", "button": "U1"}, "task_no_found"},
	} {
		if msg := callErr(t, e, "mj_action", tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("mj_action %v: %q; want it to mention %q", tc.args, msg, tc.want)
		}
	}
	e.G.SetTaskDuration(5 * time.Second)
	slow := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a slow tree", "wait_seconds": 0})
	if msg := callErr(t, e, "mj_action", map[string]any{"job_id": slow.JobID, "button": "U1"}); !strings.Contains(msg, "get_job") {
		t.Errorf("button of a running job: %q; want to wait with get_job", msg)
	}
	if n := e.G.Count(fakegateway.RouteMJAction); n != 0 {
		t.Errorf("%d action submissions for refused clicks; want none", n)
	}
}

func TestMJBlend(t *testing.T) {
	e := jobEnv(t, 200*time.Millisecond)
	a, b := writePNG(t, "a.png"), writePNG(t, "b.png")
	out := callJob(t, e, "mj_blend", map[string]any{"images": []string{a, b}, "dimensions": "landscape"})
	if out.Status != "succeeded" || out.Kind != kindMJBlend || len(out.Result.Files) != 1 || len(out.Result.Buttons) != 9 {
		t.Fatalf("mj_blend: %+v", out)
	}
	var body struct {
		Base64Array []string `json:"base64Array"`
		Dimensions  string   `json:"dimensions"`
	}
	_ = json.Unmarshal(e.G.Last(fakegateway.RouteMJBlend).Body, &body)
	if len(body.Base64Array) != 2 || !strings.HasPrefix(body.Base64Array[0], "data:image/png;base64,") || body.Dimensions != "LANDSCAPE" {
		t.Errorf("blend body: %d images (%.30q), dimensions %q; want 2 data URLs and LANDSCAPE", len(body.Base64Array), body.Base64Array, body.Dimensions)
	}
	if msg := callErr(t, e, "mj_blend", map[string]any{"images": []string{a}}); !strings.Contains(msg, "2 to 5") {
		t.Errorf("one image: %q; want 2 to 5 asked for", msg)
	}
}
