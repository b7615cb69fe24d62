package tools

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestCreateResponse(t *testing.T) {
	env := newTestEnv(t)
	res := env.callWithProgress(t, "create_response", map[string]any{"input": "hello", "instructions": "be brief"}, "tok-resp")
	var first createResponseOutput
	decode(t, res, &first)
	if !strings.HasPrefix(first.ID, "resp_") || !strings.Contains(first.Text, `You said: "hello"`) || first.Model != "gpt-4o-mini" || first.Usage.OutputTokens == 0 {
		t.Errorf("result %+v; want an id, the answer, the default model and usage", first)
	}
	if !strings.Contains(textOf(res), first.ID) {
		t.Errorf("text %q; want it to show the id to continue with", textOf(res))
	}
	if n := len(waitProgress(env, "tok-resp")); n == 0 {
		t.Error("no progress notifications during the stream")
	}

	// The id continues the conversation; web search brings sources.
	res = env.call(t, "create_response", map[string]any{"input": "and today?", "previous_response_id": first.ID, "web_search": true, "model": "gpt-4.1"})
	var second createResponseOutput
	decode(t, res, &second)
	if !strings.Contains(second.Text, first.ID) || len(second.Sources) != 1 || second.Model != "gpt-4.1" {
		t.Errorf("result %+v; want the continuation of %s with one source", second, first.ID)
	}
	var body map[string]any
	_ = json.Unmarshal(env.G.Last(fakegateway.RouteResponses).Body, &body)
	if body["previous_response_id"] != first.ID || !strings.Contains(string(env.G.Last(fakegateway.RouteResponses).Body), "web_search_preview") {
		t.Errorf("request %s; want previous_response_id and the web search tool", env.G.Last(fakegateway.RouteResponses).Body)
	}

	res = env.call(t, "create_response", map[string]any{"input": strings.Repeat("word ", 30), "max_output_tokens": 16})
	var short createResponseOutput
	decode(t, res, &short)
	if short.Incomplete != "max_output_tokens" {
		t.Errorf("incomplete %q; want max_output_tokens", short.Incomplete)
	}
}

func TestCreateResponseErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"empty input", map[string]any{"input": " "}, []string{"input is empty"}},
		{"not an id", map[string]any{"input": "x", "previous_response_id": "abc"}, []string{"not a response id"}},
		{"low limit", map[string]any{"input": "x", "max_output_tokens": 3}, []string{"at least 16"}},
		{"unknown id", map[string]any{"input": "x", "previous_response_id": "resp_nope"}, []string{"400", "not found"}},
		{"cut", map[string]any{"input": "x", "model": fakegateway.ModelFaultTrunc}, []string{"cut before its end", "response.completed", "Text received before the cut"}},
		{"unknown model", map[string]any{"input": "x", "model": "gpt-9"}, []string{"list_models"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "create_response", tt.args)
			if !res.IsError {
				t.Fatalf("success %v; want an error", res.StructuredContent)
			}
			for _, w := range tt.want {
				if !strings.Contains(textOf(res), w) {
					t.Errorf("error %q; want it to contain %q", textOf(res), w)
				}
			}
		})
	}
}

// waitProgress returns the progress notifications for token, waiting up to
// 2 s for the first: mcp-go sends them from another goroutine, so they may
// trail the response.
func waitProgress(env *testEnv, token string) []map[string]any {
	deadline := time.Now().Add(2 * time.Second)
	for len(env.progress(token)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return env.progress(token)
}
