package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

type chatMessage struct {
	Role    string `json:"role" jsonschema:"enum=system,enum=user,enum=assistant"`
	Content string `json:"content"`
}

type functionDef struct {
	Name        string         `json:"name" jsonschema_description:"Letters, digits, _ or -."`
	Description string         `json:"description,omitempty"`
	Parameters  map[string]any `json:"parameters,omitempty" jsonschema_description:"Object schema of the arguments."`
}

type chatInput struct {
	Prompt      string         `json:"prompt,omitempty" jsonschema_description:"The user message. Give prompt or messages."`
	Messages    []chatMessage  `json:"messages,omitempty" jsonschema_description:"A whole conversation instead of prompt."`
	System      string         `json:"system,omitempty" jsonschema_description:"System instructions."`
	Model       string         `json:"model,omitempty" jsonschema_description:"From list_models; default WENWEN_CHAT_MODEL."`
	Temperature *float64       `json:"temperature,omitempty" jsonschema:"minimum=0,maximum=2"`
	MaxTokens   *int           `json:"max_tokens,omitempty" jsonschema:"minimum=1" jsonschema_description:"Most tokens in the answer."`
	JSONSchema  map[string]any `json:"json_schema,omitempty" jsonschema_description:"Object schema the answer must follow; parsed into json."`
	Tools       []functionDef  `json:"tools,omitempty" jsonschema_description:"Functions the model may call; see tool_calls."`
	Images      []string       `json:"images,omitempty" jsonschema:"maxItems=10" jsonschema_description:"For the last user message: paths, URLs or data: URLs."`
}

var reFuncName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (in *chatInput) validate() error {
	switch {
	case strings.TrimSpace(in.Prompt) == "" && len(in.Messages) == 0:
		return userErrorf("give prompt (the user message) or messages")
	case in.Prompt != "" && len(in.Messages) > 0:
		return userErrorf("give prompt or messages, not both")
	}
	for i, m := range in.Messages {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return userErrorf("messages[%d].role is %q: use system, user or assistant", i, m.Role)
		}
	}
	if in.Temperature != nil && (*in.Temperature < 0 || *in.Temperature > 2) {
		return userErrorf("temperature must be between 0 and 2")
	}
	if in.MaxTokens != nil && *in.MaxTokens < 1 {
		return userErrorf("max_tokens must be at least 1")
	}
	if in.JSONSchema != nil {
		if t, _ := in.JSONSchema["type"].(string); t != "object" {
			if _, wrapped := in.JSONSchema["schema"].(map[string]any); !wrapped {
				return userErrorf(`json_schema must be a JSON schema with "type": "object" at its root`)
			}
		}
	}
	for i, f := range in.Tools {
		if !reFuncName.MatchString(f.Name) {
			return userErrorf("tools[%d].name %q: use 1 to 64 letters, digits, _ or -", i, f.Name)
		}
	}
	return nil
}

type toolCallOut struct {
	ID           string         `json:"id,omitempty"`
	Name         string         `json:"name"`
	Arguments    map[string]any `json:"arguments"`
	ArgumentsRaw string         `json:"arguments_raw,omitempty" jsonschema_description:"The model's argument text when it was not a JSON object."`
}

type usageOut struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatOutput struct {
	Model        string        `json:"model"`
	Text         string        `json:"text"`
	JSON         any           `json:"json,omitempty" jsonschema_description:"The parsed answer when json_schema was given."`
	ToolCalls    []toolCallOut `json:"tool_calls,omitempty"`
	FinishReason string        `json:"finish_reason"`
	Usage        usageOut      `json:"usage"`
}

func chatTool(d *Deps) Tool {
	t := define("chat",
		"Chat with any gateway model (GPT, Claude, Gemini, DeepSeek...), with structured output (json_schema), function calling (tools) and images. Streams, with progress. Costs tokens.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in chatInput) (Result[chatOutput], error) {
			req := buildChatRequest(in, d.Config.ChatModel)
			if err := attachImages(ctx, d, req, in.Images); err != nil { // images.go
				return Result[chatOutput]{}, err
			}
			resp, err := d.Client.ChatStream(ctx, req, func(delta upstream.ChatDelta) {
				call.Progress.Report(float64(delta.Chars), 0, fmt.Sprintf("received %d characters", delta.Chars))
			})
			if err != nil {
				return Result[chatOutput]{}, err
			}
			return chatResult(req, resp, in.JSONSchema != nil)
		})
	t.Toolset = "chat"
	return t
}

func buildChatRequest(in chatInput, defaultModel string) *upstream.ChatRequest {
	req := &upstream.ChatRequest{Model: in.Model, Temperature: in.Temperature, MaxTokens: in.MaxTokens}
	if req.Model == "" {
		req.Model = defaultModel
	}
	if in.System != "" {
		req.Messages = append(req.Messages, upstream.ChatMessage{Role: "system", Content: in.System})
	}
	for _, m := range in.Messages {
		req.Messages = append(req.Messages, upstream.ChatMessage{Role: m.Role, Content: m.Content})
	}
	if in.Prompt != "" {
		req.Messages = append(req.Messages, upstream.ChatMessage{Role: "user", Content: in.Prompt})
	}
	if in.JSONSchema != nil {
		name, schemaDoc := "response", in.JSONSchema
		if inner, ok := in.JSONSchema["schema"].(map[string]any); ok {
			schemaDoc = inner
			if n, ok := in.JSONSchema["name"].(string); ok && n != "" {
				name = n
			}
		}
		raw, _ := json.Marshal(schemaDoc)
		req.ResponseFormat = &upstream.ResponseFormat{Type: "json_schema", JSONSchema: &upstream.JSONSchemaFormat{Name: name, Schema: raw}}
	}
	for _, f := range in.Tools {
		var params json.RawMessage
		if f.Parameters != nil {
			params, _ = json.Marshal(f.Parameters)
		} else {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		req.Tools = append(req.Tools, upstream.ChatTool{Type: "function", Function: upstream.FunctionDef{Name: f.Name, Description: f.Description, Parameters: params}})
	}
	return req
}

func chatResult(req *upstream.ChatRequest, resp *upstream.ChatResponse, wantJSON bool) (Result[chatOutput], error) {
	choice, err := resp.First()
	if err != nil {
		return Result[chatOutput]{}, err
	}
	out := chatOutput{
		Model:        resp.Model,
		Text:         choice.Message.Text(),
		FinishReason: choice.FinishReason,
	}
	if out.Model == "" {
		out.Model = req.Model
	}
	if resp.Usage != nil {
		out.Usage = usageOut{resp.Usage.PromptTokens, resp.Usage.CompletionTokens, resp.Usage.TotalTokens}
	}
	for _, tc := range choice.Message.ToolCalls {
		c := toolCallOut{ID: tc.ID, Name: tc.Function.Name}
		if err := json.Unmarshal([]byte(strings.TrimSpace(tc.Function.Arguments)), &c.Arguments); err != nil || c.Arguments == nil {
			c.Arguments = map[string]any{}
			if strings.TrimSpace(tc.Function.Arguments) != "" {
				c.ArgumentsRaw = tc.Function.Arguments
			}
		}
		out.ToolCalls = append(out.ToolCalls, c)
	}
	if wantJSON && len(out.ToolCalls) == 0 {
		v, err := parseJSONReply(out.Text)
		if err != nil {
			return Result[chatOutput]{}, userErrorf("the model's answer is not valid JSON for json_schema (%v); try a model that supports structured output (gpt-4o, gpt-4.1...). Raw answer: %s", err, truncate(out.Text, 4000))
		}
		out.JSON = v
	}
	return Result[chatOutput]{Value: out, Text: chatText(out)}, nil
}

// parseJSONReply parses a structured-output answer, allowing the code fence
// some models wrap around it.
func parseJSONReply(s string) (any, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```json")
		s = strings.TrimPrefix(s, "```")
		s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("extra text after the JSON value")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("the answer is a JSON %T, not an object", v)
	}
	return v, nil
}

func chatText(out chatOutput) string {
	var b strings.Builder
	switch {
	case len(out.ToolCalls) > 0:
		for _, c := range out.ToolCalls {
			args, _ := json.Marshal(c.Arguments)
			fmt.Fprintf(&b, "tool call %s(%s)\n", c.Name, args)
		}
		if out.Text != "" {
			b.WriteString(out.Text)
			b.WriteString("\n")
		}
	case out.JSON != nil:
		j, _ := json.Marshal(out.JSON)
		b.Write(j)
		b.WriteString("\n")
	default:
		b.WriteString(out.Text)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[%s, finish %s, %d tokens]", out.Model, out.FinishReason, out.Usage.TotalTokens)
	return b.String()
}
