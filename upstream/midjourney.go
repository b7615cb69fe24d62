package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MJImagineRequest is the body of POST /mj/submit/imagine.
type MJImagineRequest struct {
	Prompt      string   `json:"prompt"`
	Mode        string   `json:"mode,omitempty"` // RELAX or FAST (wenwen)
	Base64Array []string `json:"base64Array"`    // reference images as data URLs
}

// MJBlendRequest is the body of POST /mj/submit/blend.
type MJBlendRequest struct {
	Base64Array []string `json:"base64Array"`          // 2 to 5 images as data URLs
	Dimensions  string   `json:"dimensions,omitempty"` // PORTRAIT, SQUARE or LANDSCAPE
	Mode        string   `json:"mode,omitempty"`
}

// MJActionRequest is the body of POST /mj/submit/action: a click on one of
// a finished task's buttons.
type MJActionRequest struct {
	CustomID          string `json:"customId"`
	TaskID            string `json:"taskId"`
	ChooseSameChannel bool   `json:"chooseSameChannel,omitempty"`
}

// MJTask is a Midjourney task as GET /mj/task/{id}/fetch returns it. A
// fresh task has Status "" and nil Buttons and Properties.
type MJTask struct {
	ID          string         `json:"id"`
	Action      string         `json:"action"`
	CustomID    string         `json:"customId"`
	Prompt      string         `json:"prompt"`
	PromptEn    string         `json:"promptEn"`
	Description string         `json:"description"`
	SubmitTime  int64          `json:"submitTime"` // milliseconds
	StartTime   int64          `json:"startTime"`
	FinishTime  int64          `json:"finishTime"`
	ImageURL    string         `json:"imageUrl"`
	VideoURL    string         `json:"videoUrl"`
	VideoURLs   []string       `json:"videoUrls"`
	Status      string         `json:"status"`
	Progress    string         `json:"progress"` // "37%"
	FailReason  string         `json:"failReason"`
	Buttons     []MJButton     `json:"buttons"`
	Properties  map[string]any `json:"properties"`
}

// MJButton is one button of a finished task; CustomID is what
// POST /mj/submit/action takes.
type MJButton struct {
	CustomID string `json:"customId"`
	Emoji    string `json:"emoji"`
	Label    string `json:"label"`
	Type     int    `json:"type"`
	Style    int    `json:"style"`
}

// Midjourney task statuses. The gateway stores "" until its poller has seen
// the task; "", NOT_START, SUBMITTED, MODAL and IN_PROGRESS are pending.
const (
	MJSuccess = "SUCCESS"
	MJFailure = "FAILURE"
	MJCancel  = "CANCEL"
)

// Final reports whether the task reached SUCCESS, FAILURE or CANCEL.
func (t *MJTask) Final() bool {
	switch strings.ToUpper(t.Status) {
	case MJSuccess, MJFailure, MJCancel:
		return true
	}
	return false
}

// Succeeded reports whether the task ended with SUCCESS.
func (t *MJTask) Succeeded() bool { return strings.EqualFold(t.Status, MJSuccess) }

// Percent is the task's progress as a number from 0 to 100 ("37%" gives 37;
// an unreadable value gives 0).
func (t *MJTask) Percent() float64 {
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(t.Progress), "%")), 64)
	if err != nil || p < 0 {
		return 0
	}
	return min(p, 100)
}

// mjSubmitResult is the envelope every /mj/submit/* route answers with; the
// gateway sends it as text/plain, so it is parsed by content.
type mjSubmitResult struct {
	Code        int            `json:"code"`
	Description string         `json:"description"`
	Result      flexString     `json:"result"`
	Properties  map[string]any `json:"properties"`
}

// flexString decodes a JSON string or number as text: task ids are strings in
// new-api but numbers in some samples.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// MJImagine submits a text-to-image task: POST /mj/submit/imagine. It
// returns the task id. The request is sent once, never retried.
func (c *Client) MJImagine(ctx context.Context, req *MJImagineRequest) (string, error) {
	body := *req
	if body.Base64Array == nil {
		body.Base64Array = []string{}
	}
	return c.mjSubmit(ctx, "/mj/submit/imagine", &body, "midjourney imagine")
}

// MJBlend submits a blend of 2 to 5 images: POST /mj/submit/blend. It
// returns the task id.
func (c *Client) MJBlend(ctx context.Context, req *MJBlendRequest) (string, error) {
	return c.mjSubmit(ctx, "/mj/submit/blend", req, "midjourney blend")
}

// MJAction clicks a button of a finished task: POST /mj/submit/action. It
// returns the new task's id.
func (c *Client) MJAction(ctx context.Context, req *MJActionRequest) (string, error) {
	return c.mjSubmit(ctx, "/mj/submit/action", req, "midjourney action")
}

// mjSubmit posts a submit body and judges the answer by its code: 1 is
// accepted, and so are 21 (already exists) and 22 (queued), which new-api
// normally rewrites to 1; any other code is an *APIError (Kind KindRejected
// on HTTP 200) carrying the gateway's description, e.g. a banned word.
func (c *Client) mjSubmit(ctx context.Context, path string, v any, action string) (string, error) {
	r, err := jsonRequest(http.MethodPost, path, v)
	if err != nil {
		return "", err
	}
	r.auth = authBearer
	var out mjSubmitResult
	if err := c.do(ctx, r, &out); err != nil {
		return "", fmt.Errorf("%s: %w", action, err)
	}
	switch out.Code {
	case 1, 21, 22:
		if out.Result == "" {
			return "", fmt.Errorf("%s: accepted without a task id: %w", action, ErrMalformedResponse)
		}
		return string(out.Result), nil
	}
	return "", fmt.Errorf("%s: %w", action, mjRejection(out))
}

// mjRejection turns a refused submit envelope into an *APIError whose
// message is the gateway's description plus the banned word when given.
func mjRejection(out mjSubmitResult) *APIError {
	msg := strings.TrimSpace(out.Description)
	if msg == "" {
		msg = "refused without a reason"
	}
	if w, ok := out.Properties["bannedWord"].(string); ok && w != "" {
		msg += fmt.Sprintf(" (banned word: %q)", w)
	}
	switch out.Code {
	case 23:
		msg += " (queue full)"
	case 24:
		if !strings.Contains(msg, "banned") {
			msg += " (banned prompt)"
		}
	}
	return &APIError{StatusCode: http.StatusOK, Code: strconv.Itoa(out.Code), Message: oneLine(msg), Envelope: "midjourney"}
}

// oneLine keeps a message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// MJTask fetches one task: GET /mj/task/{id}/fetch. An unknown id is an
// *APIError (400 task_no_found).
func (c *Client) MJTask(ctx context.Context, id string) (*MJTask, error) {
	if strings.TrimSpace(id) == "" {
		return nil, fmt.Errorf("midjourney task: empty task id")
	}
	r := &request{method: http.MethodGet, path: "/mj/task/" + url.PathEscape(id) + "/fetch", auth: authBearer}
	var t MJTask
	if err := c.do(ctx, r, &t); err != nil {
		return nil, fmt.Errorf("midjourney task %s: %w", id, err)
	}
	if t.ID == "" {
		return nil, fmt.Errorf("midjourney task %s: answer without an id: %w", id, ErrMalformedResponse)
	}
	return &t, nil
}

// MJTasks fetches many tasks in one request: POST /mj/task/list-by-condition.
// Unknown ids are left out of the answer. The request only reads, so it is
// safe to repeat, but like every POST it is sent once.
func (c *Client) MJTasks(ctx context.Context, ids []string) ([]MJTask, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	r, err := jsonRequest(http.MethodPost, "/mj/task/list-by-condition", map[string][]string{"ids": ids})
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	var tasks []MJTask
	if err := c.do(ctx, r, &tasks); err != nil {
		return nil, fmt.Errorf("midjourney tasks: %w", err)
	}
	return tasks, nil
}

// MJImageSeed returns the seed of a finished task's image:
// GET /mj/task/{id}/image-seed.
func (c *Client) MJImageSeed(ctx context.Context, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("midjourney seed: empty task id")
	}
	r := &request{method: http.MethodGet, path: "/mj/task/" + url.PathEscape(id) + "/image-seed", auth: authBearer}
	var out mjSubmitResult
	if err := c.do(ctx, r, &out); err != nil {
		return "", fmt.Errorf("midjourney seed of %s: %w", id, err)
	}
	if out.Code != 1 {
		return "", fmt.Errorf("midjourney seed of %s: %w", id, mjRejection(out))
	}
	if out.Result == "" {
		return "", fmt.Errorf("midjourney seed of %s: answer without a seed: %w", id, ErrMalformedResponse)
	}
	return string(out.Result), nil
}
