package tools

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Job kinds: the tool that started the job.
const (
	kindVideo     = "generate_video"
	kindMJImagine = "mj_imagine"
	kindMJBlend   = "mj_blend"
	kindMJAction  = "mj_action"
)

// defaultWait is how long a tool waits for its job unless the call says
// otherwise: an answer comes before the usual 60 s client timeout.
const defaultWait = 45 * time.Second

// waitMargin is added to WENWEN_MAX_WAIT for the deadline of waiting calls,
// so that the wait, not the deadline, ends them.
const waitMargin = 30 * time.Second

// openJobs opens the job store in WENWEN_JOBS_DIR, registers the handler of
// every job kind and resumes the jobs a previous run left unfinished.
func openJobs(d *Deps) (*jobs.Store, error) {
	s, err := jobs.Open(context.Background(), jobs.Options{
		Dir:        d.Config.JobsDir,
		MaxRunning: d.Config.MaxJobs,
		Logger:     d.Logger.With().Str("component", "jobs").Logger(),
		Describe:   func(_ string, err error) string { return jobErrorText(d.Config, err) },
	})
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: WENWEN_JOBS_DIR: %w", err)
	}
	mj := func(ctx context.Context, r *jobs.Run) (jobs.Result, error) { return runMidjourney(ctx, d, r) }
	s.Start(map[string]jobs.Handler{
		kindVideo:     func(ctx context.Context, r *jobs.Run) (jobs.Result, error) { return runVideo(ctx, d, r) },
		kindMJImagine: mj,
		kindMJBlend:   mj,
		kindMJAction:  mj,
	})
	return s, nil
}

// jobErrorText is the error a failed job keeps: describe's text without an
// action prefix (the job's kind says it), and the job deadline named.
func jobErrorText(cfg Config, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no result within WENWEN_JOB_TIMEOUT (%v): %v. The task may still finish on the gateway; start it again, or raise WENWEN_JOB_TIMEOUT", cfg.JobTimeout, err)
	}
	return strings.TrimPrefix(describe(context.Background(), "", err), ": ")
}

// fileOut is a file a job produced.
type fileOut struct {
	Path  string `json:"path,omitempty"`
	URL   string `json:"url,omitempty"`
	MIME  string `json:"mime,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
}

// buttonOut is a next action of a finished Midjourney job.
type buttonOut struct {
	Label    string `json:"label"`
	CustomID string `json:"custom_id"`
}

// jobResultOut is what a job produced so far.
type jobResultOut struct {
	Files   []fileOut   `json:"files,omitempty"`
	Buttons []buttonOut `json:"buttons,omitempty"`
	Seed    string      `json:"seed,omitempty"`
	TaskID  string      `json:"task_id,omitempty"`
}

// jobOutput is the one output of every tool that starts or follows a job.
type jobOutput struct {
	JobID     string        `json:"job_id"`
	Kind      string        `json:"kind"`
	Status    string        `json:"status" jsonschema:"enum=queued,enum=running,enum=succeeded,enum=failed"`
	Progress  float64       `json:"progress"` // percent
	Message   string        `json:"message,omitempty"`
	Result    *jobResultOut `json:"result,omitempty"`
	Usage     *usageOut     `json:"usage,omitempty"`
	Error     string        `json:"error,omitempty"`
	Reused    bool          `json:"reused,omitempty"` // an identical recent job, not paid again
	NextStep  string        `json:"next_step,omitempty"`
	CreatedAt string        `json:"created_at"`
	UpdatedAt string        `json:"updated_at"`
}

func toJobOutput(j jobs.Job, cfg Config) jobOutput {
	out := jobOutput{
		JobID: j.ID, Kind: j.Kind, Status: string(j.Status), Progress: j.Progress, Message: j.Message,
		Error: j.Error, CreatedAt: j.Created.UTC().Format(time.RFC3339), UpdatedAt: j.Updated.UTC().Format(time.RFC3339),
	}
	if j.Result.Note != "" {
		out.Message = j.Result.Note
	}
	res := &jobResultOut{Seed: j.Result.Seed, TaskID: j.TaskID}
	for _, f := range j.Result.Files {
		res.Files = append(res.Files, fileOut{Path: f.Path, URL: f.URL, MIME: f.MIME, Bytes: f.Bytes})
	}
	for _, b := range j.Result.Buttons {
		res.Buttons = append(res.Buttons, buttonOut{Label: b.Label, CustomID: b.CustomID})
	}
	if len(res.Files)+len(res.Buttons) > 0 || res.Seed != "" || res.TaskID != "" {
		out.Result = res
	}
	if j.Usage != nil {
		out.Usage = &usageOut{j.Usage.PromptTokens, j.Usage.CompletionTokens, j.Usage.TotalTokens}
	}
	out.NextStep = nextStep(j, cfg)
	return out
}

// nextStep tells the agent what to do with the job now.
func nextStep(j jobs.Job, cfg Config) string {
	switch j.Status {
	case jobs.Queued, jobs.Running:
		return fmt.Sprintf("The job goes on without you: call get_job with job_id %q (wait_seconds up to %d) to wait for its result; list_jobs shows every job.", j.ID, int(cfg.MaxWait.Seconds()))
	case jobs.Failed:
		return "Fix what the error says and call the tool again (new: true starts a fresh job)."
	}
	switch {
	case len(j.Result.Buttons) > 0:
		return fmt.Sprintf("Call mj_action with job_id %q and a button label (%s) for the next step; mj_seed gives the seed.", j.ID, buttonLabels(j.Result.Buttons))
	case len(j.Result.Files) > 0 && j.Result.Files[0].Path != "":
		return "The file is saved at result.files[0].path."
	}
	return ""
}

func buttonLabels(bs []jobs.Button) string {
	labels := make([]string, 0, len(bs))
	for _, b := range bs {
		if b.Label != "" {
			labels = append(labels, b.Label)
		}
	}
	return strings.Join(labels, ", ")
}

// jobText is the short text next to a job's structured output.
func jobText(o jobOutput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s job %s: %s", o.Kind, o.JobID, o.Status)
	switch o.Status {
	case "queued", "running":
		fmt.Fprintf(&b, " (%.0f%%", o.Progress)
		if o.Message != "" {
			b.WriteString(", " + o.Message)
		}
		b.WriteString(")")
	case "failed":
		b.WriteString(": " + o.Error)
	}
	if o.Reused {
		b.WriteString(" [an identical recent job, not paid again]")
	}
	if o.Result != nil {
		for _, f := range o.Result.Files {
			switch {
			case f.Path != "":
				fmt.Fprintf(&b, "\nsaved %s (%s, %d bytes)", f.Path, f.MIME, f.Bytes)
				if f.URL != "" && !strings.HasPrefix(f.URL, "data:") {
					b.WriteString(" from " + f.URL)
				}
			case f.URL != "":
				b.WriteString("\nurl " + f.URL)
			}
		}
		if o.Result.Seed != "" {
			b.WriteString("\nseed " + o.Result.Seed)
		}
	}
	if o.Usage != nil {
		fmt.Fprintf(&b, "\nusage: %d tokens", o.Usage.TotalTokens)
	}
	if o.NextStep != "" {
		b.WriteString("\n" + o.NextStep)
	}
	return b.String()
}

// waitFor is the wait a call asked for: default 45 s, at most WENWEN_MAX_WAIT.
func waitFor(cfg Config, seconds *int) time.Duration {
	if seconds == nil {
		return min(defaultWait, cfg.MaxWait)
	}
	return min(time.Duration(max(*seconds, 0))*time.Second, cfg.MaxWait)
}

// awaitJob waits for job j as the call asked, relaying its progress, and
// returns its output: succeeded, or still queued/running with a next step
// to follow it. A failed job is an error carrying the job's reason. When
// the call is cancelled the wait ends at once; the job goes on.
func awaitJob(ctx context.Context, d *Deps, call *Call, j jobs.Job, reused bool, seconds *int) (Result[jobOutput], error) {
	lastMsg := ""
	report := func(j jobs.Job) {
		msg := j.Message
		if j.Status == jobs.Queued {
			msg = "queued: waiting for a free job slot"
			if j.Message != "" && j.Message != "queued" {
				msg = "queued: " + j.Message
			}
		}
		// A new message is a milestone (a new status, a progress line from
		// the gateway, a status poll: none comes faster than every 200 ms
		// for long), so it is always sent; the rest is rate-limited.
		if msg != lastMsg {
			lastMsg = msg
			call.Progress.Final(j.Progress, 100, msg)
			return
		}
		lastMsg = msg
		call.Progress.Report(j.Progress, 100, msg)
	}
	j, err := d.Jobs.Wait(ctx, j.ID, waitFor(d.Config, seconds), report)
	if err != nil {
		return Result[jobOutput]{}, err
	}
	if j.Status == jobs.Failed {
		return Result[jobOutput]{}, userErrorf("job %s failed: %s", j.ID, j.Error)
	}
	out := toJobOutput(j, d.Config)
	out.Reused = reused
	if j.Status == jobs.Succeeded {
		call.Progress.Final(100, 100, "done")
	}
	return Result[jobOutput]{Value: out, Text: jobText(out)}, nil
}

// startJob submits a job (or finds the identical recent one) and waits for it.
func startJob(ctx context.Context, d *Deps, call *Call, spec jobs.Spec, seconds *int) (Result[jobOutput], error) {
	if !d.Client.HasKey() {
		return Result[jobOutput]{}, upstream.ErrNoAPIKey
	}
	j, reused, err := d.Jobs.Submit(spec)
	if err != nil {
		return Result[jobOutput]{}, err
	}
	return awaitJob(ctx, d, call, j, reused, seconds)
}

type getJobInput struct {
	JobID       string `json:"job_id" jsonschema_description:"A job_id or task id."`
	WaitSeconds *int   `json:"wait_seconds,omitempty" jsonschema:"minimum=0" jsonschema_description:"Default 45; 0 answers at once."`
}

func (in *getJobInput) validate() error {
	in.JobID = strings.TrimSpace(in.JobID)
	if in.JobID == "" {
		return userErrorf("give job_id (list_jobs shows the jobs)")
	}
	return nil
}

// findJob resolves a job id, or an upstream task id that a job follows.
func findJob(d *Deps, id string) (jobs.Job, error) {
	j, err := d.Jobs.Get(id)
	if err == nil {
		return j, nil
	}
	if j, ok := d.Jobs.ByTask(id); ok {
		return j, nil
	}
	return jobs.Job{}, userErrorf("unknown job_id %q: call list_jobs to see the jobs this server knows (finished jobs are kept for 30 days)", id)
}

func getJobTool(d *Deps) Tool {
	t := define("get_job",
		"Wait for or read a video/Midjourney job: status, progress, saved files, next step. Survives restarts. Free.",
		hints{readOnly: true, idempotent: true, openWorld: false},
		func(ctx context.Context, call *Call, in getJobInput) (Result[jobOutput], error) {
			j, err := findJob(d, in.JobID)
			if err != nil {
				return Result[jobOutput]{}, err
			}
			return awaitJob(ctx, d, call, j, false, in.WaitSeconds)
		})
	t.Toolset = "jobs"
	t.Timeout = d.Config.MaxWait + waitMargin
	return t
}

type listJobsInput struct {
	Status string `json:"status,omitempty" jsonschema:"enum=queued,enum=running,enum=succeeded,enum=failed"`
	Kind   string `json:"kind,omitempty" jsonschema:"enum=generate_video,enum=mj_imagine,enum=mj_blend,enum=mj_action"`
	Limit  int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100" jsonschema_description:"Default 20."`
}

func (in *listJobsInput) validate() error {
	switch in.Status {
	case "", "queued", "running", "succeeded", "failed":
	default:
		return userErrorf("status %q: use queued, running, succeeded or failed", in.Status)
	}
	switch in.Kind {
	case "", kindVideo, kindMJImagine, kindMJBlend, kindMJAction:
	default:
		return userErrorf("kind %q: use generate_video, mj_imagine, mj_blend or mj_action", in.Kind)
	}
	if in.Limit < 0 || in.Limit > 100 {
		return userErrorf("limit must be between 1 and 100")
	}
	if in.Limit == 0 {
		in.Limit = 20
	}
	return nil
}

type listJobsOutput struct {
	Jobs  []jobOutput `json:"jobs"`
	Count int         `json:"count"`
}

func listJobsTool(d *Deps) Tool {
	t := define("list_jobs",
		"List recent video/Midjourney jobs, newest first, with status and results. Free.",
		hints{readOnly: true, idempotent: true, openWorld: true},
		func(ctx context.Context, call *Call, in listJobsInput) (Result[listJobsOutput], error) {
			f := jobs.Filter{Status: jobs.Status(in.Status), Kind: in.Kind, Limit: in.Limit}
			list := d.Jobs.List(f)
			if refreshMidjourney(ctx, d, list) {
				list = d.Jobs.List(f)
			}
			out := listJobsOutput{Jobs: make([]jobOutput, 0, len(list)), Count: len(list)}
			var b strings.Builder
			fmt.Fprintf(&b, "%d jobs", len(list))
			for _, j := range list {
				o := toJobOutput(j, d.Config)
				out.Jobs = append(out.Jobs, o)
				fmt.Fprintf(&b, "\n%s %s %s %.0f%%", o.JobID, o.Kind, o.Status, o.Progress)
				if o.Error != "" {
					b.WriteString(": " + truncate(o.Error, 160))
				}
			}
			if len(list) == 0 {
				b.WriteString(" (jobs are started by generate_video and the mj_ tools)")
			}
			return Result[listJobsOutput]{Value: out, Text: b.String()}, nil
		})
	t.Toolset = "jobs"
	return t
}
