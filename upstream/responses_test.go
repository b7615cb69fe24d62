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

func TestResponsesPlainAndStream(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	req := &ResponseRequest{Model: "gpt-4.1", Input: "hello", Instructions: "be brief"}
	plain, err := c.CreateResponse(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Last(fakegateway.RouteResponses).Header.Get("Authorization"); got != "Bearer "+fakegateway.Key {
		t.Errorf("Authorization = %q; want the Bearer key", got)
	}
	deltas := 0
	streamed, err := c.ResponseStream(t.Context(), req, func(d ChatDelta) { deltas++ })
	if err != nil {
		t.Fatal(err)
	}
	if plain.Text() == "" || streamed.Text() != plain.Text() {
		t.Errorf("stream text %q; want the plain text %q", streamed.Text(), plain.Text())
	}
	if !strings.HasPrefix(streamed.ID, "resp_") || streamed.Status != "completed" || streamed.Usage == nil || streamed.Usage.TotalTokens == 0 {
		t.Errorf("streamed id %q status %q usage %+v; want resp_ id, completed, usage", streamed.ID, streamed.Status, streamed.Usage)
	}
	if deltas < 2 {
		t.Errorf("onDelta called %d times; want several", deltas)
	}
	var body map[string]any
	if err := json.Unmarshal(g.Last(fakegateway.RouteResponses).Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["stream"] != true || body["instructions"] != "be brief" || body["input"] != "hello" {
		t.Errorf("stream request body %v; want stream, instructions and input", body)
	}
}

func TestResponsesContinuationSearchAndLimit(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	first, err := c.ResponseStream(t.Context(), &ResponseRequest{Model: "gpt-4o", Input: "hello"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.ResponseStream(t.Context(), &ResponseRequest{
		Model: "gpt-4o", Input: "news?", PreviousResponseID: first.ID,
		Tools: []ResponseTool{{Type: "web_search_preview"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(second.Text(), first.ID) {
		t.Errorf("text %q; want it to continue %s", second.Text(), first.ID)
	}
	if cites := second.Citations(); len(cites) != 1 || cites[0].URL != "https://example.com/" {
		t.Errorf("citations %+v; want the one web source", cites)
	}
	limit := 16
	short, err := c.ResponseStream(t.Context(), &ResponseRequest{Model: "gpt-4o", Input: "a long question " + strings.Repeat("word ", 20), MaxOutputTokens: &limit}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if short.Status != "incomplete" || short.IncompleteDetails == nil || short.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("status %q details %+v; want incomplete for max_output_tokens", short.Status, short.IncompleteDetails)
	}
	_, err = c.ResponseStream(t.Context(), &ResponseRequest{Model: "gpt-4o", Input: "x", PreviousResponseID: "resp_nope"}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "previous_response_not_found" {
		t.Errorf("unknown previous id: err = %v; want 400 previous_response_not_found", err)
	}
}

func TestResponsesStreamCuts(t *testing.T) {
	tests := []struct {
		model    string
		wantAPI  bool
		reasonIn string
	}{
		{fakegateway.ModelFaultTrunc, false, "without response.completed"},
		{fakegateway.ModelFaultCut, false, "connection broken"},
		{fakegateway.ModelFaultSSEError, true, "error event"},
		{fakegateway.ModelFaultBadJSON, false, "unreadable"},
	}
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			_, err := c.ResponseStream(t.Context(), &ResponseRequest{Model: tt.model, Input: "hello"}, nil)
			var se *StreamError
			if !errors.As(err, &se) || !errors.Is(err, ErrStreamCut) {
				t.Fatalf("err = %v; want a *StreamError", err)
			}
			if !strings.Contains(se.Reason, tt.reasonIn) {
				t.Errorf("reason %q; want it to contain %q", se.Reason, tt.reasonIn)
			}
			var apiErr *APIError
			if got := errors.As(err, &apiErr); got != tt.wantAPI {
				t.Errorf("APIError inside = %v; want %v", got, tt.wantAPI)
			}
		})
	}
}

func TestResponsesErrors(t *testing.T) {
	g := fakegateway.New(t)
	tests := []struct {
		name  string
		key   string
		model string
		kind  Kind
	}{
		{"bad key", "sk-wrong0000000000", "gpt-4o", KindBadKey},
		{"unknown model", fakegateway.Key, "gpt-9", KindModelNotFound},
		{"rate limited", fakegateway.Key, fakegateway.ModelFault429, KindRateLimited},
		{"quota", fakegateway.Key, fakegateway.ModelFaultQuotaUser, KindUserQuota},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, g.URL, WithAPIKey(tt.key))
			_, err := c.ResponseStream(t.Context(), &ResponseRequest{Model: tt.model, Input: "hello"}, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Kind() != tt.kind {
				t.Fatalf("err = %v; want an *APIError of kind %v", err, tt.kind)
			}
			if IsStreamCut(err) {
				t.Errorf("err = %v; an error before the stream is not a cut", err)
			}
		})
	}
}

// sseServer answers every request with an event stream body.
func sseServer(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestResponsesStreamEndings(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantText string
		reasonIn string // "" for success
	}{
		{"names only in event lines", "event: response.output_text.delta\ndata: {\"delta\":\"Hi\"}\n\nevent: response.completed\ndata: {\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[]}}\n\n", "Hi", ""},
		{"failed", "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n", "", "response.failed"},
		{"done before completed", "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\ndata: [DONE]\n\n", "", "[DONE]"},
		{"eof", "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n\n", "", "without response.completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, sseServer(t, tt.body))
			resp, err := c.ResponseStream(t.Context(), &ResponseRequest{Model: "m", Input: "x"}, nil)
			if tt.reasonIn == "" {
				if err != nil || resp.Text() != tt.wantText {
					t.Fatalf("got %v, %v; want text %q", resp, err, tt.wantText)
				}
				return
			}
			var se *StreamError
			if !errors.As(err, &se) || !strings.Contains(se.Reason, tt.reasonIn) {
				t.Fatalf("err = %v; want a stream error about %q", err, tt.reasonIn)
			}
		})
	}
}
