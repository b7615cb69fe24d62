package tools

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// jobEnv is a test server whose fake gateway takes d for every Midjourney
// task and video.
func jobEnv(t testing.TB, d time.Duration, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnv(t, append([]envOption{withGateway(fakegateway.WithTaskDuration(d))}, opts...)...)
}

// callJob calls a job tool and decodes its output; it fails on isError.
func callJob(t *testing.T, e *testEnv, name string, args map[string]any) jobOutput {
	t.Helper()
	res := e.call(t, name, args)
	var out jobOutput
	decode(t, res, &out)
	return out
}

// callErr calls a tool that must fail and returns its error text.
func callErr(t *testing.T, e *testEnv, name string, args map[string]any) string {
	t.Helper()
	res := e.call(t, name, args)
	if !res.IsError {
		t.Fatalf("%s: got success %s; want isError", name, textOf(res))
	}
	return textOf(res)
}

// restartServer stops e's server as a kill would leave it (jobs stay on
// disk as last saved) and starts a new one on the same configuration and
// gateway.
func restartServer(t *testing.T, e *testEnv) *testEnv {
	t.Helper()
	e.Deps.Close()
	e.Client.Close()
	deps, err := NewDeps(e.Deps.Config, zerolog.New(e.Logs), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deps.Close() })
	tools := All(deps)
	srv := NewServer(deps, "test", tools)
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "wenwen-mcp-test", Version: "1"}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatal(err)
	}
	return &testEnv{G: e.G, Deps: deps, Srv: srv, Client: c, Logs: e.Logs, Tools: tools}
}

// waitTask waits until the job has an upstream task id (it was submitted).
func waitTask(t *testing.T, e *testEnv, id string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		j, err := e.Deps.Jobs.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.TaskID != "" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s has no task id after 5s: %+v", id, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGetJobUnknownID(t *testing.T) {
	e := jobEnv(t, 100*time.Millisecond)
	msg := callErr(t, e, "get_job", map[string]any{"job_id": "job_nope"})
	if !strings.Contains(msg, "list_jobs") || !strings.Contains(msg, "job_nope") {
		t.Errorf("unknown job id: %q; want it named and list_jobs pointed to", msg)
	}
}

func TestGetJobByTaskID(t *testing.T) {
	e := jobEnv(t, 200*time.Millisecond)
	out := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a red fox"})
	if out.Status != "succeeded" || out.Result == nil || out.Result.TaskID == "" {
		t.Fatalf("mj_imagine: %+v", out)
	}
	got := callJob(t, e, "get_job", map[string]any{"job_id": out.Result.TaskID})
	if got.JobID != out.JobID {
		t.Errorf("get_job with the task id gave job %s; want %s", got.JobID, out.JobID)
	}
}

func TestRestartKeepsAndResumesJobs(t *testing.T) {
	e := jobEnv(t, 300*time.Millisecond)
	done := callJob(t, e, "generate_video", map[string]any{"prompt": "a finished video"})
	if done.Status != "succeeded" {
		t.Fatalf("first video: %+v", done)
	}
	e.G.SetTaskDuration(3 * time.Second)
	mj := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a slow cat", "wait_seconds": 0})
	async := callJob(t, e, "generate_video", map[string]any{"prompt": "a slow async video", "model": "sora-2", "wait_seconds": 0})
	stream := callJob(t, e, "generate_video", map[string]any{"prompt": "a slow chat video", "wait_seconds": 0})
	waitTask(t, e, mj.JobID)
	waitTask(t, e, async.JobID)
	for e.G.Count(fakegateway.RouteChatCompletions) < 2 {
		time.Sleep(10 * time.Millisecond)
	}

	e2 := restartServer(t, e)
	got := callJob(t, e2, "get_job", map[string]any{"job_id": done.JobID})
	if got.Status != "succeeded" || got.Result == nil || len(got.Result.Files) != 1 || got.Result.Files[0].Path != done.Result.Files[0].Path {
		t.Errorf("finished job after restart: %+v; want its saved result", got)
	}
	for _, id := range []string{mj.JobID, async.JobID} {
		got := callJob(t, e2, "get_job", map[string]any{"job_id": id, "wait_seconds": 20})
		if got.Status != "succeeded" || got.Result == nil || len(got.Result.Files) != 1 || got.Result.Files[0].Path == "" {
			t.Errorf("job %s (%s) after restart: %+v; want resumed and finished with a saved file", id, got.Kind, got)
		}
	}
	msg := callErr(t, e2, "get_job", map[string]any{"job_id": stream.JobID})
	if !strings.Contains(msg, "server stopped") || !strings.Contains(msg, "new: true") {
		t.Errorf("interrupted chat-stream video: %q; want the interruption explained", msg)
	}
	if n := e.G.Count(fakegateway.RouteMJImagine); n != 1 {
		t.Errorf("imagine submitted %d times; want 1 (a resumed job polls, it does not pay again)", n)
	}
	if n := e.G.Count(fakegateway.RouteVideos); n != 1 {
		t.Errorf("async video submitted %d times; want 1", n)
	}
}

func TestListJobs(t *testing.T) {
	e := jobEnv(t, 200*time.Millisecond)
	callJob(t, e, "mj_imagine", map[string]any{"prompt": "a finished fox"})
	e.G.SetTaskDuration(5 * time.Second)
	running := callJob(t, e, "mj_imagine", map[string]any{"prompt": "a running fox", "wait_seconds": 0})
	callJob(t, e, "generate_video", map[string]any{"prompt": "a dog", "wait_seconds": 0})
	waitTask(t, e, running.JobID)

	var all listJobsOutput
	decode(t, e.call(t, "list_jobs", nil), &all)
	if all.Count != 3 || len(all.Jobs) != 3 || all.Jobs[0].Kind != kindVideo {
		t.Errorf("list_jobs: %d jobs, first %+v; want 3, newest (the video) first", all.Count, all.Jobs)
	}
	if n := e.G.Count(fakegateway.RouteMJList); n != 1 {
		t.Errorf("list-by-condition called %d times; want 1 batch query for the running Midjourney job", n)
	}
	var mj listJobsOutput
	decode(t, e.call(t, "list_jobs", map[string]any{"kind": "mj_imagine", "status": "succeeded"}), &mj)
	if mj.Count != 1 || mj.Jobs[0].Status != "succeeded" || mj.Jobs[0].Result == nil || len(mj.Jobs[0].Result.Buttons) == 0 {
		t.Errorf("list_jobs kind+status: %+v; want the finished imagine job with its buttons", mj.Jobs)
	}
	var one listJobsOutput
	decode(t, e.call(t, "list_jobs", map[string]any{"limit": 1}), &one)
	if one.Count != 1 {
		t.Errorf("list_jobs limit 1: %d jobs", one.Count)
	}
	if msg := callErr(t, e, "list_jobs", map[string]any{"status": "done"}); !strings.Contains(msg, "succeeded") {
		t.Errorf("bad status: %q; want the valid ones listed", msg)
	}
}

func TestWaitSecondsCappedByMaxWait(t *testing.T) {
	cfg := Config{MaxWait: 10 * time.Second}
	for _, tc := range []struct {
		in   *int
		want time.Duration
	}{
		{nil, 10 * time.Second},
		{ptr(3), 3 * time.Second},
		{ptr(0), 0},
		{ptr(99), 10 * time.Second},
	} {
		if got := waitFor(cfg, tc.in); got != tc.want {
			t.Errorf("waitFor(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
	if got := waitFor(Config{MaxWait: time.Hour}, nil); got != defaultWait {
		t.Errorf("default wait = %v; want %v", got, defaultWait)
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkThousandJobs holds 1,000 video jobs waiting on a fake gateway
// that stays silent (as new-api does for minutes while a video is made) and
// reports the memory they use: "queued" with the default 8 job slots (the
// rest wait in the queue), "running" with 1,000 slots (each job holds an
// open request). The figure includes the fake's side of each connection.
func BenchmarkThousandJobs(b *testing.B) {
	for _, slots := range []int{8, 1000} {
		name := "queued"
		if slots > 8 {
			name = "running"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				benchThousandJobs(b, slots)
			}
		})
	}
}

func benchThousandJobs(b *testing.B, slots int) {
	const n = 1000
	e := jobEnv(b, time.Hour, withEnv("WENWEN_MAX_JOBS", fmt.Sprint(slots)), withEnv("WENWEN_LOG_LEVEL", "warn"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		_, _, err := e.Deps.Jobs.Submit(jobs.Spec{Kind: kindVideo, Args: videoArgs{Prompt: fmt.Sprintf("video %d", i), Model: "sora_video2", API: videoAPIChat}})
		if err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.G.Count(fakegateway.RouteChatCompletions) < min(n, slots) {
		if time.Now().After(deadline) {
			b.Fatalf("%d requests reached the gateway; want %d", e.G.Count(fakegateway.RouteChatCompletions), min(n, slots))
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := float64(after.HeapAlloc+after.StackInuse) - float64(before.HeapAlloc+before.StackInuse)
	b.ReportMetric(used/n, "B/job")
	b.ReportMetric((float64(after.StackInuse)-float64(before.StackInuse))/n, "stackB/job")
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
	if got := len(e.Deps.Jobs.List(jobs.Filter{})); got != n {
		b.Fatalf("%d jobs; want %d", got, n)
	}
	e.Deps.Close()
}
