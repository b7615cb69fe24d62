package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type echoArgs struct {
	Prompt string `json:"prompt"`
}

// gate is a handler that blocks until released or cancelled, and counts.
type gate struct {
	release chan struct{}
	started atomic.Int32
	active  atomic.Int32
	maxSeen atomic.Int32
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) handler(ctx context.Context, r *Run) (Result, error) {
	g.started.Add(1)
	n := g.active.Add(1)
	defer g.active.Add(-1)
	for {
		m := g.maxSeen.Load()
		if n <= m || g.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	r.Report(50, "halfway")
	var a echoArgs
	if err := r.Args(&a); err != nil {
		return Result{}, err
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	if strings.Contains(a.Prompt, "fail") {
		return Result{}, errors.New("the gateway said no")
	}
	return Result{Files: []File{{Path: "/tmp/" + a.Prompt, URL: "https://x/" + a.Prompt}}}, nil
}

func open(t *testing.T, dir string, opts Options, handlers map[string]Handler) *Store {
	t.Helper()
	opts.Dir = dir
	s, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start(handlers)
	return s
}

func waitDone(t *testing.T, s *Store, id string) Job {
	t.Helper()
	j, err := s.Wait(t.Context(), id, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !j.Status.Done() {
		t.Fatalf("job %s status %s after 5s; want done", id, j.Status)
	}
	return j
}

func TestSubmitRunAndPersist(t *testing.T) {
	dir := t.TempDir()
	g := newGate()
	close(g.release)
	s := open(t, dir, Options{}, map[string]Handler{"echo": g.handler})
	j, reused, err := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	if err != nil || reused {
		t.Fatalf("Submit: reused %v err %v; want a new job", reused, err)
	}
	if _, err := os.Stat(filepath.Join(dir, j.ID+".json")); err != nil {
		t.Errorf("job file after Submit: %v; want it on disk at once", err)
	}
	done := waitDone(t, s, j.ID)
	if done.Status != Succeeded || len(done.Result.Files) != 1 || done.Progress != 100 || done.Finished.IsZero() {
		t.Fatalf("finished job %+v; want succeeded with one file, progress 100, a finish time", done)
	}
	s.Close()

	s2 := open(t, dir, Options{}, map[string]Handler{"echo": g.handler})
	got, err := s2.Get(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Succeeded || got.Result.Files[0].URL != "https://x/cat" {
		t.Errorf("after reopen: %+v; want the finished result", got)
	}
	if g.started.Load() != 1 {
		t.Errorf("handler ran %d times; want 1 (a finished job is not run again)", g.started.Load())
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestDedupe(t *testing.T) {
	g := newGate()
	s := open(t, t.TempDir(), Options{Dedupe: time.Hour}, map[string]Handler{"echo": g.handler})
	a, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	b, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	if !reused || b.ID != a.ID {
		t.Errorf("identical submit while running: id %s reused %v; want %s reused", b.ID, reused, a.ID)
	}
	c, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}, New: true})
	if reused || c.ID == a.ID {
		t.Errorf("New: true gave %s reused %v; want a new job", c.ID, reused)
	}
	d, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"dog"}})
	if reused || d.ID == a.ID {
		t.Errorf("other arguments gave %s reused %v; want a new job", d.ID, reused)
	}
	close(g.release)
	waitDone(t, s, a.ID)
	waitDone(t, s, c.ID)
	e, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	if !reused || e.ID != c.ID {
		t.Errorf("identical submit after success: %s reused %v; want the newest identical job %s", e.ID, reused, c.ID)
	}

	f, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"fail"}})
	if j := waitDone(t, s, f.ID); j.Status != Failed || j.Error != "the gateway said no" {
		t.Fatalf("failing job: %+v; want failed with the handler's error", j)
	}
	h, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"fail"}})
	if reused || h.ID == f.ID {
		t.Errorf("identical submit after a failure: reused %v; want a new try", reused)
	}
}

func TestDedupeWindowEnds(t *testing.T) {
	g := newGate()
	close(g.release)
	s := open(t, t.TempDir(), Options{Dedupe: 50 * time.Millisecond}, map[string]Handler{"echo": g.handler})
	a, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	waitDone(t, s, a.ID)
	time.Sleep(80 * time.Millisecond)
	b, reused, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	if reused || b.ID == a.ID {
		t.Errorf("submit after the window: reused %v; want a new job", reused)
	}
}

func TestBoundedConcurrency(t *testing.T) {
	g := newGate()
	s := open(t, t.TempDir(), Options{MaxRunning: 2}, map[string]Handler{"echo": g.handler})
	var ids []string
	for i := range 6 {
		j, _, err := s.Submit(Spec{Kind: "echo", Args: echoArgs{strings.Repeat("x", i+1)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	deadline := time.Now().Add(2 * time.Second)
	for g.started.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	if n := g.started.Load(); n != 2 {
		t.Errorf("%d handlers started with MaxRunning 2; want 2", n)
	}
	if q := s.List(Filter{Status: Queued}); len(q) != 4 {
		t.Errorf("%d queued jobs; want 4", len(q))
	}
	close(g.release)
	for _, id := range ids {
		waitDone(t, s, id)
	}
	if m := g.maxSeen.Load(); m != 2 {
		t.Errorf("at most %d jobs ran at once; want 2", m)
	}
}

func TestWaitTimeoutAndCancel(t *testing.T) {
	g := newGate()
	s := open(t, t.TempDir(), Options{}, map[string]Handler{"echo": g.handler})
	j, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})

	var changes atomic.Int32
	start := time.Now()
	got, err := s.Wait(t.Context(), j.ID, 100*time.Millisecond, func(Job) { changes.Add(1) })
	if err != nil || got.Status.Done() {
		t.Fatalf("Wait with a short wait: %s, %v; want an unfinished job and no error", got.Status, err)
	}
	if el := time.Since(start); el < 90*time.Millisecond || el > time.Second {
		t.Errorf("Wait took %v; want about 100ms", el)
	}
	if changes.Load() == 0 {
		t.Error("onChange never called; want the current state at least")
	}

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	_, err = s.Wait(ctx, j.ID, time.Hour, nil)
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancelled Wait: %v after %v; want context.Canceled within a second", err, time.Since(start))
	}
	close(g.release)
	if done := waitDone(t, s, j.ID); done.Status != Succeeded {
		t.Errorf("job after the cancelled wait: %s; want succeeded (the job goes on)", done.Status)
	}
	if _, err := s.Wait(t.Context(), "job_nope", time.Second, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait on an unknown id: %v; want ErrNotFound", err)
	}
}

func TestRestartResumesOrInterrupts(t *testing.T) {
	dir := t.TempDir()
	g := newGate()
	var polls sync.Map // job id → task id seen on resume
	pollable := func(ctx context.Context, r *Run) (Result, error) {
		if id := r.Job().TaskID; id != "" {
			polls.Store(r.Job().ID, id)
			return Result{Seed: "resumed " + id}, nil
		}
		r.SetTask("task-42")
		<-ctx.Done()
		return Result{}, ctx.Err()
	}
	s := open(t, dir, Options{MaxRunning: 2}, map[string]Handler{"echo": g.handler, "poll": pollable})
	p, _, _ := s.Submit(Spec{Kind: "poll", Args: echoArgs{"p"}})
	e, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"stream"}})
	q, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"queued"}})
	deadline := time.Now().Add(2 * time.Second)
	for {
		pj, _ := s.Get(p.ID)
		ej, _ := s.Get(e.ID)
		if pj.TaskID != "" && ej.Status == Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not start: %+v %+v", pj, ej)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	for _, id := range []string{p.ID, e.ID, q.ID} {
		var j Job
		b, _ := os.ReadFile(filepath.Join(dir, id+".json"))
		if err := json.Unmarshal(b, &j); err != nil || j.Status.Done() {
			t.Errorf("job %s on disk after Close: %s, %v; want it unfinished (a shutdown is no failure)", id, j.Status, err)
		}
	}

	close(g.release)
	s2 := open(t, dir, Options{}, map[string]Handler{"echo": g.handler, "poll": pollable})
	if j := waitDone(t, s2, p.ID); j.Status != Succeeded || j.Result.Seed != "resumed task-42" {
		t.Errorf("pollable job after restart: %+v; want resumed from its task id", j)
	}
	if j := waitDone(t, s2, e.ID); j.Status != Failed || j.Error != InterruptedMessage {
		t.Errorf("running job without a task id after restart: %s %q; want failed with InterruptedMessage", j.Status, j.Error)
	}
	if j := waitDone(t, s2, q.ID); j.Status != Succeeded {
		t.Errorf("queued job after restart: %s; want it run", j.Status)
	}
}

func TestPanicFailsJob(t *testing.T) {
	s := open(t, t.TempDir(), Options{}, map[string]Handler{"boom": func(context.Context, *Run) (Result, error) { panic("kaboom") }})
	j, _, _ := s.Submit(Spec{Kind: "boom", Args: 1})
	if got := waitDone(t, s, j.ID); got.Status != Failed || !strings.Contains(got.Error, "kaboom") {
		t.Errorf("panicking job: %s %q; want failed naming the panic", got.Status, got.Error)
	}
}

func TestLoadSkipsJunkAndExpired(t *testing.T) {
	dir := t.TempDir()
	old := Job{ID: "job_old", Kind: "echo", Status: Succeeded, Created: time.Now().Add(-48 * time.Hour), Finished: time.Now().Add(-47 * time.Hour)}
	b, _ := json.Marshal(old)
	files := map[string]string{
		"job_old.json":      string(b),
		"job_bad.json":      "{not json",
		"job_x.json.1.tmp":  "half a write",
		"job_mismatch.json": `{"id":"job_other","status":"queued"}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t, dir, Options{Retention: time.Hour}, nil)
	if n := len(s.List(Filter{})); n != 0 {
		t.Errorf("%d jobs loaded; want 0", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "job_old.json")); !os.IsNotExist(err) {
		t.Errorf("expired job file: %v; want it deleted", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "job_x.json.1.tmp")); !os.IsNotExist(err) {
		t.Errorf("temporary file: %v; want it deleted", err)
	}
}

func TestListFilterAndOrder(t *testing.T) {
	g := newGate()
	close(g.release)
	s := open(t, t.TempDir(), Options{}, map[string]Handler{"a": g.handler, "b": g.handler})
	var last string
	for i, k := range []string{"a", "b", "a"} {
		j, _, _ := s.Submit(Spec{Kind: k, Args: echoArgs{strings.Repeat("y", i+1)}})
		waitDone(t, s, j.ID)
		last = j.ID
		time.Sleep(2 * time.Millisecond)
	}
	all := s.List(Filter{})
	if len(all) != 3 || all[0].ID != last {
		t.Errorf("List: %d jobs, first %s; want 3, newest (%s) first", len(all), all[0].ID, last)
	}
	if got := s.List(Filter{Kind: "a", Limit: 1}); len(got) != 1 || got[0].Kind != "a" {
		t.Errorf("List kind a limit 1: %+v", got)
	}
	if got := s.List(Filter{Status: Failed}); len(got) != 0 {
		t.Errorf("List failed: %d; want 0", len(got))
	}
}

func TestSubmitBeforeStartAndAfterClose(t *testing.T) {
	s, err := Open(t.Context(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Submit(Spec{Kind: "x"}); !errors.Is(err, ErrNotReady) {
		t.Errorf("Submit before Start: %v; want ErrNotReady", err)
	}
	s.Start(map[string]Handler{"x": func(context.Context, *Run) (Result, error) { return Result{}, nil }})
	if _, _, err := s.Submit(Spec{Kind: "y"}); err == nil {
		t.Error("Submit of an unknown kind: no error")
	}
	s.Close()
	if _, _, err := s.Submit(Spec{Kind: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close: %v; want ErrClosed", err)
	}
}

func TestDirCreatedByFirstJob(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", ".jobs")
	g := newGate()
	close(g.release)
	s := open(t, dir, Options{}, map[string]Handler{"echo": g.handler})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("job dir before any job: %v; want it absent (a server without jobs leaves no trace)", err)
	}
	j, _, err := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, s, j.ID)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("job dir after the first job: %v %v; want it created, private", fi, err)
	}
}

func TestObserveAndAmend(t *testing.T) {
	dir := t.TempDir()
	g := newGate()
	s := open(t, dir, Options{}, map[string]Handler{"echo": g.handler})
	j, _, _ := s.Submit(Spec{Kind: "echo", Args: echoArgs{"cat"}})
	s.Observe(j.ID, 42, "seen from outside")
	if got, _ := s.Get(j.ID); got.Progress != 42 || got.Message != "seen from outside" {
		t.Errorf("after Observe: %v %q", got.Progress, got.Message)
	}
	close(g.release)
	waitDone(t, s, j.ID)
	s.Observe(j.ID, 1, "late")
	if got, _ := s.Get(j.ID); got.Progress != 100 || got.Message == "late" {
		t.Errorf("Observe changed a finished job: %v %q", got.Progress, got.Message)
	}
	if err := s.Amend(j.ID, func(j *Job) { j.Result.Seed = "123" }); err != nil {
		t.Fatal(err)
	}
	if err := s.Amend("job_nope", func(*Job) {}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Amend of an unknown job: %v; want ErrNotFound", err)
	}
	var onDisk Job
	b, _ := os.ReadFile(filepath.Join(dir, j.ID+".json"))
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Result.Seed != "123" {
		t.Errorf("amended job on disk: seed %q, %v; want 123", onDisk.Result.Seed, err)
	}
}
