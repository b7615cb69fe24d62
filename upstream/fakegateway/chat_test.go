package fakegateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// completion is the part of a chat.completion the tests read.
type completion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Role      string  `json:"role"`
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func decodeCompletion(t *testing.T, got response) completion {
	t.Helper()
	if got.status != http.StatusOK {
		t.Fatalf("status = %d; want 200: %s", got.status, got.body)
	}
	var c completion
	if err := json.Unmarshal(got.body, &c); err != nil {
		t.Fatalf("decode %s: %v", got.body, err)
	}
	if len(c.Choices) != 1 {
		t.Fatalf("%d choices; want 1", len(c.Choices))
	}
	return c
}

func TestChatOK(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}`)
	c := decodeCompletion(t, got)
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json (relayed body)", ct)
	}
	want := `Hello from fakegateway (gpt-4o-mini). You said: "hello there".`
	if m := c.Choices[0].Message; m.Content == nil || *m.Content != want || m.Role != "assistant" {
		t.Errorf("message = %+v; want content %q", m, want)
	}
	if c.Choices[0].FinishReason != "stop" || c.Object != "chat.completion" || c.Model != "gpt-4o-mini" || !strings.HasPrefix(c.ID, "chatcmpl-") {
		t.Errorf("completion = %+v", c)
	}
	u := c.Usage
	if u.PromptTokens != 4 || u.CompletionTokens != len(strings.Fields(want)) || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	// Same keys as the recorded reply.
	if a, b := keysOf(t, mustRecording(t, "chat-ok").Body), keysOf(t, got.body); !slices.Equal(a, b) {
		t.Errorf("keys %q; recorded %q", b, a)
	}
}

func TestChatContentParts(t *testing.T) {
	g := New(t)
	png := "data:image/png;base64,iVBORw0KGgo="
	got := chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"what is"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}},{"type":"image_url","image_url":{"url":"`+png+`"}},{"type":"text","text":"this"}]}]}`)
	c := decodeCompletion(t, got)
	if want := `Hello from fakegateway (gpt-4o). You said: "what is this".`; *c.Choices[0].Message.Content != want {
		t.Errorf("content = %q; want %q", *c.Choices[0].Message.Content, want)
	}
}

func TestChatMediaModels(t *testing.T) {
	g := New(t)
	c := decodeCompletion(t, chat(t, g, `{"model":"sora_video2","stream":false,"messages":[{"role":"user","content":"cat"}]}`))
	if got := *c.Choices[0].Message.Content; !strings.HasPrefix(got, "[下载视频]("+g.URL+"/fake/video/") || !strings.HasSuffix(got, ".mp4)\n\n") {
		t.Errorf("sora_video2 content = %q; want a Markdown link to an mp4 (video.go)", got)
	}
	c = decodeCompletion(t, chat(t, g, `{"model":"gpt-4o-image","messages":[{"role":"user","content":"cat"}]}`))
	if got := *c.Choices[0].Message.Content; !strings.Contains(got, "![image]("+g.URL+"/fake/image/") {
		t.Errorf("gpt-4o-image content = %q; want a Markdown link to a PNG (images.go)", got)
	}
}

func TestChatStrict(t *testing.T) {
	const ok = `"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name        string
		body        string
		contentType string
		recording   string // exact recorded answer, if any
		wantType    string // new_api_error or invalid_request_error
		wantParam   string
		wantMsg     string
	}{
		{name: "missing model", body: `{"messages":[{"role":"user","content":"hi"}]}`, recording: "files-get-without-model"},
		{name: "empty model", body: `{"model":"","messages":[{"role":"user","content":"hi"}]}`, recording: "files-get-without-model"},
		{name: "model not a string", body: `{"model":4,"messages":[]}`, wantType: "new_api_error", wantMsg: "field model must be a string"},
		{name: "empty body", body: " ", recording: "body-empty"},
		{name: "not JSON", body: "this is not json", recording: "body-not-json"},
		{name: "JSON array", body: `[1,2]`, recording: "body-not-json"},
		{name: "text/plain", body: `{` + ok + `}`, contentType: "text/plain", wantType: "new_api_error", wantMsg: `Content-Type must be application/json, got "text/plain"`},
		{name: "no content type", body: `{` + ok + `}`, contentType: "-", wantType: "new_api_error", wantMsg: "Content-Type must be application/json"},
		{name: "messages missing", body: `{"model":"gpt-4o-mini"}`, wantType: "new_api_error", wantMsg: "field messages is required"},
		{name: "messages empty", body: `{"model":"gpt-4o-mini","messages":[]}`, wantType: "new_api_error", wantMsg: "field messages is required"},
		{name: "messages not array", body: `{"model":"gpt-4o-mini","messages":"hi"}`, wantType: "new_api_error", wantMsg: "field messages must be an array, got string"},
		{name: "stream not bool", body: `{` + ok + `,"stream":"yes"}`, wantType: "new_api_error", wantMsg: "field stream must be a boolean"},
		{name: "bad role", body: `{"model":"gpt-4o-mini","messages":[{"role":"robot","content":"hi"}]}`, wantType: "invalid_request_error", wantParam: "messages[0].role", wantMsg: "Invalid value: 'robot'"},
		{name: "missing role", body: `{"model":"gpt-4o-mini","messages":[{"content":"hi"}]}`, wantType: "invalid_request_error", wantParam: "messages[0].role", wantMsg: "Missing required parameter"},
		{name: "null content for user", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":null}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content", wantMsg: "got null"},
		{name: "null content for assistant without tool_calls", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a"},{"role":"assistant"}]}`, wantType: "invalid_request_error", wantParam: "messages[1].content", wantMsg: "got null"},
		{name: "number content", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":5}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content", wantMsg: "but got a number"},
		{name: "empty parts", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":[]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content", wantMsg: "empty array"},
		{name: "unknown part type", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"video","video":"x"}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].type", wantMsg: "Invalid value: 'video'"},
		{name: "text part without text", body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text"}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].text", wantMsg: "Missing required parameter"},
		{name: "image_url ftp", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.url", wantMsg: `unsupported URL "ftp"`},
		{name: "image_url file path", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"/tmp/a.png"}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.url", wantMsg: "unsupported URL"},
		{name: "image_url data not image", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:text/plain;base64,aGk="}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.url", wantMsg: "image MIME type"},
		{name: "image_url bad base64", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@@"}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.url", wantMsg: "not valid base64"},
		{name: "image_url missing url", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.url", wantMsg: "Missing required parameter"},
		{name: "image in system message", body: `{"model":"gpt-4o","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0]", wantMsg: "only allowed for messages with role 'user'"},
		{name: "image detail", body: `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"ultra"}}]}]}`, wantType: "invalid_request_error", wantParam: "messages[0].content[0].image_url.detail", wantMsg: "'ultra'"},
		{name: "tool message without id", body: `{"model":"gpt-4o","messages":[{"role":"tool","content":"42"}]}`, wantType: "invalid_request_error", wantParam: "messages[0].tool_call_id", wantMsg: "tool_call_id"},
		{name: "stream_options without stream", body: `{` + ok + `,"stream_options":{"include_usage":true}}`, wantType: "invalid_request_error", wantParam: "stream_options", wantMsg: "only allowed when 'stream' is enabled"},
		{name: "stream_options with stream false", body: `{` + ok + `,"stream":false,"stream_options":{}}`, wantType: "invalid_request_error", wantParam: "stream_options", wantMsg: "only allowed when 'stream' is enabled"},
		{name: "temperature too high", body: `{` + ok + `,"temperature":2.5}`, wantType: "invalid_request_error", wantParam: "temperature", wantMsg: "Expected a value <= 2, but got 2.5"},
		{name: "temperature negative", body: `{` + ok + `,"temperature":-0.1}`, wantType: "invalid_request_error", wantParam: "temperature", wantMsg: "Expected a value >= 0"},
		{name: "max_tokens zero", body: `{` + ok + `,"max_tokens":0}`, wantType: "invalid_request_error", wantParam: "max_tokens", wantMsg: "Expected a value >= 1, but got 0"},
		{name: "max_tokens negative", body: `{` + ok + `,"max_tokens":-5}`, wantType: "invalid_request_error", wantParam: "max_tokens", wantMsg: "but got -5"},
		{name: "max_tokens decimal", body: `{` + ok + `,"max_tokens":1.5}`, wantType: "invalid_request_error", wantParam: "max_tokens", wantMsg: "expected an integer"},
		{name: "max_completion_tokens zero", body: `{` + ok + `,"max_completion_tokens":0}`, wantType: "invalid_request_error", wantParam: "max_completion_tokens", wantMsg: "minimum value"},
		{name: "tool type", body: `{` + ok + `,"tools":[{"type":"retrieval"}]}`, wantType: "invalid_request_error", wantParam: "tools[0].type", wantMsg: "Invalid value: 'retrieval'"},
		{name: "tool without function", body: `{` + ok + `,"tools":[{"type":"function"}]}`, wantType: "invalid_request_error", wantParam: "tools[0].function", wantMsg: "Missing required parameter"},
		{name: "tool without name", body: `{` + ok + `,"tools":[{"type":"function","function":{"description":"x"}}]}`, wantType: "invalid_request_error", wantParam: "tools[0].function.name", wantMsg: "Missing required parameter"},
		{name: "tool name with space", body: `{` + ok + `,"tools":[{"type":"function","function":{"name":"get weather"}}]}`, wantType: "invalid_request_error", wantParam: "tools[0].function.name", wantMsg: "does not match pattern"},
		{name: "tool parameters not object", body: `{` + ok + `,"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]}`, wantType: "invalid_request_error", wantParam: "tools[0].function.parameters", wantMsg: "expected an object, but got a string"},
		{name: "tool description not string", body: `{` + ok + `,"tools":[{"type":"function","function":{"name":"f","description":3}}]}`, wantType: "new_api_error", wantMsg: "field tools.function.description must be a string"},
		{name: "tool_choice without tools", body: `{` + ok + `,"tool_choice":"auto"}`, wantType: "invalid_request_error", wantParam: "tool_choice", wantMsg: "only allowed when 'tools' are specified"},
		{name: "tool_choice bad string", body: `{` + ok + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always"}`, wantType: "invalid_request_error", wantParam: "tool_choice", wantMsg: "Invalid value: 'always'"},
		{name: "tool_choice unknown function", body: `{` + ok + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, wantType: "invalid_request_error", wantParam: "tool_choice", wantMsg: "function 'g'"},
		{name: "response_format type", body: `{` + ok + `,"response_format":{"type":"xml"}}`, wantType: "invalid_request_error", wantParam: "response_format.type", wantMsg: "Invalid value: 'xml'"},
		{name: "response_format without type", body: `{` + ok + `,"response_format":{}}`, wantType: "invalid_request_error", wantParam: "response_format.type", wantMsg: "Missing required parameter"},
		{name: "json_schema missing", body: `{` + ok + `,"response_format":{"type":"json_schema"}}`, wantType: "invalid_request_error", wantParam: "response_format.json_schema", wantMsg: "Missing required parameter"},
		{name: "json_schema without name", body: `{` + ok + `,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}`, wantType: "invalid_request_error", wantParam: "response_format.json_schema.name", wantMsg: "Missing required parameter"},
		{name: "json_schema without schema", body: `{` + ok + `,"response_format":{"type":"json_schema","json_schema":{"name":"s"}}}`, wantType: "invalid_request_error", wantParam: "response_format.json_schema.schema", wantMsg: "Missing required parameter"},
		{name: "json_schema schema not object", body: `{` + ok + `,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":[1]}}}`, wantType: "invalid_request_error", wantParam: "response_format.json_schema.schema", wantMsg: "expected an object, but got an array"},
		{name: "json_object without the word json", body: `{` + ok + `,"response_format":{"type":"json_object"}}`, wantType: "invalid_request_error", wantParam: "messages", wantMsg: "must contain the word 'json'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(t)
			hdr := map[string]string{}
			switch tt.contentType {
			case "":
			case "-":
				hdr["Content-Type"] = ""
			default:
				hdr["Content-Type"] = tt.contentType
			}
			got := send(t.Context(), t, g, http.MethodPost, "/v1/chat/completions", tt.body, hdr)
			if tt.recording != "" {
				rec := mustRecording(t, tt.recording)
				if got.status != rec.Status || !bytes.Equal(got.body, rec.Body) {
					t.Errorf("got %d %s; want %d %s", got.status, got.body, rec.Status, rec.Body)
				}
				return
			}
			if got.status != http.StatusBadRequest {
				t.Fatalf("status = %d; want 400: %s", got.status, got.body)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if k := keysOf(t, got.body); !slices.Equal(k, []string{"error"}) {
				t.Errorf("keys = %q", k)
			}
			e := errorEnvelopeOf(t, got.body)
			if k := keysOf(t, mustJSON(t, e)); !slices.Equal(k, []string{"code", "message", "param", "type"}) {
				t.Errorf("error keys = %q", k)
			}
			msg, _ := e["message"].(string)
			if e["type"] != tt.wantType || e["param"] != tt.wantParam || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("error = %v; want type %q param %q message containing %q", e, tt.wantType, tt.wantParam, tt.wantMsg)
			}
			suffix := " (request id: " + got.header.Get(HeaderRequestID) + ")"
			if gotSuffix := strings.HasSuffix(msg, suffix); gotSuffix != (tt.wantType == "new_api_error") {
				t.Errorf("message %q: request-id suffix %v; want it only on new_api_error", msg, gotSuffix)
			}
			if n := g.Count(RouteChatCompletions); n != 1 {
				t.Errorf("Count = %d; want 1", n)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChatAccepts(t *testing.T) {
	g := New(t)
	for _, body := range []string{
		`{"model":"gpt-4o","messages":[{"role":"developer","content":"x"},{"role":"user","content":"a"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"42"}]}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0,"max_tokens":1}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":2,"top_p":1,"unknown_field":{"x":1}}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text"}}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false}}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream_options":null}`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"HTTPS://EXAMPLE.COM/A.PNG"}}]}]}`,
	} {
		if got := chat(t, g, body); got.status != http.StatusOK {
			t.Errorf("%s: status %d %s", body, got.status, got.body)
		}
	}
}

func TestChatUnknownModel(t *testing.T) {
	g := New(t)
	rec := mustRecording(t, "model-unknown")
	got := chat(t, g, `{"model":"gpt-9-unknown","messages":[{"role":"user","content":"hello"}]}`)
	if got.status != http.StatusServiceUnavailable || !bytes.Equal(got.body, rec.Body) {
		t.Errorf("got %d %s; want 503 %s", got.status, got.body, rec.Body)
	}
	got = chat(t, g, `{"model":"my<model>","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	e := errorEnvelopeOf(t, got.body)
	if got.status != http.StatusServiceUnavailable || got.header.Get("Content-Type") != "application/json; charset=utf-8" ||
		e["code"] != "model_not_found" || !strings.Contains(e["message"].(string), "No available channel for model my<model> under group default") {
		t.Errorf("got %d %q %v", got.status, got.header.Get("Content-Type"), e)
	}
}

func TestChatJSONSchema(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"solve"}],"response_format":{"type":"json_schema","json_schema":{"name":"math_reasoning","strict":true,"schema":{"type":"object","properties":{"steps":{"type":"array","items":{"type":"object","properties":{"explanation":{"type":"string"},"n":{"type":"integer"}}}},"final_answer":{"type":"number"},"ok":{"type":"boolean"},"unit":{"type":"string","enum":["cm","m"]}},"required":["steps"],"additionalProperties":false}}}}`)
	c := decodeCompletion(t, got)
	var doc map[string]any
	if err := json.Unmarshal([]byte(*c.Choices[0].Message.Content), &doc); err != nil {
		t.Fatalf("content is not JSON: %v", err)
	}
	want := map[string]any{
		"steps":        []any{map[string]any{"explanation": "example", "n": 42.0}},
		"final_answer": 4.2,
		"ok":           true,
		"unit":         "cm",
	}
	if !jsonEqual(doc, want) {
		t.Errorf("content = %v; want %v", doc, want)
	}

	got = chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"answer in JSON"}],"response_format":{"type":"json_object"}}`)
	c = decodeCompletion(t, got)
	if !json.Valid([]byte(*c.Choices[0].Message.Content)) {
		t.Errorf("json_object content is not JSON: %q", *c.Choices[0].Message.Content)
	}
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb)
}

const weatherTools = `"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}}},{"type":"function","function":{"name":"get_time"}}]`

func TestChatTools(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}],`+weatherTools+`}`)
	c := decodeCompletion(t, got)
	if !bytes.Contains(got.body, []byte(`"content":null`)) {
		t.Errorf("content is not null: %s", got.body)
	}
	ch := c.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
		t.Fatalf("choice = %+v", ch)
	}
	tc := ch.Message.ToolCalls[0]
	if !strings.HasPrefix(tc.ID, "call_") || tc.Type != "function" || tc.Function.Name != "get_weather" {
		t.Errorf("tool call = %+v", tc)
	}
	if tc.Function.Arguments != `{"city":"example","days":42}` {
		t.Errorf("arguments = %s", tc.Function.Arguments)
	}

	got = chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"time?"}],`+weatherTools+`,"tool_choice":{"type":"function","function":{"name":"get_time"}}}`)
	if tc := decodeCompletion(t, got).Choices[0].Message.ToolCalls; len(tc) != 1 || tc[0].Function.Name != "get_time" || tc[0].Function.Arguments != "{}" {
		t.Errorf("named tool_choice: %s", got.body)
	}

	got = chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"no tools"}],`+weatherTools+`,"tool_choice":"none"}`)
	if c := decodeCompletion(t, got); c.Choices[0].FinishReason != "stop" || c.Choices[0].Message.Content == nil {
		t.Errorf("tool_choice none: %s", got.body)
	}
}

// streamResult is a parsed chat stream.
type streamResult struct {
	events []string
	chunks []map[string]any
	text   string
	args   string
	finish []string
}

func parseStream(t *testing.T, got response) streamResult {
	t.Helper()
	var s streamResult
	s.events = sseEvents(t, got.body)
	s.chunks = dataChunks(t, s.events)
	for _, c := range s.chunks {
		choices, _ := c["choices"].([]any)
		for _, ch := range choices {
			ch := ch.(map[string]any)
			if fr, ok := ch["finish_reason"].(string); ok {
				s.finish = append(s.finish, fr)
			}
			delta, _ := ch["delta"].(map[string]any)
			if content, ok := delta["content"].(string); ok {
				s.text += content
			}
			calls, _ := delta["tool_calls"].([]any)
			for _, call := range calls {
				fn, _ := call.(map[string]any)["function"].(map[string]any)
				if a, ok := fn["arguments"].(string); ok {
					s.args += a
				}
			}
		}
	}
	return s
}

func checkStreamHeaders(t *testing.T, got response) {
	t.Helper()
	if got.status != http.StatusOK {
		t.Fatalf("status = %d: %s", got.status, got.body)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if v := got.header.Get(k); v != want {
			t.Errorf("%s = %q; want %q", k, v, want)
		}
	}
}

func TestChatStream(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	checkStreamHeaders(t, got)
	s := parseStream(t, got)
	if s.events[0] != ": PING" {
		t.Errorf("first event = %q; want a PING before the first chunk", s.events[0])
	}
	firstData := slices.IndexFunc(s.events, func(e string) bool { return strings.HasPrefix(e, "data: ") })
	lastPing := -1
	for i, e := range s.events {
		if e == ": PING" {
			lastPing = i
		}
	}
	if n := countEvents(s.events, ": PING"); n != 2 || lastPing <= firstData {
		t.Errorf("%d PINGs, last at %d (first data at %d); want one before the data and one among it", n, lastPing, firstData)
	}
	if want := `Hello from fakegateway (gpt-4o-mini). You said: "hello".`; s.text != want {
		t.Errorf("text = %q; want %q", s.text, want)
	}
	if len(s.chunks) < 5 {
		t.Fatalf("%d chunks; want the content in several pieces", len(s.chunks))
	}
	first := s.chunks[0]["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	if first["role"] != "assistant" {
		t.Errorf("first delta = %v; want the role", first)
	}
	if !slices.Equal(s.finish, []string{"stop"}) {
		t.Errorf("finish reasons = %q; want one stop", s.finish)
	}
	usage := s.chunks[len(s.chunks)-1]
	if choices, ok := usage["choices"].([]any); !ok || len(choices) != 0 || usage["usage"] == nil {
		t.Errorf("last chunk = %v; want choices [] with usage", usage)
	}
	if s.events[len(s.events)-1] != "data: [DONE]" {
		t.Errorf("last event = %q; want data: [DONE]", s.events[len(s.events)-1])
	}
	for _, c := range s.chunks {
		if c["object"] != "chat.completion.chunk" || c["id"] != s.chunks[0]["id"] {
			t.Errorf("chunk = %v", c)
		}
	}
}

func countEvents(events []string, e string) int {
	n := 0
	for _, x := range events {
		if x == e {
			n++
		}
	}
	return n
}

func TestChatStreamPingOptions(t *testing.T) {
	off := New(t, WithPing(0))
	got := chat(t, off, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	if bytes.Contains(got.body, []byte(": PING")) {
		t.Errorf("WithPing(0) stream has PING lines")
	}
	if s := parseStream(t, got); s.events[len(s.events)-1] != "data: [DONE]" {
		t.Errorf("no [DONE]")
	}

	every := New(t, WithPing(20*time.Millisecond), WithSlowDelay(150*time.Millisecond))
	got = chat(t, every, `{"model":"fault-slow","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	checkStreamHeaders(t, got)
	s := parseStream(t, got)
	firstData := slices.IndexFunc(s.events, func(e string) bool { return strings.HasPrefix(e, "data: ") })
	if firstData < 3 || countEvents(s.events[:firstData], ": PING") != firstData {
		t.Errorf("events before the first chunk = %q; want several PINGs while waiting", s.events[:max(firstData, 0)])
	}
	if s.events[len(s.events)-1] != "data: [DONE]" || !slices.Equal(s.finish, []string{"stop"}) {
		t.Errorf("slow stream did not finish normally: %q", s.events)
	}
}

func TestChatStreamTools(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}],"stream":true,`+weatherTools+`}`)
	checkStreamHeaders(t, got)
	s := parseStream(t, got)
	if s.args != `{"city":"example","days":42}` {
		t.Errorf("arguments = %q", s.args)
	}
	if !slices.Equal(s.finish, []string{"tool_calls"}) {
		t.Errorf("finish reasons = %q", s.finish)
	}
	var head map[string]any
	for _, c := range s.chunks {
		choices, _ := c["choices"].([]any)
		if len(choices) == 0 {
			continue
		}
		if calls, ok := choices[0].(map[string]any)["delta"].(map[string]any)["tool_calls"].([]any); ok {
			head = calls[0].(map[string]any)
			break
		}
	}
	fn, _ := head["function"].(map[string]any)
	if head["index"] != 0.0 || !strings.HasPrefix(head["id"].(string), "call_") || head["type"] != "function" ||
		fn["name"] != "get_weather" || fn["arguments"] != "" {
		t.Errorf("first tool-call delta = %v", head)
	}
	if s.events[len(s.events)-1] != "data: [DONE]" {
		t.Error("no [DONE]")
	}
}

func TestFaultReplays(t *testing.T) {
	tests := []struct {
		model     string
		stream    bool
		recording string
	}{
		{ModelFault429, false, "upstream-429"},
		{ModelFault429, true, "upstream-429-stream"},
		{ModelFault429Empty, false, "rate-limit-model-request-success-count"},
		{ModelFault429Empty, true, "rate-limit-model-request-success-count"},
		{ModelFault500, false, "upstream-500"},
		{ModelFault500, true, "upstream-500-stream"},
		{ModelFault502HTML, false, "upstream-502html"},
		{ModelFault502HTML, true, "upstream-502html-stream"},
		{ModelFault503CPU, false, "system-cpu-overloaded"},
		{ModelFault503CPU, true, "system-cpu-overloaded"},
		{ModelFault401Upstream, false, "upstream-401"},
		{ModelFaultQuotaToken, false, "token-quota-exhausted"},
		{ModelFaultQuotaUser, false, "user-quota-insufficient"},
		{ModelFaultQuotaUser, true, "user-quota-insufficient"},
		{ModelFaultNotAllowed, false, "model-not-allowed-for-token"},
		{ModelFaultUnpriced, false, "model-unpriced"},
		{ModelFaultTrunc, false, "upstream-trunc"},
		{ModelFaultTrunc, true, "upstream-trunc-stream"},
		{ModelFaultSSEError, true, "upstream-sse-error-midstream"},
	}
	g := New(t)
	for _, tt := range tests {
		name := tt.model
		if tt.stream {
			name += "/stream"
		}
		t.Run(name, func(t *testing.T) {
			got := chat(t, g, `{"model":"`+tt.model+`","messages":[{"role":"user","content":"hello"}],"stream":`+boolJSON(tt.stream)+`}`)
			rec := mustRecording(t, tt.recording)
			if got.status != rec.Status {
				t.Errorf("status = %d; want %d", got.status, rec.Status)
			}
			if !bytes.Equal(got.body, rec.Body) {
				t.Errorf("body = %q; want %q", got.body, rec.Body)
			}
			if a, b := got.header.Get("Content-Type"), rec.Header.Get("Content-Type"); a != b {
				t.Errorf("Content-Type = %q; want %q", a, b)
			}
			if got.header.Get("Retry-After") != "" {
				t.Errorf("Retry-After = %q; new-api does not forward it", got.header.Get("Retry-After"))
			}
		})
	}

	// No stream recording exists for an upstream 401: the body keeps the SSE headers.
	got := chat(t, g, `{"model":"fault-401-upstream","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	if rec := mustRecording(t, "upstream-401"); got.status != 401 || !bytes.Equal(got.body, rec.Body) || got.header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("fault-401-upstream stream: %d %q %s", got.status, got.header.Get("Content-Type"), got.body)
	}
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestFaultError200(t *testing.T) {
	g := New(t)
	for _, stream := range []bool{false, true} {
		got := chat(t, g, `{"model":"fault-error200","messages":[{"role":"user","content":"hello"}],"stream":`+boolJSON(stream)+`}`)
		want := `{"error":{"message":"The model 'fault-error200' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`
		if got.status != http.StatusOK || string(got.body) != want {
			t.Errorf("stream=%v: %d %s; want 200 %s", stream, got.status, got.body, want)
		}
	}
}

func TestFaultSSEErrorPlain(t *testing.T) {
	g := New(t)
	c := decodeCompletion(t, chat(t, g, `{"model":"fault-sse-error","messages":[{"role":"user","content":"hello"}]}`))
	if c.Choices[0].FinishReason != "stop" {
		t.Errorf("plain fault-sse-error = %+v; want a normal reply", c)
	}
}

func TestFaultCut(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"fault-cut","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	if got.status != http.StatusOK {
		t.Fatalf("status = %d", got.status)
	}
	if got.readErr == nil {
		t.Error("stream read ended cleanly; want the connection cut")
	}
	if !bytes.Contains(got.body, []byte(`"role":"assistant"`)) || bytes.Count(got.body, []byte("data: ")) != 3 {
		t.Errorf("body = %q; want the role chunk and two content chunks", got.body)
	}
	if bytes.Contains(got.body, []byte("[DONE]")) || bytes.Contains(got.body, []byte(`"usage"`)) {
		t.Errorf("cut stream has [DONE] or usage: %q", got.body)
	}

	got = chat(t, g, `{"model":"fault-cut","messages":[{"role":"user","content":"hello"}]}`)
	if !errors.Is(got.readErr, io.ErrUnexpectedEOF) {
		t.Errorf("plain read error = %v; want unexpected EOF", got.readErr)
	}
	if got.status != http.StatusOK || len(got.body) == 0 || json.Valid(got.body) {
		t.Errorf("plain: %d %q; want a partial body", got.status, got.body)
	}
	if n := g.Count(RouteChatCompletions); n != 2 {
		t.Errorf("Count = %d; want 2", n)
	}
}

func TestFaultBadJSON(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"fault-badjson","messages":[{"role":"user","content":"hello"}]}`)
	if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json" || json.Valid(got.body) || len(got.body) == 0 {
		t.Errorf("plain: %d %q %q; want 200 application/json with broken JSON", got.status, got.header.Get("Content-Type"), got.body)
	}
	if got.readErr != nil {
		t.Errorf("plain read: %v; want a complete (if broken) body", got.readErr)
	}

	got = chat(t, g, `{"model":"fault-badjson","messages":[{"role":"user","content":"hello"}],"stream":true}`)
	checkStreamHeaders(t, got)
	events := sseEvents(t, got.body)
	broken := 0
	for _, e := range events {
		if d, ok := strings.CutPrefix(e, "data: "); ok && d != "[DONE]" && !json.Valid([]byte(d)) {
			broken++
		}
	}
	if broken != 1 || events[len(events)-1] != "data: [DONE]" {
		t.Errorf("events = %q; want one non-JSON data line, then [DONE]", events)
	}
}

func TestFaultBadJSONContent(t *testing.T) {
	g := New(t)
	got := chat(t, g, `{"model":"fault-badjson-content","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}`)
	if c := decodeCompletion(t, got); json.Valid([]byte(*c.Choices[0].Message.Content)) {
		t.Errorf("content is valid JSON: %q", *c.Choices[0].Message.Content)
	}
	got = chat(t, g, `{"model":"fault-badjson-content","messages":[{"role":"user","content":"x"}],`+weatherTools+`}`)
	if c := decodeCompletion(t, got); json.Valid([]byte(c.Choices[0].Message.ToolCalls[0].Function.Arguments)) {
		t.Errorf("arguments are valid JSON: %q", c.Choices[0].Message.ToolCalls[0].Function.Arguments)
	}
	got = chat(t, g, `{"model":"fault-badjson-content","messages":[{"role":"user","content":"x"}],"stream":true,`+weatherTools+`}`)
	if s := parseStream(t, got); json.Valid([]byte(s.args)) || s.args == "" {
		t.Errorf("streamed arguments = %q; want non-JSON", s.args)
	}
}

func TestFaultSlow(t *testing.T) {
	const delay = 150 * time.Millisecond
	g := New(t, WithSlowDelay(delay))
	for _, stream := range []bool{false, true} {
		start := time.Now()
		got := chat(t, g, `{"model":"fault-slow","messages":[{"role":"user","content":"hello"}],"stream":`+boolJSON(stream)+`}`)
		if elapsed := time.Since(start); elapsed < delay {
			t.Errorf("stream=%v: answered after %v; want at least %v", stream, elapsed, delay)
		}
		if got.status != http.StatusOK {
			t.Errorf("stream=%v: status %d", stream, got.status)
		}
		if stream {
			if s := parseStream(t, got); !slices.Equal(s.finish, []string{"stop"}) {
				t.Errorf("slow stream finish = %q", s.finish)
			}
		} else {
			decodeCompletion(t, got)
		}
	}
}
