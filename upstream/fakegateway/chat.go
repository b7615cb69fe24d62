package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// chatPieceRunes is how many characters each streamed content delta carries,
// like the recorded upstream.
const chatPieceRunes = 11

// chatRequest is the part of a chat completion request the gateway checks.
// Field types are strict: a value of the wrong JSON type is rejected.
type chatRequest struct {
	Model               string           `json:"model"`
	Messages            []chatMessage    `json:"messages"`
	Stream              bool             `json:"stream"`
	StreamOptions       *streamOptions   `json:"stream_options"`
	MaxTokens           *float64         `json:"max_tokens"`
	MaxCompletionTokens *float64         `json:"max_completion_tokens"`
	Temperature         *float64         `json:"temperature"`
	Tools               []chatTool       `json:"tools"`
	ToolChoice          json.RawMessage  `json:"tool_choice"`
	ResponseFormat      *responseFormat  `json:"response_format"`
	Modalities          []string         `json:"modalities"`
	Audio               *chatAudioOption `json:"audio"`
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []any           `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
}

type streamOptions struct {
	IncludeUsage *bool `json:"include_usage"`
}

type chatTool struct {
	Type     string        `json:"type"`
	Function *toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema"`
}

type jsonSchema struct {
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Strict      *bool           `json:"strict"`
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     *string   `json:"text"`
	ImageURL *imageURL `json:"image_url"`
}

type imageURL struct {
	URL    *string `json:"url"`
	Detail string  `json:"detail"`
}

// requestError is a rejected request: either new-api's own error
// (upstream false) or an upstream 400 relayed by it.
type requestError struct {
	upstream bool
	param    string
	code     any
	message  string
}

func gatewayReject(message string) *requestError {
	return &requestError{code: "invalid_request", message: message}
}

func upstreamReject(param string, code any, format string, args ...any) *requestError {
	return &requestError{upstream: true, param: param, code: code, message: fmt.Sprintf(format, args...)}
}

func (g *Gateway) writeRequestError(w http.ResponseWriter, e *requestError) {
	if e.upstream {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", e.param, e.code, e.message)
		return
	}
	g.WriteGatewayError(w, http.StatusBadRequest, fmt.Sprint(e.code), e.message)
}

// chatCompletions serves POST /v1/chat/completions.
func (g *Gateway) chatCompletions(w http.ResponseWriter, r *http.Request) {
	if !g.CheckBearer(w, r) {
		return
	}
	var raw json.RawMessage
	if !ReadJSON(w, r, &raw) {
		return
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		g.Replay(w, "body-not-json")
		return
	}
	model, rerr := modelField(fields)
	if rerr != nil {
		g.writeRequestError(w, rerr)
		return
	}
	if !g.CheckModel(w, model) {
		return
	}

	var req chatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		if ute, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			g.writeRequestError(w, gatewayReject(fmt.Sprintf(
				"Invalid request: field %s must be %s, got %s", ute.Field, jsonTypeName(ute.Type), ute.Value)))
			return
		}
		g.Replay(w, "body-not-json")
		return
	}
	req.Model = model
	if rerr := validateChat(&req); rerr != nil {
		g.writeRequestError(w, rerr)
		return
	}

	if g.ReplayFault(w, model, req.Stream) {
		return
	}
	if req.wantsAudio() {
		g.chatAudio(w, &req) // audio.go
		return
	}
	if req.Stream {
		switch model {
		case ModelFaultTrunc:
			g.Replay(w, "upstream-trunc-stream")
			return
		case ModelFaultSSEError:
			g.Replay(w, "upstream-sse-error-midstream")
			return
		}
	}

	if g.videoChat(w, r, &req) { // video.go: sora_video2 streams progress and a link
		return
	}
	if g.imageChat(w, r, &req) { // images.go: image models answer a Markdown link or data: URI
		return
	}
	reply := g.planReply(&req)
	if req.Stream {
		g.streamChat(w, r, &req, reply)
		return
	}
	if model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}
	writeRelayed(w, model, reply.completion())
}

// modelField reads "model": absent, null and "" all give "".
func modelField(fields map[string]json.RawMessage) (string, *requestError) {
	raw, ok := fields["model"]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var model string
	if err := json.Unmarshal(raw, &model); err != nil {
		return "", gatewayReject(fmt.Sprintf("Invalid request: field model must be a string, got %s", raw))
	}
	return model, nil
}

// jsonTypeName names a Go type by the JSON type it decodes from.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64, reflect.Uint:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return t.String()
}

const validRoles = "'system', 'user', 'assistant', 'tool', and 'developer'"

// validName reports whether s matches ^[a-zA-Z0-9_-]{1,64}$, OpenAI's rule for
// function and schema names.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// dataImagePayload returns the base64 part of "data:image/<subtype>;base64,<payload>".
func dataImagePayload(u string) (string, bool) {
	rest, ok := strings.CutPrefix(u, "data:image/")
	if !ok {
		return "", false
	}
	subtype, payload, ok := strings.Cut(rest, ";base64,")
	if !ok || subtype == "" {
		return "", false
	}
	for _, c := range subtype {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".+-", c)) {
			return "", false
		}
	}
	return payload, true
}

// validateChat applies the checks new-api and an OpenAI upstream make.
func validateChat(req *chatRequest) *requestError {
	if len(req.Messages) == 0 {
		return gatewayReject("field messages is required")
	}
	for i, m := range req.Messages {
		if rerr := validateMessage(i, m); rerr != nil {
			return rerr
		}
	}
	if req.StreamOptions != nil && !req.Stream {
		return upstreamReject("stream_options", nil,
			"The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	if t := req.Temperature; t != nil {
		switch {
		case *t < 0:
			return upstreamReject("temperature", "decimal_below_min_value",
				"Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got %v instead.", *t)
		case *t > 2:
			return upstreamReject("temperature", "decimal_above_max_value",
				"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got %v instead.", *t)
		}
	}
	for _, limit := range []struct {
		name string
		v    *float64
	}{{"max_tokens", req.MaxTokens}, {"max_completion_tokens", req.MaxCompletionTokens}} {
		name, v := limit.name, limit.v
		switch {
		case v == nil:
		case *v != float64(int64(*v)):
			return upstreamReject(name, "invalid_type",
				"Invalid type for '%s': expected an integer, but got a decimal number instead.", name)
		case *v < 1:
			return upstreamReject(name, "integer_below_min_value",
				"Invalid '%s': integer below minimum value. Expected a value >= 1, but got %v instead.", name, *v)
		}
	}
	if rerr := validateTools(req); rerr != nil {
		return rerr
	}
	return validateResponseFormat(req)
}

func validateMessage(i int, m chatMessage) *requestError {
	switch m.Role {
	case "system", "user", "assistant", "tool", "developer":
	case "":
		return upstreamReject(fmt.Sprintf("messages[%d].role", i), "missing_required_parameter",
			"Missing required parameter: 'messages[%d].role'.", i)
	default:
		return upstreamReject(fmt.Sprintf("messages[%d].role", i), "invalid_value",
			"Invalid value: '%s'. Supported values are: %s.", m.Role, validRoles)
	}
	if m.Role == "tool" && m.ToolCallID == "" {
		return upstreamReject(fmt.Sprintf("messages[%d].tool_call_id", i), "missing_required_parameter",
			"Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.")
	}
	param := fmt.Sprintf("messages[%d].content", i)
	content := bytes.TrimSpace(m.Content)
	switch {
	case len(content) == 0 || string(content) == "null":
		if m.Role == "assistant" && len(m.ToolCalls) > 0 {
			return nil
		}
		return upstreamReject(param, "invalid_type",
			"Invalid value for 'content': expected a string, got null (only an assistant message with tool_calls may have null content).")
	case content[0] == '"':
		return nil
	case content[0] != '[':
		return upstreamReject(param, "invalid_type",
			"Invalid type for '%s': expected one of a string or array of objects, but got %s instead.", param, jsonKind(content))
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(content, &parts); err != nil {
		return upstreamReject(param, "invalid_type", "Invalid type for '%s': %v.", param, err)
	}
	if len(parts) == 0 {
		return upstreamReject(param, "empty_array",
			"Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array instead.", param)
	}
	for j, rawPart := range parts {
		pp := fmt.Sprintf("%s[%d]", param, j)
		var p contentPart
		if err := json.Unmarshal(rawPart, &p); err != nil {
			return upstreamReject(pp, "invalid_type",
				"Invalid type for '%s': expected an object with 'type' and its fields, but got %s instead.", pp, jsonKind(rawPart))
		}
		switch p.Type {
		case "text":
			if p.Text == nil {
				return upstreamReject(pp+".text", "missing_required_parameter", "Missing required parameter: '%s.text'.", pp)
			}
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == nil {
				return upstreamReject(pp+".image_url.url", "missing_required_parameter",
					"Missing required parameter: '%s.image_url.url'.", pp)
			}
			if m.Role != "user" {
				return upstreamReject(fmt.Sprintf("messages[%d]", i), "invalid_value",
					"Image URLs are only allowed for messages with role 'user', but this message with role '%s' contains an image URL.", m.Role)
			}
			if msg := checkImageURL(*p.ImageURL.URL); msg != "" {
				return upstreamReject(pp+".image_url.url", "invalid_image_url", "Invalid '%s.image_url.url': %s", pp, msg)
			}
			switch p.ImageURL.Detail {
			case "", "auto", "low", "high":
			default:
				return upstreamReject(pp+".image_url.detail", "invalid_value",
					"Invalid value: '%s'. Supported values are: 'auto', 'low', and 'high'.", p.ImageURL.Detail)
			}
		case "":
			return upstreamReject(pp+".type", "missing_required_parameter", "Missing required parameter: '%s.type'.", pp)
		default:
			return upstreamReject(pp+".type", "invalid_value",
				"Invalid value: '%s'. Supported values are: 'text' and 'image_url'.", p.Type)
		}
	}
	return nil
}

// checkImageURL accepts http(s) URLs and base64 data URLs of an image type;
// otherwise it says what is wrong.
func checkImageURL(u string) string {
	lower := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://"):
		if len(u) <= len("https://") || strings.ContainsAny(u, " \t\n") {
			return "expected a valid HTTP(S) URL."
		}
		return ""
	case strings.HasPrefix(lower, "data:"):
		payload, ok := dataImagePayload(u)
		if !ok {
			return "expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,…')."
		}
		if payload == "" {
			return "the base64 image data is empty."
		}
		if _, err := base64.StdEncoding.DecodeString(payload); err != nil {
			return "the image data is not valid base64."
		}
		return ""
	}
	scheme, _, _ := strings.Cut(u, ":")
	if len(scheme) > 16 {
		scheme = scheme[:16] + "…"
	}
	return fmt.Sprintf("unsupported URL %q; expected an http(s):// URL or a data:image/…;base64, URL.", scheme)
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func validateTools(req *chatRequest) *requestError {
	for i, t := range req.Tools {
		p := fmt.Sprintf("tools[%d]", i)
		switch {
		case t.Type == "":
			return upstreamReject(p+".type", "missing_required_parameter", "Missing required parameter: '%s.type'.", p)
		case t.Type != "function":
			return upstreamReject(p+".type", "invalid_value", "Invalid value: '%s'. Supported values are: 'function'.", t.Type)
		case t.Function == nil:
			return upstreamReject(p+".function", "missing_required_parameter", "Missing required parameter: '%s.function'.", p)
		case t.Function.Name == "":
			return upstreamReject(p+".function.name", "missing_required_parameter",
				"Missing required parameter: '%s.function.name'.", p)
		case !validName(t.Function.Name):
			return upstreamReject(p+".function.name", "invalid_value",
				"Invalid '%s.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.", p)
		}
		if params := bytes.TrimSpace(t.Function.Parameters); len(params) > 0 && string(params) != "null" && params[0] != '{' {
			return upstreamReject(p+".function.parameters", "invalid_type",
				"Invalid type for '%s.function.parameters': expected an object, but got %s instead.", p, jsonKind(params))
		}
	}

	choice := bytes.TrimSpace(req.ToolChoice)
	if len(choice) == 0 || string(choice) == "null" {
		return nil
	}
	var name string
	switch choice[0] {
	case '"':
		var s string
		_ = json.Unmarshal(choice, &s)
		switch s {
		case "none":
			return nil
		case "auto", "required":
		default:
			return upstreamReject("tool_choice", "invalid_value",
				"Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", s)
		}
	case '{':
		var c struct {
			Type     string `json:"type"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if err := json.Unmarshal(choice, &c); err != nil || c.Type != "function" || c.Function == nil || c.Function.Name == "" {
			return upstreamReject("tool_choice", "invalid_value",
				`Invalid value for 'tool_choice': expected "none", "auto", "required" or {"type":"function","function":{"name":…}}.`)
		}
		name = c.Function.Name
	default:
		return upstreamReject("tool_choice", "invalid_type",
			"Invalid type for 'tool_choice': expected a string or an object, but got %s instead.", jsonKind(choice))
	}
	if len(req.Tools) == 0 {
		return upstreamReject("tool_choice", nil,
			"Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
	}
	if name != "" && toolIndex(req.Tools, name) < 0 {
		return upstreamReject("tool_choice", "invalid_value",
			"Invalid value for 'tool_choice': function '%s' is not among the 'tools'.", name)
	}
	return nil
}

func toolIndex(tools []chatTool, name string) int {
	for i, t := range tools {
		if t.Function.Name == name {
			return i
		}
	}
	return -1
}

func validateResponseFormat(req *chatRequest) *requestError {
	rf := req.ResponseFormat
	if rf == nil {
		return nil
	}
	switch rf.Type {
	case "text":
	case "json_object":
		for _, m := range req.Messages {
			if strings.Contains(strings.ToLower(messageText(m)), "json") {
				return nil
			}
		}
		return upstreamReject("messages", nil,
			"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
	case "json_schema":
		js := rf.JSONSchema
		switch {
		case js == nil:
			return upstreamReject("response_format.json_schema", "missing_required_parameter",
				"Missing required parameter: 'response_format.json_schema'.")
		case js.Name == "":
			return upstreamReject("response_format.json_schema.name", "missing_required_parameter",
				"Missing required parameter: 'response_format.json_schema.name'.")
		case !validName(js.Name):
			return upstreamReject("response_format.json_schema.name", "invalid_value",
				"Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.")
		}
		schema := bytes.TrimSpace(js.Schema)
		if len(schema) == 0 || string(schema) == "null" {
			return upstreamReject("response_format.json_schema.schema", "missing_required_parameter",
				"Missing required parameter: 'response_format.json_schema.schema'.")
		}
		if schema[0] != '{' {
			return upstreamReject("response_format.json_schema.schema", "invalid_type",
				"Invalid type for 'response_format.json_schema.schema': expected an object, but got %s instead.", jsonKind(schema))
		}
	case "":
		return upstreamReject("response_format.type", "missing_required_parameter",
			"Missing required parameter: 'response_format.type'.")
	default:
		return upstreamReject("response_format.type", "invalid_value",
			"Invalid value: '%s'. Supported values are: 'json_object', 'json_schema', and 'text'.", rf.Type)
	}
	return nil
}

// messageText is the text of a message: its string content or its text parts
// joined by spaces. It assumes a validated message.
func messageText(m chatMessage) string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []contentPart
	_ = json.Unmarshal(m.Content, &parts)
	var texts []string
	for _, p := range parts {
		if p.Type == "text" && p.Text != nil {
			texts = append(texts, *p.Text)
		}
	}
	return strings.Join(texts, " ")
}

// chatReply is what the fake model answers: text content or one tool call.
type chatReply struct {
	id, model string
	created   int64

	content  string
	toolCall *toolCall

	promptTokens int
}

func (c chatReply) finishReason() string {
	if c.toolCall != nil {
		return "tool_calls"
	}
	return "stop"
}

func (c chatReply) usage() chatUsage {
	out := c.content
	if c.toolCall != nil {
		out = c.toolCall.Function.Arguments
	}
	completion := max(1, len(strings.Fields(out)))
	return chatUsage{CompletionTokens: completion, PromptTokens: c.promptTokens, TotalTokens: completion + c.promptTokens}
}

type chatUsage struct {
	CompletionTokens int `json:"completion_tokens"`
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type toolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function toolCallFunction `json:"function"`
}

type toolCallFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// chatCompletion is a non-stream reply in the recorded key order.
type chatCompletion struct {
	Choices           []chatChoice `json:"choices"`
	Created           int64        `json:"created"`
	ID                string       `json:"id"`
	Model             string       `json:"model"`
	Object            string       `json:"object"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Usage             chatUsage    `json:"usage"`
}

type chatChoice struct {
	FinishReason string           `json:"finish_reason"`
	Index        int              `json:"index"`
	Logprobs     any              `json:"logprobs"`
	Message      chatReplyMessage `json:"message"`
}

type chatReplyMessage struct {
	Content   *string    `json:"content"`
	Role      string     `json:"role"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

func (c chatReply) completion() chatCompletion {
	msg := chatReplyMessage{Role: "assistant"}
	if c.toolCall != nil {
		msg.ToolCalls = []toolCall{*c.toolCall}
	} else {
		msg.Content = &c.content
	}
	return chatCompletion{
		Choices:           []chatChoice{{FinishReason: c.finishReason(), Message: msg}},
		Created:           c.created,
		ID:                c.id,
		Model:             c.model,
		Object:            "chat.completion",
		SystemFingerprint: "fp_fakegateway",
		Usage:             c.usage(),
	}
}

// planReply decides the deterministic answer: a tool call when tools are
// offered (and tool_choice is not "none"), JSON when a response_format asks
// for it, text otherwise.
func (g *Gateway) planReply(req *chatRequest) chatReply {
	created := time.Now().Unix()
	seq := g.nextSeq()
	reply := chatReply{
		id:      fmt.Sprintf("chatcmpl-%d%06d", created, seq),
		model:   req.Model,
		created: created,
	}
	lastUser := ""
	for _, m := range req.Messages {
		text := messageText(m)
		reply.promptTokens += len(strings.Fields(text))
		if m.Role == "user" {
			lastUser = text
		}
	}
	reply.promptTokens = max(1, reply.promptTokens)
	badContent := req.Model == ModelFaultBadJSONContent

	if tool := chosenTool(req); tool != nil {
		args := []byte("{}")
		if p := bytes.TrimSpace(tool.Parameters); len(p) > 0 && string(p) != "null" {
			args = ExampleFromSchema(p)
		}
		if badContent {
			args = []byte(`{"oops": this is not JSON`)
		}
		reply.toolCall = &toolCall{
			ID:       fmt.Sprintf("call_fakegw%013d", seq),
			Type:     "function",
			Function: toolCallFunction{Name: tool.Name, Arguments: string(args)},
		}
		return reply
	}

	greeting := fmt.Sprintf("Hello from fakegateway (%s). You said: %q.", req.Model, lastUser)
	switch {
	case badContent && req.ResponseFormat != nil && req.ResponseFormat.Type != "text":
		reply.content = "Sure! Here is the JSON you asked for: {not json"
	case req.ResponseFormat != nil && req.ResponseFormat.Type == "json_schema":
		reply.content = string(ExampleFromSchema(req.ResponseFormat.JSONSchema.Schema))
	case req.ResponseFormat != nil && req.ResponseFormat.Type == "json_object":
		b, _ := json.Marshal(map[string]string{"reply": greeting})
		reply.content = string(b)
	default:
		reply.content = chatText(req.Model, greeting)
	}
	return reply
}

// chosenTool is the function the fake model calls, or nil for a text answer.
func chosenTool(req *chatRequest) *toolFunction {
	if len(req.Tools) == 0 {
		return nil
	}
	choice := bytes.TrimSpace(req.ToolChoice)
	if string(choice) == `"none"` {
		return nil
	}
	var c struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if len(choice) > 0 && choice[0] == '{' && json.Unmarshal(choice, &c) == nil {
		if i := toolIndex(req.Tools, c.Function.Name); i >= 0 {
			return req.Tools[i].Function
		}
	}
	return req.Tools[0].Function
}

// chatText is the text answer. Video and image models answer through chat the
// way wenwen's channels do: a Markdown video link (as in chat-sora-video2) or
// a Markdown data-URI image (new-api's rendering of Gemini inline images).
func chatText(model, greeting string) string {
	switch model {
	case "sora_video2", "sora-2", "veo3":
		return "[下载视频](https://example.invalid/v.mp4)\n\n"
	case "gpt-4o-image", "gemini-2.5-flash-image-preview":
		return "![image](data:image/png;base64," + base64.StdEncoding.EncodeToString(tinyPNG()) + ")"
	}
	return greeting
}

// tinyPNG is a valid 1×1 PNG.
func tinyPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // cannot fail on an in-memory buffer
	return buf.Bytes()
}

// chatChunk is a chat.completion.chunk in the recorded key order.
type chatChunk struct {
	Choices           []chunkChoice `json:"choices"`
	Created           int64         `json:"created"`
	ID                string        `json:"id"`
	Model             string        `json:"model"`
	Object            string        `json:"object"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
	Usage             *chatUsage    `json:"usage,omitempty"`
}

type chunkChoice struct {
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
	Index        int        `json:"index"`
	Logprobs     any        `json:"logprobs"`
}

type chunkDelta struct {
	Content   *string         `json:"content,omitempty"`
	Role      string          `json:"role,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int               `json:"index"`
	ID       string            `json:"id,omitempty"`
	Type     string            `json:"type,omitempty"`
	Function toolFunctionDelta `json:"function"`
}

type toolFunctionDelta struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

func (c chatReply) chunk(delta chunkDelta, finish *string) chatChunk {
	return chatChunk{
		Choices:           []chunkChoice{{Delta: delta, FinishReason: finish}},
		Created:           c.created,
		ID:                c.id,
		Model:             c.model,
		Object:            "chat.completion.chunk",
		SystemFingerprint: "fp_fakegateway",
	}
}

// streamChat writes the reply as new-api relays an OpenAI stream: a role
// chunk, content (or tool-call argument) pieces, a finish chunk, a usage-only
// chunk and [DONE].
func (g *Gateway) streamChat(w http.ResponseWriter, r *http.Request, req *chatRequest, reply chatReply) {
	var s *Stream
	if req.Model == ModelFaultSlow {
		// new-api sends nothing, not even headers, until there is data or a ping.
		if g.pingEvery > 0 {
			s = g.NewStream(w, r)
			defer s.Close()
		}
		if !g.SlowWait(r.Context()) {
			return
		}
	}
	if s == nil {
		s = g.NewStream(w, r)
		defer s.Close()
	}

	empty := ""
	s.Data(reply.chunk(chunkDelta{Content: &empty, Role: "assistant"}, nil))

	var deltas []chunkDelta
	if tc := reply.toolCall; tc != nil {
		deltas = append(deltas, chunkDelta{ToolCalls: []toolCallDelta{{
			ID: tc.ID, Type: tc.Type, Function: toolFunctionDelta{Name: tc.Function.Name},
		}}})
		for _, piece := range splitRunes(tc.Function.Arguments, chatPieceRunes) {
			deltas = append(deltas, chunkDelta{ToolCalls: []toolCallDelta{{Function: toolFunctionDelta{Arguments: piece}}}})
		}
	} else {
		for _, piece := range splitRunes(reply.content, chatPieceRunes) {
			deltas = append(deltas, chunkDelta{Content: &piece})
		}
	}

	switch req.Model {
	case ModelFaultCut:
		for _, d := range deltas[:min(2, len(deltas))] {
			s.Data(reply.chunk(d, nil))
		}
		s.Cut() // drop the connection: no usage, no [DONE]
	case ModelFaultBadJSON:
		s.DataRaw(`{"choices":[{"delta":{"content":"Hel`)
		s.Done()
		return
	}

	for i, d := range deltas {
		if i == len(deltas)/2 {
			s.MiddlePing()
		}
		s.Data(reply.chunk(d, nil))
		if s.Err() != nil {
			return
		}
	}
	if len(deltas) == 0 {
		s.MiddlePing()
	}
	finish := reply.finishReason()
	usage := reply.usage()
	last := reply.chunk(chunkDelta{}, &finish)
	last.Usage = &usage
	s.Data(last)
	s.Data(chatChunk{
		Choices: []chunkChoice{},
		Created: reply.created,
		ID:      reply.id,
		Model:   reply.model,
		Object:  "chat.completion.chunk",
		Usage:   &usage,
	})
	s.Done()
}

// splitRunes cuts s into pieces of at most n characters.
func splitRunes(s string, n int) []string {
	var pieces []string
	for len(s) > 0 {
		i, count := 0, 0
		for i < len(s) && count < n {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			count++
		}
		pieces = append(pieces, s[:i])
		s = s[i:]
	}
	return pieces
}
