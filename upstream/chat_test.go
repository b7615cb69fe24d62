package upstream

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func hi(model string) *ChatRequest {
	return &ChatRequest{Model: model, Messages: []ChatMessage{{Role: "user", Content: "hello"}}}
}

func TestChatPlainAndStream(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	plain, err := c.Chat(t.Context(), hi("gpt-4o-mini"))
	if err != nil {
		t.Fatal(err)
	}
	var deltas int
	streamed, err := c.ChatStream(t.Context(), hi("gpt-4o-mini"), func(d ChatDelta) {
		deltas++
		if d.Chars != len(d.Text()) {
			t.Errorf("delta Chars = %d; want len(Text()) = %d", d.Chars, len(d.Text()))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p, s := plain.Choices[0], streamed.Choices[0]
	if p.Message.Text() == "" || p.Message.Text() != s.Message.Text() {
		t.Errorf("stream text %q; want the plain text %q", s.Message.Text(), p.Message.Text())
	}
	if s.FinishReason != "stop" || streamed.Usage == nil || streamed.Usage.TotalTokens == 0 {
		t.Errorf("stream finish %q usage %+v; want stop and usage", s.FinishReason, streamed.Usage)
	}
	if deltas < 2 {
		t.Errorf("onDelta called %d times; want several", deltas)
	}
	body := string(g.Last(fakegateway.RouteChatCompletions).Body)
	if !strings.Contains(body, `"stream":true`) || !strings.Contains(body, `"include_usage":true`) {
		t.Errorf("stream request body %s; want stream and include_usage", body)
	}
}

func TestChatStreamToolCalls(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	req := hi("gpt-4o-mini")
	req.Tools = []ChatTool{{Type: "function", Function: FunctionDef{Name: "get_weather", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}}
	resp, err := c.ChatStream(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := resp.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("finish %q, %d tool calls; want tool_calls and 1", ch.FinishReason, len(ch.Message.ToolCalls))
	}
	tc := ch.Message.ToolCalls[0]
	if tc.Function.Name != "get_weather" || !strings.Contains(tc.Function.Arguments, `"city"`) || tc.ID == "" {
		t.Errorf("tool call %+v; want get_weather with a city argument and an id", tc)
	}
}

// TestChatStreamCuts: every way a stream can end badly is an error, never a
// clean answer, and the text so far is kept.
func TestChatStreamCuts(t *testing.T) {
	tests := []struct {
		model    string
		wantAPI  bool // an *APIError inside
		partial  string
		reasonIn string
	}{
		{fakegateway.ModelFaultTrunc, false, "Hello", "no finish reason"},
		{fakegateway.ModelFaultSSEError, true, "Hel", "error event"},
		{fakegateway.ModelFaultCut, false, "", "connection broken"},
		{fakegateway.ModelFaultBadJSON, false, "", "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			g := fakegateway.New(t)
			_, err := newClient(t, g.URL).ChatStream(t.Context(), hi(tt.model), nil)
			var se *StreamError
			if !errors.As(err, &se) || !errors.Is(err, ErrStreamCut) {
				t.Fatalf("err = %v; want *StreamError", err)
			}
			if !strings.Contains(se.Reason, tt.reasonIn) {
				t.Errorf("Reason = %q; want it to contain %q", se.Reason, tt.reasonIn)
			}
			if !strings.HasPrefix(se.Partial, tt.partial) {
				t.Errorf("Partial = %q; want it to start with %q", se.Partial, tt.partial)
			}
			var apiErr *APIError
			if got := errors.As(err, &apiErr); got != tt.wantAPI {
				t.Errorf("errors.As(*APIError) = %v; want %v", got, tt.wantAPI)
			}
		})
	}
}

func TestChatErrorsOnStreamRequests(t *testing.T) {
	tests := []struct {
		model  string
		status int
		kind   Kind
	}{
		{fakegateway.ModelFault429, 429, KindRateLimited},
		{fakegateway.ModelFault429Empty, 429, KindRateLimited},
		{fakegateway.ModelFault500, 500, KindUpstreamFailed},
		{fakegateway.ModelFault502HTML, 502, KindUpstreamFailed},
		{fakegateway.ModelFaultQuotaUser, 403, KindUserQuota},
		{fakegateway.ModelFaultQuotaToken, 403, KindTokenQuota},
		{fakegateway.ModelFaultNotAllowed, 403, KindModelNotAllowed},
		{fakegateway.ModelFaultUnpriced, 400, KindModelUnpriced},
		{fakegateway.ModelFault503CPU, 503, KindOverloaded},
		{fakegateway.ModelFault401Upstream, 401, KindUpstreamAuth},
		{fakegateway.ModelFaultError200, 200, KindModelNotFound},
		{"gpt-9-unknown", 503, KindModelNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			g := fakegateway.New(t)
			c := newClient(t, g.URL)
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					_, err = c.ChatStream(t.Context(), hi(tt.model), nil)
				} else {
					_, err = c.Chat(t.Context(), hi(tt.model))
				}
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("stream=%v: err = %v; want *APIError", stream, err)
				}
				if apiErr.StatusCode != tt.status || apiErr.Kind() != tt.kind {
					t.Errorf("stream=%v: status %d kind %v; want %d %v (%v)", stream, apiErr.StatusCode, apiErr.Kind(), tt.status, tt.kind, apiErr)
				}
			}
		})
	}
}

func TestChatBrokenJSON(t *testing.T) {
	g := fakegateway.New(t)
	_, err := newClient(t, g.URL).Chat(t.Context(), hi(fakegateway.ModelFaultBadJSON))
	if !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("Chat with broken JSON = %v; want ErrMalformedResponse", err)
	}
	_, err = newClient(t, g.URL).Chat(t.Context(), hi(fakegateway.ModelFaultTrunc))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "read_response_body_failed" {
		t.Errorf("Chat with a truncated upstream = %v; want the gateway's read_response_body_failed", err)
	}
}

func TestChatStreamEndsWithoutDone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n"))
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL).ChatStream(t.Context(), hi("m"), nil)
	var se *StreamError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "without [DONE]") || se.Partial != "Hi" {
		t.Errorf("err = %v; want a cut stream without [DONE] keeping \"Hi\"", err)
	}
}
