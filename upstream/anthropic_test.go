package upstream

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func claudeHi(model string) *MessagesRequest {
	return &MessagesRequest{Model: model, MaxTokens: 64, Messages: []AnthropicMessage{{Role: "user", Content: "hello"}}}
}

// replayServer answers every request with a recording, as recorded.
func replayServer(t *testing.T, name string) string {
	t.Helper()
	rec, err := fakegateway.LoadRecording(name)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range rec.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Status)
		w.Write(rec.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMessagesRecordings(t *testing.T) {
	tests := []struct {
		rec      string
		stream   bool
		wantText string
		kind     Kind   // for an *APIError
		envelope string // for an *APIError
		reasonIn string // for a *StreamError
	}{
		{rec: "messages-ok-openai-channel", wantText: "Hello from fakeupstream (claude-sonnet-4)"},
		{rec: "messages-stream-openai-channel", stream: true, wantText: "Hello from fakeupstream (claude-sonnet-4)"},
		{rec: "messages-upstream-trunc-stream", stream: true, reasonIn: "second message_start"},
		{rec: "messages-upstream-429", kind: KindRateLimited, envelope: "anthropic"},
		{rec: "messages-upstream-500-stream", stream: true, kind: KindUpstreamFailed, envelope: "anthropic"},
		{rec: "messages-user-quota-insufficient", kind: KindUserQuota, envelope: "anthropic"},
		{rec: "badkey-messages", kind: KindBadKey, envelope: "openai"},
		{rec: "messages-model-unknown", stream: true, kind: KindModelNotFound, envelope: "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.rec, func(t *testing.T) {
			c := newClient(t, replayServer(t, tt.rec))
			var resp *MessagesResponse
			var err error
			if tt.stream {
				resp, err = c.MessagesStream(t.Context(), claudeHi("claude-sonnet-4"), nil)
			} else {
				resp, err = c.Messages(t.Context(), claudeHi("claude-sonnet-4"))
			}
			switch {
			case tt.wantText != "":
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(resp.Text(), tt.wantText) || resp.StopReason != "end_turn" {
					t.Errorf("text %q stop %q; want %q… and end_turn", resp.Text(), resp.StopReason, tt.wantText)
				}
				if resp.Usage.InputTokens != 6 || resp.Usage.OutputTokens != 23 {
					t.Errorf("usage %+v; want the final counts 6 in, 23 out", resp.Usage)
				}
			case tt.reasonIn != "":
				var se *StreamError
				if !errors.As(err, &se) || !strings.Contains(se.Reason, tt.reasonIn) {
					t.Fatalf("err = %v; want a stream error about %q", err, tt.reasonIn)
				}
				if se.Partial != "Hel" {
					t.Errorf("partial %q; want the text before the restart, %q", se.Partial, "Hel")
				}
			default:
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %v; want an *APIError", err)
				}
				if apiErr.Kind() != tt.kind || apiErr.Envelope != tt.envelope {
					t.Errorf("kind %v envelope %q; want %v %q (%v)", apiErr.Kind(), apiErr.Envelope, tt.kind, tt.envelope, apiErr)
				}
				if strings.Contains(apiErr.Message, "request id") || apiErr.RequestID == "" {
					t.Errorf("message %q request id %q; want the id split off", apiErr.Message, apiErr.RequestID)
				}
			}
		})
	}
}

func TestMessagesAuthThinkingCache(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	req := claudeHi("claude-sonnet-4-20250514")
	req.MaxTokens = 4096
	req.Thinking = &AnthropicThinking{Type: "enabled", BudgetTokens: 2048}
	req.System = []AnthropicBlock{{Type: "text", Text: "You are a long and careful system prompt.", CacheControl: &AnthropicCache{Type: "ephemeral"}}}
	resp, err := c.MessagesStream(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := g.Last(fakegateway.RouteMessages)
	if last.Header.Get("X-Api-Key") != fakegateway.Key || last.Header.Get("Authorization") != "" {
		t.Errorf("x-api-key %q, Authorization %q; want the key in x-api-key only", last.Header.Get("X-Api-Key"), last.Header.Get("Authorization"))
	}
	var body map[string]any
	_ = json.Unmarshal(last.Body, &body)
	thinking, _ := body["thinking"].(map[string]any)
	if thinking["type"] != "enabled" || thinking["budget_tokens"] != 2048.0 {
		t.Errorf("thinking %v; want enabled with 2048", body["thinking"])
	}
	if !strings.Contains(string(last.Body), `"cache_control":{"type":"ephemeral"}`) {
		t.Errorf("body %s; want cache_control on the system block", last.Body)
	}
	if resp.ThinkingText() == "" || resp.Text() == "" {
		t.Errorf("thinking %q text %q; want both", resp.ThinkingText(), resp.Text())
	}
	if resp.Content[0].Type != "thinking" || resp.Content[0].Signature == "" {
		t.Errorf("first block %+v; want thinking with its signature", resp.Content[0])
	}
	if resp.Usage.CacheCreationInputTokens == 0 {
		t.Errorf("usage %+v; want cache creation tokens", resp.Usage)
	}
	plain, err := c.Messages(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Text() != resp.Text() || plain.ThinkingText() != resp.ThinkingText() {
		t.Errorf("plain %q/%q; want the streamed %q/%q", plain.Text(), plain.ThinkingText(), resp.Text(), resp.ThinkingText())
	}
}

func TestMessagesFaults(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	tests := []struct {
		model    string
		reasonIn string // a *StreamError
		kind     Kind   // else an *APIError
		envelope string
	}{
		{model: fakegateway.ModelFaultTrunc, reasonIn: "second message_start"},
		{model: fakegateway.ModelFaultCut, reasonIn: "connection broken"},
		{model: fakegateway.ModelFaultSSEError, reasonIn: "error event"},
		{model: fakegateway.ModelFaultBadJSON, reasonIn: "unreadable"},
		{model: fakegateway.ModelFault429, kind: KindRateLimited, envelope: "anthropic"},
		{model: fakegateway.ModelFault500, kind: KindUpstreamFailed, envelope: "anthropic"},
		{model: fakegateway.ModelFaultQuotaToken, kind: KindTokenQuota, envelope: "anthropic"},
		{model: fakegateway.ModelFaultNotAllowed, kind: KindModelNotAllowed, envelope: "openai"},
		{model: "claude-9-unknown", kind: KindModelNotFound, envelope: "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			_, err := c.MessagesStream(t.Context(), claudeHi(tt.model), nil)
			if tt.reasonIn != "" {
				var se *StreamError
				if !errors.As(err, &se) || !strings.Contains(se.Reason, tt.reasonIn) {
					t.Fatalf("err = %v; want a stream error about %q", err, tt.reasonIn)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Kind() != tt.kind || apiErr.Envelope != tt.envelope {
				t.Fatalf("err = %v (%+v); want kind %v in the %s envelope", err, apiErr, tt.kind, tt.envelope)
			}
		})
	}
	// A request the upstream refuses comes back in the Anthropic envelope.
	bad := claudeHi("claude-sonnet-4-20250514")
	bad.Thinking = &AnthropicThinking{Type: "enabled", BudgetTokens: 100}
	_, err := c.Messages(t.Context(), bad)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Envelope != "anthropic" || apiErr.Kind() != KindBadRequest {
		t.Errorf("err = %v; want a 400 in the Anthropic envelope", err)
	}
}
