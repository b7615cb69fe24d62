package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

type mjImagineInput struct {
	Prompt      string   `json:"prompt" jsonschema_description:"May end with --ar 16:9 etc."`
	Mode        string   `json:"mode,omitempty" jsonschema:"enum=RELAX,enum=FAST"`
	Images      []string `json:"images,omitempty" jsonschema:"maxItems=5" jsonschema_description:"Reference images: paths or URLs."`
	WaitSeconds *int     `json:"wait_seconds,omitempty" jsonschema:"minimum=0" jsonschema_description:"Default 45."`
	New         bool     `json:"new,omitempty" jsonschema_description:"Start a new paid job, no reuse."`
}

func (in *mjImagineInput) validate() error {
	in.Prompt = strings.TrimSpace(in.Prompt)
	if in.Prompt == "" {
		return userErrorf("give prompt: what to draw")
	}
	if len(in.Images) > 5 {
		return userErrorf("give at most 5 reference images")
	}
	return checkMJCommon(&in.Mode, in.WaitSeconds)
}

type mjBlendInput struct {
	Images      []string `json:"images" jsonschema:"minItems=2,maxItems=5" jsonschema_description:"Paths, URLs or data: URLs."`
	Dimensions  string   `json:"dimensions,omitempty" jsonschema:"enum=PORTRAIT,enum=SQUARE,enum=LANDSCAPE"`
	Mode        string   `json:"mode,omitempty" jsonschema:"enum=RELAX,enum=FAST"`
	WaitSeconds *int     `json:"wait_seconds,omitempty" jsonschema:"minimum=0" jsonschema_description:"Default 45."`
	New         bool     `json:"new,omitempty" jsonschema_description:"Start a new paid job, no reuse."`
}

func (in *mjBlendInput) validate() error {
	if len(in.Images) < 2 || len(in.Images) > 5 {
		return userErrorf("give 2 to 5 images to blend (got %d)", len(in.Images))
	}
	in.Dimensions = strings.ToUpper(strings.TrimSpace(in.Dimensions))
	if in.Dimensions != "" && !slices.Contains([]string{"PORTRAIT", "SQUARE", "LANDSCAPE"}, in.Dimensions) {
		return userErrorf("dimensions %q: use PORTRAIT, SQUARE or LANDSCAPE", in.Dimensions)
	}
	return checkMJCommon(&in.Mode, in.WaitSeconds)
}

func checkMJCommon(mode *string, wait *int) error {
	*mode = strings.ToUpper(strings.TrimSpace(*mode))
	if *mode != "" && *mode != "RELAX" && *mode != "FAST" {
		return userErrorf("mode %q: use RELAX or FAST", *mode)
	}
	if wait != nil && *wait < 0 {
		return userErrorf("wait_seconds must be 0 or more")
	}
	return nil
}

type mjActionInput struct {
	JobID       string `json:"job_id,omitempty" jsonschema_description:"Or task_id."`
	TaskID      string `json:"task_id,omitempty"`
	Button      string `json:"button" jsonschema_description:"U1-U4, V1-V4, reroll, a listed label or custom_id."`
	WaitSeconds *int   `json:"wait_seconds,omitempty" jsonschema:"minimum=0" jsonschema_description:"Default 45."`
	New         bool   `json:"new,omitempty" jsonschema_description:"Start a new paid job, no reuse."`
}

func (in *mjActionInput) validate() error {
	if err := oneTask(&in.JobID, &in.TaskID); err != nil {
		return err
	}
	in.Button = strings.TrimSpace(in.Button)
	if in.Button == "" {
		return userErrorf("give button: U1-U4, V1-V4, reroll, or a custom_id from the job's buttons")
	}
	if in.WaitSeconds != nil && *in.WaitSeconds < 0 {
		return userErrorf("wait_seconds must be 0 or more")
	}
	return nil
}

func oneTask(jobID, taskID *string) error {
	*jobID, *taskID = strings.TrimSpace(*jobID), strings.TrimSpace(*taskID)
	switch {
	case *jobID == "" && *taskID == "":
		return userErrorf("give job_id (from mj_imagine, mj_blend or mj_action) or task_id")
	case *jobID != "" && *taskID != "":
		return userErrorf("give job_id or task_id, not both")
	}
	return nil
}

type mjSeedInput struct {
	JobID  string `json:"job_id,omitempty" jsonschema_description:"Or task_id."`
	TaskID string `json:"task_id,omitempty"`
}

func (in *mjSeedInput) validate() error { return oneTask(&in.JobID, &in.TaskID) }

type mjSeedOutput struct {
	Seed   string `json:"seed"`
	TaskID string `json:"task_id"`
	JobID  string `json:"job_id,omitempty"`
}

// mjArgs are a Midjourney job's persisted arguments.
type mjArgs struct {
	Prompt     string   `json:"prompt,omitempty"`
	Mode       string   `json:"mode,omitempty"`
	Images     []string `json:"images,omitempty"` // references as given
	Dimensions string   `json:"dimensions,omitempty"`
	ParentTask string   `json:"parent_task,omitempty"`
	CustomID   string   `json:"custom_id,omitempty"`
	Button     string   `json:"button,omitempty"`
}

// loadMJImages turns image references into the data URLs Midjourney takes.
func loadMJImages(ctx context.Context, d *Deps, refs []string) ([]string, error) {
	out := make([]string, 0, len(refs))
	for i, ref := range refs {
		in, err := d.Media.LoadImage(ctx, ref)
		if err == nil && in.Data == nil {
			err = d.Media.Fetch(ctx, &in)
		}
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i+1, err)
		}
		out = append(out, in.DataURL())
	}
	return out, nil
}

func mjImagineTool(d *Deps) Tool {
	t := define("mj_imagine",
		"Midjourney: draw a 4-image grid (paid; about a minute). Waits like generate_video; buttons feed mj_action.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in mjImagineInput) (Result[jobOutput], error) {
			var images []string
			if len(in.Images) > 0 {
				var err error
				if images, err = loadMJImages(ctx, d, in.Images); err != nil {
					return Result[jobOutput]{}, err
				}
			}
			args := mjArgs{Prompt: in.Prompt, Mode: in.Mode, Images: in.Images}
			return startJob(ctx, d, call, jobs.Spec{Kind: kindMJImagine, Args: args, New: in.New, Prepared: images}, in.WaitSeconds)
		})
	t.Toolset = "midjourney"
	t.Timeout = d.Config.MaxWait + waitMargin
	return t
}

func mjBlendTool(d *Deps) Tool {
	t := define("mj_blend",
		"Midjourney: blend 2 to 5 images into a 4-image grid (paid). Waits and saves like mj_imagine.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in mjBlendInput) (Result[jobOutput], error) {
			images, err := loadMJImages(ctx, d, in.Images)
			if err != nil {
				return Result[jobOutput]{}, err
			}
			args := mjArgs{Images: in.Images, Dimensions: in.Dimensions, Mode: in.Mode}
			return startJob(ctx, d, call, jobs.Spec{Kind: kindMJBlend, Args: args, New: in.New, Prepared: images}, in.WaitSeconds)
		})
	t.Toolset = "midjourney"
	t.Timeout = d.Config.MaxWait + waitMargin
	return t
}

func mjActionTool(d *Deps) Tool {
	t := define("mj_action",
		"Midjourney: click a finished job's button: U1-U4 upscale, V1-V4 vary, reroll (paid). Waits and saves like mj_imagine.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in mjActionInput) (Result[jobOutput], error) {
			if !d.Client.HasKey() {
				return Result[jobOutput]{}, upstream.ErrNoAPIKey
			}
			parent, buttons, err := mjParent(ctx, d, in.JobID, in.TaskID)
			if err != nil {
				return Result[jobOutput]{}, err
			}
			b, err := resolveButton(buttons, in.Button, parent)
			if err != nil {
				return Result[jobOutput]{}, err
			}
			args := mjArgs{ParentTask: parent, CustomID: b.CustomID, Button: b.Label}
			return startJob(ctx, d, call, jobs.Spec{Kind: kindMJAction, Args: args, New: in.New}, in.WaitSeconds)
		})
	t.Toolset = "midjourney"
	t.Timeout = d.Config.MaxWait + waitMargin
	return t
}

func mjSeedTool(d *Deps) Tool {
	t := define("mj_seed",
		"Midjourney: the seed of a finished job's image, for --seed in a prompt. Free.",
		hints{readOnly: true, idempotent: true, openWorld: true},
		func(ctx context.Context, call *Call, in mjSeedInput) (Result[mjSeedOutput], error) {
			taskID := in.TaskID
			var jobID string
			if in.JobID != "" {
				j, err := findJob(d, in.JobID)
				if err != nil {
					return Result[mjSeedOutput]{}, err
				}
				if err := mjJobReady(j); err != nil {
					return Result[mjSeedOutput]{}, err
				}
				if j.Result.Seed != "" {
					out := mjSeedOutput{Seed: j.Result.Seed, TaskID: j.TaskID, JobID: j.ID}
					return Result[mjSeedOutput]{Value: out, Text: "seed " + out.Seed}, nil
				}
				taskID, jobID = j.TaskID, j.ID
			} else if j, ok := d.Jobs.ByTask(taskID); ok {
				jobID = j.ID
			}
			seed, err := d.Client.MJImageSeed(ctx, taskID)
			if err != nil {
				return Result[mjSeedOutput]{}, err
			}
			if jobID != "" {
				_ = d.Jobs.Amend(jobID, func(j *jobs.Job) { j.Result.Seed = seed })
			}
			out := mjSeedOutput{Seed: seed, TaskID: taskID, JobID: jobID}
			return Result[mjSeedOutput]{Value: out, Text: fmt.Sprintf("seed %s of Midjourney task %s", seed, taskID)}, nil
		})
	t.Toolset = "midjourney"
	return t
}

func isMJKind(kind string) bool {
	return kind == kindMJImagine || kind == kindMJBlend || kind == kindMJAction
}

// mjJobReady says why a job has no Midjourney result to act on yet.
func mjJobReady(j jobs.Job) error {
	switch {
	case !isMJKind(j.Kind):
		return userErrorf("job %s is a %s job, not a Midjourney one (mj_imagine, mj_blend or mj_action)", j.ID, j.Kind)
	case j.Status == jobs.Failed:
		return userErrorf("job %s failed, so it has no image: %s", j.ID, j.Error)
	case !j.Status.Done():
		return userErrorf("job %s is still %s (%.0f%%): wait for it with get_job first", j.ID, j.Status, j.Progress)
	case j.TaskID == "":
		return userErrorf("job %s has no Midjourney task id", j.ID)
	}
	return nil
}

// mjParent finds the task a button click applies to and its buttons: from
// the job when it has them, else from the gateway.
func mjParent(ctx context.Context, d *Deps, jobID, taskID string) (string, []jobs.Button, error) {
	if jobID != "" {
		j, err := findJob(d, jobID)
		if err != nil {
			return "", nil, err
		}
		if err := mjJobReady(j); err != nil {
			return "", nil, err
		}
		if len(j.Result.Buttons) > 0 {
			return j.TaskID, j.Result.Buttons, nil
		}
		taskID = j.TaskID
	} else if j, ok := d.Jobs.ByTask(taskID); ok && j.Status == jobs.Succeeded && len(j.Result.Buttons) > 0 {
		return taskID, j.Result.Buttons, nil
	}
	t, err := d.Client.MJTask(ctx, taskID)
	if err != nil {
		return "", nil, err
	}
	if !t.Succeeded() {
		status := t.Status
		if status == "" {
			status = "just submitted"
		}
		return "", nil, userErrorf("Midjourney task %s is %s, not finished: its buttons come when it succeeds", taskID, status)
	}
	return taskID, mjButtons(t.Buttons), nil
}

// mjButtons keeps a task's buttons with a label for each: the reroll button
// (🔄, no label) is called "reroll".
func mjButtons(in []upstream.MJButton) []jobs.Button {
	out := make([]jobs.Button, 0, len(in))
	for _, b := range in {
		if b.CustomID == "" {
			continue
		}
		label := b.Label
		switch {
		case label != "":
		case b.Emoji == "🔄" || strings.Contains(strings.ToLower(b.CustomID), "reroll"):
			label = "reroll"
		default:
			label = b.Emoji
		}
		out = append(out, jobs.Button{Label: label, Emoji: b.Emoji, CustomID: b.CustomID})
	}
	return out
}

// resolveButton finds the button an agent named: a label (any case), the
// word reroll or its emoji, or a raw custom_id.
func resolveButton(buttons []jobs.Button, want, taskID string) (jobs.Button, error) {
	if strings.Contains(want, "::") {
		for _, b := range buttons {
			if b.CustomID == want {
				return b, nil
			}
		}
		return jobs.Button{Label: want, CustomID: want}, nil
	}
	reroll := strings.EqualFold(want, "reroll") || want == "🔄"
	for _, b := range buttons {
		if strings.EqualFold(b.Label, want) || b.Emoji != "" && b.Emoji == want ||
			reroll && (b.Emoji == "🔄" || strings.Contains(strings.ToLower(b.CustomID), "reroll")) {
			return b, nil
		}
	}
	return jobs.Button{}, userErrorf("task %s has no button %q; its buttons are: %s (or pass a custom_id)", taskID, want, buttonLabels(buttons))
}

// mjStatus describes a pending task.
func mjStatus(t *upstream.MJTask) string {
	switch strings.ToUpper(t.Status) {
	case "":
		return "submitted, waiting for the gateway to pick it up"
	case "NOT_START":
		return "waiting to start"
	case "SUBMITTED":
		return "submitted"
	case "MODAL":
		return "waiting for extra input (MODAL)"
	case "IN_PROGRESS":
		return fmt.Sprintf("generating %.0f%%", t.Percent())
	}
	return strings.ToLower(t.Status)
}

// runMidjourney is the job handler of mj_imagine, mj_blend and mj_action:
// submit (unless resuming a task), poll until final, save the image.
func runMidjourney(ctx context.Context, d *Deps, r *jobs.Run) (jobs.Result, error) {
	var a mjArgs
	if err := r.Args(&a); err != nil {
		return jobs.Result{}, err
	}
	taskID := r.Job().TaskID
	if taskID == "" {
		images, _ := r.Prepared().([]string)
		if images == nil && len(a.Images) > 0 {
			var err error
			if images, err = loadMJImages(ctx, d, a.Images); err != nil {
				return jobs.Result{}, err
			}
		}
		r.Report(0, "submitting to Midjourney")
		var err error
		switch r.Job().Kind {
		case kindMJImagine:
			taskID, err = d.Client.MJImagine(ctx, &upstream.MJImagineRequest{Prompt: a.Prompt, Mode: a.Mode, Base64Array: images})
		case kindMJBlend:
			taskID, err = d.Client.MJBlend(ctx, &upstream.MJBlendRequest{Base64Array: images, Dimensions: a.Dimensions, Mode: a.Mode})
		default:
			taskID, err = d.Client.MJAction(ctx, &upstream.MJActionRequest{CustomID: a.CustomID, TaskID: a.ParentTask, ChooseSameChannel: true})
		}
		if err != nil {
			return jobs.Result{}, err
		}
		r.SetTask(taskID)
	}
	var task *upstream.MJTask
	err := poll(ctx, d, r, func(ctx context.Context) (bool, error) {
		t, err := d.Client.MJTask(ctx, taskID)
		if err != nil {
			return false, err
		}
		task = t
		if t.Final() {
			return true, nil
		}
		r.Report(t.Percent(), mjStatus(t))
		return false, nil
	})
	if err != nil {
		return jobs.Result{}, err
	}
	if !task.Succeeded() {
		reason := task.FailReason
		if reason == "" {
			reason = "the gateway gave no reason"
		}
		return jobs.Result{}, fmt.Errorf("Midjourney task %s ended with %s: %s", taskID, task.Status, reason)
	}
	if task.ImageURL == "" {
		return jobs.Result{}, fmt.Errorf("Midjourney task %s succeeded without an image URL: %w", taskID, upstream.ErrMalformedResponse)
	}
	r.Report(100, "saving the image")
	file, note := saveJobFile(ctx, d, task.ImageURL, "image")
	if file.Path == "" && ctx.Err() != nil {
		return jobs.Result{}, ctx.Err() // resume (and save) at the next start
	}
	return jobs.Result{Files: []jobs.File{file}, Buttons: mjButtons(task.Buttons), Note: note}, nil
}

// refreshMidjourney updates the unfinished Midjourney jobs among list with
// one batch query; their handlers finish them. It reports whether any
// changed. Failures only leave the list as it was.
func refreshMidjourney(ctx context.Context, d *Deps, list []jobs.Job) bool {
	byTask := map[string]string{}
	var ids []string
	for _, j := range list {
		if isMJKind(j.Kind) && j.Status == jobs.Running && j.TaskID != "" {
			byTask[j.TaskID] = j.ID
			ids = append(ids, j.TaskID)
		}
	}
	if len(ids) == 0 || !d.Client.HasKey() {
		return false
	}
	tasks, err := d.Client.MJTasks(ctx, ids)
	if err != nil {
		d.Logger.Debug().Err(err).Msg("refresh Midjourney jobs")
		return false
	}
	for i := range tasks {
		t := &tasks[i]
		if id, ok := byTask[t.ID]; ok && !t.Final() {
			d.Jobs.Observe(id, t.Percent(), mjStatus(t))
		}
	}
	return len(tasks) > 0
}
