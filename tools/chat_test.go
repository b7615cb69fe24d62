package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestChat(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "chat", map[string]any{"prompt": "hello there", "system": "be brief", "temperature": 0.2, "max_tokens": 50})
	var out chatOutput
	decode(t, res, &out)
	if !strings.Contains(out.Text, `You said: "hello there"`) || out.FinishReason != "stop" || out.Model != "gpt-4o-mini" {
		t.Errorf("chat = %+v; want the fake's echo, stop, default model", out)
	}
	if out.Usage.TotalTokens == 0 || out.Usage.TotalTokens != out.Usage.PromptTokens+out.Usage.CompletionTokens {
		t.Errorf("usage = %+v; want the gateway's counts", out.Usage)
	}
	if !strings.Contains(textOf(res), out.Text) {
		t.Errorf("text item %q; want the answer in it", textOf(res))
	}
	body := string(env.G.Last(fakegateway.RouteChatCompletions).Body)
	for _, want := range []string{`"role":"system","content":"be brief"`, `"temperature":0.2`, `"max_tokens":50`, `"stream":true`} {
		if !strings.Contains(body, want) {
			t.Errorf("request body %s; want %s", body, want)
		}
	}
}

func TestChatMessagesAndModel(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "chat", map[string]any{"model": "gpt-4.1", "messages": []any{
		map[string]any{"role": "user", "content": "first"},
		map[string]any{"role": "assistant", "content": "ok"},
		map[string]any{"role": "user", "content": "second"},
	}})
	var out chatOutput
	decode(t, res, &out)
	if out.Model != "gpt-4.1" || !strings.Contains(out.Text, `"second"`) {
		t.Errorf("chat = %+v; want gpt-4.1 answering the last message", out)
	}
}

func TestChatJSONSchema(t *testing.T) {
	env := newTestEnv(t)
	schema := map[string]any{"type": "object", "properties": map[string]any{
		"answer": map[string]any{"type": "integer"}, "steps": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	}, "required": []any{"answer", "steps"}}
	res := env.call(t, "chat", map[string]any{"prompt": "2+40?", "json_schema": schema})
	var out struct {
		JSON map[string]any `json:"json"`
	}
	decode(t, res, &out)
	if out.JSON["answer"] != float64(42) {
		t.Errorf("json = %v; want the parsed object with answer 42", out.JSON)
	}
	body := string(env.G.Last(fakegateway.RouteChatCompletions).Body)
	if !strings.Contains(body, `"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{`) {
		t.Errorf("request body %s; want response_format json_schema", body)
	}

	res = env.call(t, "chat", map[string]any{"prompt": "x", "model": fakegateway.ModelFaultBadJSONContent, "json_schema": schema})
	if !res.IsError || !strings.Contains(textOf(res), "not valid JSON") || !strings.Contains(textOf(res), "Raw answer:") {
		t.Errorf("unparsable structured answer = %q; want isError showing the raw text", textOf(res))
	}
}

func TestChatToolCalls(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "chat", map[string]any{"prompt": "weather in Paris?", "tools": []any{map[string]any{
		"name": "get_weather", "description": "Weather for a city",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []any{"city"}},
	}}})
	var out chatOutput
	decode(t, res, &out)
	if out.FinishReason != "tool_calls" || len(out.ToolCalls) != 1 {
		t.Fatalf("chat = %+v; want one tool call", out)
	}
	tc := out.ToolCalls[0]
	if tc.Name != "get_weather" || tc.Arguments["city"] == nil || tc.ID == "" {
		t.Errorf("tool call = %+v; want get_weather with arguments as an object", tc)
	}
}

func TestChatProgress(t *testing.T) {
	env := newTestEnv(t)
	long := strings.Repeat("a long question ", 200)
	res := env.callWithProgress(t, "chat", map[string]any{"prompt": long}, "tok-chat")
	if res.IsError {
		t.Fatal(textOf(res))
	}
	// Notifications may trail the response (mcp-go sends them from another goroutine).
	deadline := time.Now().Add(2 * time.Second)
	for len(env.progress("tok-chat")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	notes := env.progress("tok-chat")
	if len(notes) == 0 {
		t.Fatal("no progress notification for a call with a progressToken")
	}
	if msg, _ := notes[0]["message"].(string); !strings.Contains(msg, "received") {
		t.Errorf("progress message %q; want characters received", msg)
	}
	env.call(t, "chat", map[string]any{"prompt": long})
	if n := len(env.progress("")); n != 0 {
		t.Errorf("%d progress notifications without a token; want 0", n)
	}
}

func TestChatInvalidArguments(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "give prompt"},
		{map[string]any{"prompt": "a", "messages": []any{map[string]any{"role": "user", "content": "b"}}}, "not both"},
		{map[string]any{"messages": []any{map[string]any{"role": "robot", "content": "b"}}}, "messages[0].role"},
		{map[string]any{"prompt": "a", "temperature": 3}, "temperature"},
		{map[string]any{"prompt": "a", "max_tokens": 0}, "max_tokens"},
		{map[string]any{"prompt": "a", "json_schema": map[string]any{"type": "array"}}, "json_schema"},
		{map[string]any{"prompt": "a", "tools": []any{map[string]any{"name": "bad name!"}}}, "tools[0].name"},
		{map[string]any{"promt": "a"}, `unknown field "promt"`},
		{map[string]any{"prompt": 7}, `"prompt" must be a string`},
	}
	for _, tt := range tests {
		res := env.call(t, "chat", tt.args)
		if !res.IsError || !strings.Contains(textOf(res), tt.want) {
			t.Errorf("chat(%v) = %q; want isError mentioning %q", tt.args, textOf(res), tt.want)
		}
	}
	if n := env.G.Count(fakegateway.RouteChatCompletions); n != 0 {
		t.Errorf("invalid calls reached the gateway %d times; want 0", n)
	}
}

// TestChatGatewayFailures: each failure is an isError saying what happened
// and what to do, the POST was sent once, and the server keeps serving.
func TestChatGatewayFailures(t *testing.T) {
	tests := []struct {
		model string
		want  []string
	}{
		{fakegateway.ModelFault429, []string{"429", "Rate limit reached", "wait about"}},
		{fakegateway.ModelFault429Empty, []string{"429", "empty body", "wait about"}},
		{fakegateway.ModelFault500, []string{"500", "try again shortly"}},
		{fakegateway.ModelFault502HTML, []string{"502", "try again shortly"}},
		{fakegateway.ModelFault503CPU, []string{"503", "busy"}},
		{fakegateway.ModelFault401Upstream, []string{"401", "not your key"}},
		{fakegateway.ModelFaultQuotaToken, []string{"403", "raise the key's quota"}},
		{fakegateway.ModelFaultQuotaUser, []string{"403", "用户额度不足", "top up"}},
		{fakegateway.ModelFaultNotAllowed, []string{"403", "list_models"}},
		{fakegateway.ModelFaultUnpriced, []string{"400", "no price", "list_models"}},
		{fakegateway.ModelFaultError200, []string{"does not exist", "list_models"}},
		{"gpt-9-unknown", []string{"503", "not offered", "list_models"}},
		{fakegateway.ModelFaultTrunc, []string{"cut before its end", "no finish reason", "Text received before the cut"}},
		{fakegateway.ModelFaultSSEError, []string{"cut before its end", "upstream overloaded mid-stream"}},
		{fakegateway.ModelFaultCut, []string{"cut before its end", "try again"}},
		{fakegateway.ModelFaultBadJSON, []string{"cut before its end", "unreadable"}},
	}
	env := newTestEnv(t)
	for _, tt := range tests {
		before := env.G.Count(fakegateway.RouteChatCompletions)
		res := env.call(t, "chat", map[string]any{"prompt": "hi", "model": tt.model})
		if !res.IsError {
			t.Errorf("%s: not an isError: %s", tt.model, textOf(res))
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(textOf(res), w) {
				t.Errorf("%s: %q; want it to contain %q", tt.model, textOf(res), w)
			}
		}
		if n := env.G.Count(fakegateway.RouteChatCompletions) - before; n != 1 {
			t.Errorf("%s: POST sent %d times; want exactly 1", tt.model, n)
		}
	}
	// Still serving after every failure.
	if res := env.call(t, "chat", map[string]any{"prompt": "still there?"}); res.IsError {
		t.Errorf("after the failures: %s", textOf(res))
	}
}

func TestChatBadKey(t *testing.T) {
	env := newTestEnv(t, withEnv("WENWEN_API_KEY", "sk-wrongkey123456"))
	res := env.call(t, "chat", map[string]any{"prompt": "hi"})
	if !res.IsError || !strings.Contains(textOf(res), "401") || !strings.Contains(textOf(res), "WENWEN_API_KEY") {
		t.Errorf("chat with a bad key = %q; want a 401 isError pointing at WENWEN_API_KEY", textOf(res))
	}
}

func TestChatNoKey(t *testing.T) {
	env := newTestEnv(t, withEnv("WENWEN_API_KEY", ""))
	for _, name := range []string{"chat", "list_models"} {
		res := env.call(t, name, map[string]any{"prompt": "hi"})
		if name == "list_models" {
			res = env.call(t, name, map[string]any{})
		}
		if !res.IsError || !strings.Contains(textOf(res), "WENWEN_API_KEY is not set") || !strings.Contains(textOf(res), `"env"`) {
			t.Errorf("%s without a key = %q; want isError explaining how to set WENWEN_API_KEY", name, textOf(res))
		}
	}
	if n := env.G.Count(fakegateway.RouteChatCompletions); n != 0 {
		t.Errorf("gateway saw %d chat requests without a key; want 0", n)
	}
}

func TestChatTimeout(t *testing.T) {
	env := newTestEnv(t, withEnv("WENWEN_TIMEOUT", "100ms"), withGateway(fakegateway.WithSlowDelay(3*time.Second)))
	res := env.call(t, "chat", map[string]any{"prompt": "hi", "model": fakegateway.ModelFaultSlow})
	if !res.IsError || !strings.Contains(textOf(res), "WENWEN_TIMEOUT") {
		t.Errorf("slow chat = %q; want an isError about the timeout", textOf(res))
	}
}
