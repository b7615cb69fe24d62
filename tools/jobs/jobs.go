// Package jobs keeps wenwen-mcp's long generations (videos, Midjourney
// tasks) so that none is ever lost. A job runs detached from the tool call
// that started it, on a context that ends only when the server shuts down;
// callers wait for it as long as they like and come back later. Every change
// is written to disk (one JSON file per job, replaced atomically), so jobs
// survive a restart: finished ones keep their result, and running ones whose
// upstream task can be polled (a Midjourney task id, an async video id)
// resume. At most MaxRunning jobs run at once; the others wait in a queue
// that costs only their record.
//
// The package knows nothing of MCP or of the gateway: each job kind brings
// its Handler.
package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Status is where a job stands.
type Status string

// Job statuses: queued (waiting for a free slot), running, and the two final
// ones.
const (
	Queued    Status = "queued"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Done reports whether s is final.
func (s Status) Done() bool { return s == Succeeded || s == Failed }

// File is a file a job produced: where it was saved and where it came from.
type File struct {
	Path   string `json:"path,omitempty"` // local path; "" when saving is off or failed
	URL    string `json:"url,omitempty"`  // the gateway's link to it
	MIME   string `json:"mime,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// Button is a next action offered by a finished Midjourney task.
type Button struct {
	Label    string `json:"label,omitempty"`
	Emoji    string `json:"emoji,omitempty"`
	CustomID string `json:"custom_id"`
}

// Result is what a finished job produced.
type Result struct {
	Files   []File   `json:"files,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	Seed    string   `json:"seed,omitempty"`
	Text    string   `json:"text,omitempty"` // the model's own words, when useful
	Note    string   `json:"note,omitempty"` // what the user should know, e.g. that saving failed
}

// Usage is the token count the gateway reported (chat-based video).
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Job is one long generation. Values returned by the Store are snapshots:
// changing them changes nothing.
type Job struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Status      Status          `json:"status"`
	Progress    float64         `json:"progress"` // percent, 0 to 100
	Message     string          `json:"message,omitempty"`
	Result      Result          `json:"result"`
	Usage       *Usage          `json:"usage,omitempty"`
	Error       string          `json:"error,omitempty"`
	TaskID      string          `json:"task_id,omitempty"` // upstream id that can be polled after a restart
	Fingerprint string          `json:"fingerprint"`       // kind and arguments, for deduplication
	Args        json.RawMessage `json:"args,omitempty"`    // what the handler needs to run or resume
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Finished    time.Time       `json:"finished,omitzero"`
}

func (j Job) clone() Job {
	j.Result.Files = slices.Clone(j.Result.Files)
	j.Result.Buttons = slices.Clone(j.Result.Buttons)
	if j.Usage != nil {
		u := *j.Usage
		j.Usage = &u
	}
	return j
}

// Handler does the work of one job kind. It is called when the job gets a
// slot, also after a restart (then Run.Job().TaskID may already be set: poll
// that task instead of submitting again). It returns the result, or an error
// that fails the job; when the store is closing, the error is not recorded
// and the job stays as it was on disk.
type Handler func(ctx context.Context, r *Run) (Result, error)

// Options configure a Store.
type Options struct {
	Dir        string        // where job files live; created with the first job
	MaxRunning int           // jobs running at once; default 8
	Dedupe     time.Duration // how long a finished job answers identical calls; default 10 min
	Retention  time.Duration // finished jobs older than this are deleted at Open; default 30 days
	SaveEvery  time.Duration // least time between two writes of a progress-only change; default 1 s
	Logger     zerolog.Logger
	// Describe turns a handler's error into the job's error text; default
	// err.Error(). It must not reveal secrets.
	Describe func(kind string, err error) string
}

// Errors of the Store.
var (
	ErrNotFound = errors.New("no such job")
	ErrClosed   = errors.New("the job store is closed")
	ErrNotReady = errors.New("the job store is not started")
)

// InterruptedMessage is the error of a job that was running when the server
// stopped and had no upstream task id to resume from.
const InterruptedMessage = "the server stopped while this job was running, before the gateway gave an id that can be followed (a chat-stream video, or a submission in flight); its result is lost. Start it again with new: true"

// Store holds every job. Its methods are safe for concurrent use.
type Store struct {
	opts   Options
	ctx    context.Context // every job runs on it; cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed by Close: waits end
	once   sync.Once
	wg     sync.WaitGroup

	mu       sync.Mutex
	jobs     map[string]*entry
	byFP     map[string]string // fingerprint → newest job id
	queue    []*entry
	running  int
	handlers map[string]Handler
	started  bool
	closed   bool
}

// entry is a job and its live state. Only the job is persisted.
type entry struct {
	job      Job
	changed  chan struct{} // closed and replaced on every change
	prepared any           // handed to the handler on its first run only
	saved    time.Time
	saveMu   sync.Mutex // orders this job's writes
}

// Open loads the jobs in opts.Dir and returns a store whose jobs run on a
// context derived from ctx. Nothing runs before Start. Close it when done.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("job store: no directory")
	}
	if opts.MaxRunning <= 0 {
		opts.MaxRunning = 8
	}
	if opts.Dedupe <= 0 {
		opts.Dedupe = 10 * time.Minute
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = time.Second
	}
	if opts.Describe == nil {
		opts.Describe = func(_ string, err error) string { return err.Error() }
	}
	s := &Store{
		opts:     opts,
		done:     make(chan struct{}),
		jobs:     make(map[string]*entry),
		byFP:     make(map[string]string),
		handlers: make(map[string]Handler),
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.load(); err != nil {
		s.cancel()
		return nil, err
	}
	context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// Dir is the directory the jobs are kept in.
func (s *Store) Dir() string { return s.opts.Dir }

// load reads every job file, deletes expired ones and leftovers of
// interrupted writes, and indexes the rest.
func (s *Store) load() error {
	des, err := os.ReadDir(s.opts.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // created by the first job, so that a server without jobs leaves no trace
	}
	if err != nil {
		return fmt.Errorf("job store: %w", err)
	}
	now := time.Now()
	for _, de := range des {
		name := de.Name()
		path := filepath.Join(s.opts.Dir, name)
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(path)
			continue
		}
		if de.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			s.opts.Logger.Warn().Err(err).Str("file", path).Msg("job file unreadable; skipped")
			continue
		}
		var j Job
		if err := json.Unmarshal(b, &j); err != nil || j.ID == "" || j.ID+".json" != name {
			s.opts.Logger.Warn().AnErr("err", err).Str("file", path).Msg("job file malformed; skipped")
			continue
		}
		if j.Status.Done() && now.Sub(j.Finished) > s.opts.Retention {
			_ = os.Remove(path)
			continue
		}
		e := &entry{job: j, changed: make(chan struct{}), saved: now}
		s.jobs[j.ID] = e
		if old, ok := s.jobs[s.byFP[j.Fingerprint]]; !ok || old.job.Created.Before(j.Created) {
			s.byFP[j.Fingerprint] = j.ID
		}
	}
	return nil
}

// Start registers the handler of every job kind and resumes the jobs that
// were unfinished when the server stopped: those with an upstream task id
// are polled again, those still queued start, and those that were running
// without a task id fail with InterruptedMessage.
func (s *Store) Start(handlers map[string]Handler) {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return
	}
	s.started = true
	for k, h := range handlers {
		s.handlers[k] = h
	}
	var resume, interrupted []*entry
	for _, e := range s.jobs {
		switch {
		case e.job.Status.Done():
		case s.handlers[e.job.Kind] == nil:
			interrupted = append(interrupted, e)
		case e.job.TaskID != "" || e.job.Status == Queued:
			resume = append(resume, e)
		default:
			interrupted = append(interrupted, e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(resume, func(a, b *entry) int { return a.job.Created.Compare(b.job.Created) })
	now := time.Now()
	for _, e := range interrupted {
		msg := InterruptedMessage
		if s.handlers[e.job.Kind] == nil {
			msg = fmt.Sprintf("this server no longer knows jobs of kind %q, so the job cannot be resumed", e.job.Kind)
		}
		s.update(e, true, func(j *Job) {
			j.Status, j.Error, j.Finished, j.Message = Failed, msg, now, "interrupted"
		})
	}
	for _, e := range resume {
		s.update(e, true, func(j *Job) {
			j.Status = Queued
			if j.TaskID != "" {
				j.Message = "resuming after a restart"
			}
		})
	}
	s.mu.Lock()
	s.queue = append(s.queue, resume...)
	s.dispatchLocked()
	s.mu.Unlock()
	if len(resume)+len(interrupted) > 0 {
		s.opts.Logger.Info().Int("resumed", len(resume)).Int("interrupted", len(interrupted)).Msg("jobs from the last run")
	}
}

// Spec describes a job to submit.
type Spec struct {
	Kind string
	// Args are what the handler needs to run the job, also after a restart;
	// they are persisted, and with Kind they make the fingerprint that
	// identifies identical calls. Leave out anything that must not change
	// the identity (how long to wait) or must not be written to disk.
	Args any
	// New starts a new job even when an identical one is running or
	// finished recently.
	New bool
	// Prepared is handed to the handler's first run (loaded input images);
	// it is not persisted, so a handler must cope with its absence.
	Prepared any
}

// Fingerprint identifies identical calls: a hash of the kind and the
// arguments' JSON.
func Fingerprint(kind string, args json.RawMessage) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(args)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Submit starts a job, or returns an identical one (reused true) that is
// queued, running, or succeeded less than Options.Dedupe ago, unless
// spec.New is set. The job is on disk before Submit returns.
func (s *Store) Submit(spec Spec) (job Job, reused bool, err error) {
	args, err := json.Marshal(spec.Args)
	if err != nil {
		return Job{}, false, fmt.Errorf("job arguments: %w", err)
	}
	fp := Fingerprint(spec.Kind, args)
	now := time.Now()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return Job{}, false, ErrClosed
	case !s.started:
		s.mu.Unlock()
		return Job{}, false, ErrNotReady
	case s.handlers[spec.Kind] == nil:
		s.mu.Unlock()
		return Job{}, false, fmt.Errorf("no handler for jobs of kind %q", spec.Kind)
	}
	if !spec.New {
		if e, ok := s.jobs[s.byFP[fp]]; ok && s.reusable(e.job, now) {
			j := e.job.clone()
			s.mu.Unlock()
			return j, true, nil
		}
	}
	id := s.newIDLocked(now)
	e := &entry{
		job: Job{
			ID: id, Kind: spec.Kind, Status: Queued, Message: "queued",
			Fingerprint: fp, Args: args, Created: now, Updated: now,
		},
		changed:  make(chan struct{}),
		prepared: spec.Prepared,
		saved:    now,
	}
	s.jobs[id] = e
	prevFP, hadFP := s.byFP[fp]
	s.byFP[fp] = id
	s.mu.Unlock()

	if err := s.save(e, true); err != nil {
		s.mu.Lock()
		delete(s.jobs, id)
		if hadFP {
			s.byFP[fp] = prevFP
		} else {
			delete(s.byFP, fp)
		}
		s.mu.Unlock()
		return Job{}, false, fmt.Errorf("record the job in %s: %w", s.opts.Dir, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return e.job.clone(), false, nil // kept on disk as queued: the next start runs it
	}
	s.queue = append(s.queue, e)
	s.dispatchLocked()
	j := e.job.clone()
	s.mu.Unlock()
	return j, false, nil
}

func (s *Store) reusable(j Job, now time.Time) bool {
	switch j.Status {
	case Queued, Running:
		return true
	case Succeeded:
		return now.Sub(j.Finished) < s.opts.Dedupe
	}
	return false
}

func (s *Store) newIDLocked(now time.Time) string {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	for {
		var b strings.Builder
		b.WriteString("job_")
		b.WriteString(now.UTC().Format("20060102T150405"))
		b.WriteByte('_')
		for range 6 {
			b.WriteByte(alnum[rand.IntN(len(alnum))])
		}
		if _, dup := s.jobs[b.String()]; !dup {
			return b.String()
		}
	}
}

// dispatchLocked starts queued jobs while slots are free.
func (s *Store) dispatchLocked() {
	for !s.closed && s.running < s.opts.MaxRunning && len(s.queue) > 0 {
		e := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil // let the backing array go
		}
		s.running++
		s.wg.Add(1)
		go s.run(e)
	}
}

// run executes one job in its slot.
func (s *Store) run(e *entry) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		s.running--
		s.dispatchLocked()
		s.mu.Unlock()
	}()
	s.mu.Lock()
	h := s.handlers[e.job.Kind]
	prepared := e.prepared
	e.prepared = nil
	s.mu.Unlock()
	s.update(e, true, func(j *Job) {
		j.Status = Running
		if j.Message == "queued" || j.Message == "" {
			j.Message = "started"
		}
	})
	r := &Run{s: s, e: e, prepared: prepared}
	res, err := s.call(h, r)
	if err != nil && s.ctx.Err() != nil {
		return // shutting down: the job stays as saved and is resumed or reported at the next start
	}
	now := time.Now()
	s.update(e, true, func(j *Job) {
		j.Finished = now
		if err != nil {
			j.Status, j.Error = Failed, s.opts.Describe(j.Kind, err)
			j.Message = "failed"
			return
		}
		j.Status, j.Result, j.Progress = Succeeded, res, 100
		j.Message = "done"
	})
}

// call runs the handler, turning a panic into an error.
func (s *Store) call(h Handler, r *Run) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.opts.Logger.Error().Str("job", r.e.job.ID).Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("job handler panicked")
			err = fmt.Errorf("internal error (the server logged it on stderr): %v", p)
		}
	}()
	return h(s.ctx, r)
}

// update applies f to e's job, wakes the waiters and writes the job to disk
// when force is set or the last write is older than SaveEvery.
func (s *Store) update(e *entry, force bool, f func(*Job)) {
	now := time.Now()
	s.mu.Lock()
	f(&e.job)
	e.job.Updated = now
	close(e.changed)
	e.changed = make(chan struct{})
	write := force || now.Sub(e.saved) >= s.opts.SaveEvery
	if write {
		e.saved = now
	}
	s.mu.Unlock()
	if write {
		if err := s.save(e, force); err != nil {
			s.opts.Logger.Error().Err(err).Str("job", e.job.ID).Msg("could not save the job")
		}
	}
}

// save writes e's current state atomically: a temporary file in the same
// directory, renamed over the old one. sync forces it to stable storage.
func (s *Store) save(e *entry, sync bool) error {
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	s.mu.Lock()
	b, err := json.MarshalIndent(e.job, "", "  ")
	id := e.job.ID
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.opts.Dir, id+".json"), b, sync)
}

func writeFileAtomic(path string, b []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			f, err = os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// Get returns a snapshot of job id.
func (s *Store) Get(id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.jobs[id]
	if !ok {
		return Job{}, ErrNotFound
	}
	return e.job.clone(), nil
}

// ByTask returns the newest job whose upstream task id is taskID.
func (s *Store) ByTask(taskID string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *entry
	for _, e := range s.jobs {
		if e.job.TaskID == taskID && taskID != "" && (best == nil || best.job.Created.Before(e.job.Created)) {
			best = e
		}
	}
	if best == nil {
		return Job{}, false
	}
	return best.job.clone(), true
}

// Filter selects jobs for List; zero fields select everything.
type Filter struct {
	Status Status
	Kind   string
	Limit  int // 0: no limit
}

// List returns the jobs that match f, newest first.
func (s *Store) List(f Filter) []Job {
	s.mu.Lock()
	out := make([]Job, 0, min(len(s.jobs), max(f.Limit, 16)))
	for _, e := range s.jobs {
		if (f.Status == "" || e.job.Status == f.Status) && (f.Kind == "" || e.job.Kind == f.Kind) {
			out = append(out, e.job.clone())
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Job) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// Wait returns job id when it is finished, when d has passed, or when ctx
// ends (then with ctx's error); the job itself goes on in every case.
// onChange (may be nil) sees every state of the unfinished job, the current
// one first. Wait also returns when the store closes.
func (s *Store) Wait(ctx context.Context, id string, d time.Duration, onChange func(Job)) (Job, error) {
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	for {
		s.mu.Lock()
		e, ok := s.jobs[id]
		if !ok {
			s.mu.Unlock()
			return Job{}, ErrNotFound
		}
		j, changed := e.job.clone(), e.changed
		s.mu.Unlock()
		if j.Status.Done() {
			return j, nil
		}
		if onChange != nil {
			onChange(j)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return j, ctx.Err()
		case <-timer.C:
			return j, nil
		case <-s.done:
			return j, nil
		}
	}
}

// Observe records progress seen from outside the job's handler (a batch
// refresh of many tasks). It changes only unfinished jobs.
func (s *Store) Observe(id string, progress float64, message string) {
	s.mu.Lock()
	e, ok := s.jobs[id]
	same := ok && e.job.Progress == progress && e.job.Message == message
	s.mu.Unlock()
	if !ok || same {
		return
	}
	s.update(e, false, func(j *Job) {
		if !j.Status.Done() {
			j.Progress, j.Message = progress, message
		}
	})
}

// Amend changes a job with f and saves it (e.g. to add a seed fetched later).
func (s *Store) Amend(id string, f func(*Job)) error {
	s.mu.Lock()
	e, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		return ErrNotFound
	}
	s.update(e, true, f)
	return nil
}

// Close stops the store: running handlers see their context cancelled and
// are waited for, waits return, and unfinished jobs stay on disk for the
// next start. It is safe to call more than once.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// Run is a handler's view of its job.
type Run struct {
	s        *Store
	e        *entry
	prepared any
}

// Job returns a snapshot of the job.
func (r *Run) Job() Job {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.e.job.clone()
}

// Args decodes the job's arguments into v.
func (r *Run) Args(v any) error {
	r.s.mu.Lock()
	raw := r.e.job.Args
	r.s.mu.Unlock()
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("job arguments: %w", err)
	}
	return nil
}

// Prepared is what Spec.Prepared carried, on the job's first run only; nil
// after a restart.
func (r *Run) Prepared() any { return r.prepared }

// SetTask records the upstream task id at once, so that the job can be
// resumed after a restart.
func (r *Run) SetTask(id string) {
	r.s.update(r.e, true, func(j *Job) { j.TaskID = id })
}

// Report records progress (percent; a negative value keeps the last one)
// and a short message.
func (r *Run) Report(progress float64, message string) {
	r.s.mu.Lock()
	same := (progress < 0 || r.e.job.Progress == progress) && r.e.job.Message == message
	r.s.mu.Unlock()
	if same {
		return
	}
	r.s.update(r.e, false, func(j *Job) {
		if progress >= 0 {
			j.Progress = min(progress, 100)
		}
		j.Message = message
	})
}

// SetUsage records the tokens the gateway reported.
func (r *Run) SetUsage(u *Usage) {
	if u == nil {
		return
	}
	c := *u
	r.s.update(r.e, true, func(j *Job) { j.Usage = &c })
}
