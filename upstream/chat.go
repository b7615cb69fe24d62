package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ChatRequest is the body of POST /v1/chat/completions.
type ChatRequest struct {
	Model          string          `json:"model"`
	Messages       []ChatMessage   `json:"messages"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      *int            `json:"max_tokens,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Tools          []ChatTool      `json:"tools,omitempty"`
	ToolChoice     any             `json:"tool_choice,omitempty"`
	Modalities     []string        `json:"modalities,omitempty"`
	Audio          *ChatAudio      `json:"audio,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	StreamOptions  *StreamOptions  `json:"stream_options,omitempty"`
}

// ChatMessage is one message. Content is a string or a []ContentPart; it is
// null only for an assistant message that carries tool calls.
type ChatMessage struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Name       string     `json:"name,omitempty"`
}

// ContentPart is one part of a multi-part message: text or an image.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image given to a vision model: an http(s) or data: URL.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *JSONSchemaFormat `json:"json_schema,omitempty"`
}

// JSONSchemaFormat is a named JSON schema the reply must follow.
type JSONSchemaFormat struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict *bool           `json:"strict,omitempty"`
}

// ChatTool is a function the model may call.
type ChatTool struct {
	Type     string      `json:"type"`
	Function FunctionDef `json:"function"`
}

// FunctionDef describes a callable function.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// ToolCall is a function call made by the model; Arguments is JSON text.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the function name and its JSON-encoded arguments.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// ChatAudio asks for spoken output (gpt-4o-audio-preview).
type ChatAudio struct {
	Voice  string `json:"voice"`
	Format string `json:"format"`
}

// StreamOptions asks for the final usage chunk.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Usage is the token count the gateway reports (and bills).
type Usage struct {
	PromptTokens            int `json:"prompt_tokens"`
	CompletionTokens        int `json:"completion_tokens"`
	TotalTokens             int `json:"total_tokens"`
	CompletionTokensDetails *struct {
		AudioTokens     int `json:"audio_tokens"`
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details,omitempty"`
}

// ChatResponse is a chat.completion, or the same built from a stream.
type ChatResponse struct {
	ID      string       `json:"id"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   *Usage       `json:"usage"`
}

// ChatChoice is one answer.
type ChatChoice struct {
	Index        int            `json:"index"`
	Message      ChatMessageOut `json:"message"`
	FinishReason string         `json:"finish_reason"`
}

// ChatMessageOut is the model's message.
type ChatMessageOut struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Refusal   string          `json:"refusal,omitempty"`
	ToolCalls []ToolCall      `json:"tool_calls,omitempty"`
	Audio     *AudioOut       `json:"audio,omitempty"`
}

// AudioOut is spoken output: base64 audio and its transcript.
type AudioOut struct {
	ID         string `json:"id"`
	Data       string `json:"data"`
	ExpiresAt  int64  `json:"expires_at"`
	Transcript string `json:"transcript"`
}

// Text returns the message content as text: a string, the text parts of a
// part list, or "" for null.
func (m ChatMessageOut) Text() string {
	return contentText(m.Content)
}

func contentText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// First returns the first choice, or an error wrapping ErrMalformedResponse
// when there is none.
func (r *ChatResponse) First() (*ChatChoice, error) {
	if len(r.Choices) == 0 {
		return nil, fmt.Errorf("chat answer has no choices: %w", ErrMalformedResponse)
	}
	return &r.Choices[0], nil
}

// Chat sends a chat completion and waits for the whole answer:
// POST /v1/chat/completions. The request is sent once, never retried.
func (c *Client) Chat(ctx context.Context, req *ChatRequest) (*ChatResponse, error) {
	body := *req
	body.Stream, body.StreamOptions = false, nil
	r, err := jsonRequest(http.MethodPost, "/v1/chat/completions", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	var out ChatResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if _, err := out.First(); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return &out, nil
}

// ChatDelta is what a stream added; Text is all text so far.
type ChatDelta struct {
	Content string // the new piece
	Chars   int    // characters of content received so far
	Text    func() string
}

// chatChunk is one chat.completion.chunk.
type chatChunk struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      string          `json:"role"`
			Content   json.RawMessage `json:"content"`
			ToolCalls []ToolCall      `json:"tool_calls"`
			Audio     *AudioOut       `json:"audio"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage          `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// ChatStream sends a chat completion with stream:true (usage included) and
// builds the whole answer from the stream, calling onDelta (may be nil) as
// content arrives. A stream that is cut, carries an error event, or ends
// without a finish reason (the gateway closes broken upstream streams with a
// made-up usage chunk and [DONE]) gives a *StreamError with the text so far.
func (c *Client) ChatStream(ctx context.Context, req *ChatRequest, onDelta func(ChatDelta)) (*ChatResponse, error) {
	body := *req
	body.Stream = true
	body.StreamOptions = &StreamOptions{IncludeUsage: true}
	r, err := jsonRequest(http.MethodPost, "/v1/chat/completions", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	s, err := c.stream(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer s.Close()
	if s.Plain != nil {
		var out ChatResponse
		if err := json.Unmarshal(s.Plain, &out); err != nil {
			return nil, fmt.Errorf("chat: %w: %v", ErrMalformedResponse, err)
		}
		if _, err := out.First(); err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		return &out, nil
	}
	out, err := readChatStream(ctx, s, onDelta)
	if err != nil {
		return out, fmt.Errorf("chat: %w", err)
	}
	return out, nil
}

func readChatStream(ctx context.Context, s *Stream, onDelta func(ChatDelta)) (*ChatResponse, error) {
	var (
		text     strings.Builder
		out      = &ChatResponse{}
		choice   ChatChoice
		calls    []ToolCall
		done     bool
		audio    AudioOut
		hasAudio bool
	)
	choice.Message.Role = "assistant"
	textFn := func() string { return text.String() }
	cut := func(reason string, err error) (*ChatResponse, error) {
		return out, &StreamError{Reason: reason, Partial: text.String(), Err: err}
	}
	for {
		_, data, err := s.nextData(ctx, textFn)
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, err
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var ch chatChunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return cut("unreadable event", fmt.Errorf("%w: %v", ErrMalformedResponse, err))
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			apiErr := decodeError(http.StatusOK, http.Header{}, []byte(data))
			apiErr.Message = s.c.scrubString(apiErr.Message)
			return cut("error event inside the stream", apiErr)
		}
		if ch.ID != "" && out.ID == "" {
			out.ID = ch.ID
		}
		if ch.Model != "" {
			out.Model = ch.Model
		}
		if ch.Usage != nil {
			out.Usage = ch.Usage
		}
		for _, c := range ch.Choices {
			if c.Index != 0 {
				continue // n > 1 is never requested
			}
			if piece := contentText(c.Delta.Content); piece != "" {
				text.WriteString(piece)
				if onDelta != nil {
					onDelta(ChatDelta{Content: piece, Chars: text.Len(), Text: textFn})
				}
			}
			for _, tc := range c.Delta.ToolCalls {
				calls = mergeToolCall(calls, tc)
			}
			if c.Delta.Audio != nil {
				hasAudio = true
				audio.Data += c.Delta.Audio.Data
				audio.Transcript += c.Delta.Audio.Transcript
				if c.Delta.Audio.ID != "" {
					audio.ID = c.Delta.Audio.ID
				}
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				choice.FinishReason = *c.FinishReason
			}
		}
	}
	if !done {
		return cut("the stream ended without [DONE]", io.ErrUnexpectedEOF)
	}
	if choice.FinishReason == "" {
		return cut("no finish reason before [DONE] (the gateway closes broken upstream streams this way)", nil)
	}
	content, _ := json.Marshal(text.String())
	choice.Message.Content = content
	choice.Message.ToolCalls = calls
	if hasAudio {
		choice.Message.Audio = &audio
	}
	out.Choices = []ChatChoice{choice}
	return out, nil
}

// mergeToolCall folds a streamed tool-call fragment into the list: the first
// fragment of a call carries its id and name, later ones only argument text.
func mergeToolCall(calls []ToolCall, frag ToolCall) []ToolCall {
	idx := len(calls)
	if frag.Index != nil {
		idx = *frag.Index
	} else if frag.ID == "" && len(calls) > 0 {
		idx = len(calls) - 1
	}
	for len(calls) <= idx {
		calls = append(calls, ToolCall{Type: "function"})
	}
	tc := &calls[idx]
	if frag.ID != "" {
		tc.ID = frag.ID
	}
	if frag.Type != "" {
		tc.Type = frag.Type
	}
	if frag.Function.Name != "" {
		tc.Function.Name += frag.Function.Name
	}
	tc.Function.Arguments += frag.Function.Arguments
	return calls
}

// IsStreamCut reports whether err is a cut stream.
func IsStreamCut(err error) bool { return errors.Is(err, ErrStreamCut) }
