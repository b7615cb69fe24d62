package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// MessagesRequest is the body of POST /v1/messages (the Anthropic Messages
// API). System is a string or a []AnthropicBlock (needed for cache_control).
type MessagesRequest struct {
	Model       string             `json:"model"`
	MaxTokens   int                `json:"max_tokens"`
	System      any                `json:"system,omitempty"`
	Messages    []AnthropicMessage `json:"messages"`
	Thinking    *AnthropicThinking `json:"thinking,omitempty"`
	Temperature *float64           `json:"temperature,omitempty"`
	Stream      bool               `json:"stream,omitempty"`
}

// AnthropicMessage is one turn; Content is a string or a []AnthropicBlock.
type AnthropicMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

// AnthropicBlock is a content block: text, image, or (in answers) thinking
// and tool_use.
type AnthropicBlock struct {
	Type         string                `json:"type"`
	Text         string                `json:"text,omitempty"`
	Source       *AnthropicImageSource `json:"source,omitempty"`
	CacheControl *AnthropicCache       `json:"cache_control,omitempty"`
	Thinking     string                `json:"thinking,omitempty"`
	Signature    string                `json:"signature,omitempty"`
}

// AnthropicImageSource is an image given inline as base64.
type AnthropicImageSource struct {
	Type      string `json:"type"` // base64
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
}

// AnthropicCache marks a block for prompt caching.
type AnthropicCache struct {
	Type string `json:"type"` // ephemeral
}

// AnthropicThinking turns extended thinking on with a token budget.
type AnthropicThinking struct {
	Type         string `json:"type"` // enabled
	BudgetTokens int    `json:"budget_tokens"`
}

// AnthropicUsage is the token count of a message, cache use included.
type AnthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// MessagesResponse is an Anthropic message, or the same built from a stream.
// Through new-api its id may be chatcmpl-… and stop_sequence is absent.
type MessagesResponse struct {
	ID         string           `json:"id"`
	Model      string           `json:"model"`
	Role       string           `json:"role"`
	Content    []AnthropicBlock `json:"content"`
	StopReason string           `json:"stop_reason"`
	Usage      AnthropicUsage   `json:"usage"`
}

// Text returns the text blocks joined.
func (m *MessagesResponse) Text() string { return m.join("text") }

// ThinkingText returns the thinking blocks joined.
func (m *MessagesResponse) ThinkingText() string { return m.join("thinking") }

func (m *MessagesResponse) join(typ string) string {
	var b strings.Builder
	for _, bl := range m.Content {
		if bl.Type != typ {
			continue
		}
		if typ == "thinking" {
			b.WriteString(bl.Thinking)
		} else {
			b.WriteString(bl.Text)
		}
	}
	return b.String()
}

func messagesRequest(req *MessagesRequest, stream bool) (*request, error) {
	body := *req
	body.Stream = stream
	r, err := jsonRequest(http.MethodPost, "/v1/messages", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authXAPIKey
	return r, nil
}

// Messages sends an Anthropic Messages request (x-api-key auth) and waits for
// the whole answer: POST /v1/messages. Both error envelopes are understood:
// the gateway's own (OpenAI shape) and relayed ones (Anthropic shape).
func (c *Client) Messages(ctx context.Context, req *MessagesRequest) (*MessagesResponse, error) {
	r, err := messagesRequest(req, false)
	if err != nil {
		return nil, err
	}
	var out MessagesResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	return &out, nil
}

// anthropicEvent is one event of a Messages stream.
type anthropicEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string         `json:"id"`
		Model string         `json:"model"`
		Usage AnthropicUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *AnthropicBlock `json:"content_block"`
	Delta        *struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		Thinking   string `json:"thinking"`
		Signature  string `json:"signature"`
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage *AnthropicUsage `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// MessagesStream sends an Anthropic Messages request with stream:true and
// builds the whole answer from its events, calling onDelta (may be nil) as
// text and thinking arrive: POST /v1/messages. A stream that ends without
// message_stop, restarts with a second message_start (how the gateway relays
// a cut upstream), or carries an error event gives a *StreamError.
func (c *Client) MessagesStream(ctx context.Context, req *MessagesRequest, onDelta func(ChatDelta)) (*MessagesResponse, error) {
	r, err := messagesRequest(req, true)
	if err != nil {
		return nil, err
	}
	s, err := c.stream(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	defer s.Close()
	if s.Plain != nil {
		var out MessagesResponse
		if err := json.Unmarshal(s.Plain, &out); err != nil {
			return nil, fmt.Errorf("messages: %w: %v", ErrMalformedResponse, err)
		}
		return &out, nil
	}
	out, err := readMessagesStream(ctx, s, onDelta)
	if err != nil {
		return out, fmt.Errorf("messages: %w", err)
	}
	return out, nil
}

func readMessagesStream(ctx context.Context, s *Stream, onDelta func(ChatDelta)) (*MessagesResponse, error) {
	var (
		out     = &MessagesResponse{Role: "assistant"}
		text    strings.Builder
		started bool
		blocks  = map[int]*AnthropicBlock{}
		order   []int
	)
	chars := 0
	textFn := func() string { return text.String() }
	cut := func(reason string, err error) (*MessagesResponse, error) {
		return out, &StreamError{Reason: reason, Partial: text.String(), Err: err}
	}
	for {
		var e anthropicEvent
		typ, data, err := s.nextTypedEvent(ctx, textFn, "message_stop", &e)
		if err != nil {
			return out, err
		}
		switch typ {
		case "message_start":
			if started {
				return cut("the message restarted (a second message_start)", nil)
			}
			started = true
			if e.Message != nil {
				out.ID, out.Model = e.Message.ID, e.Message.Model
				mergeAnthropicUsage(&out.Usage, e.Message.Usage)
			}
		case "content_block_start":
			b := &AnthropicBlock{Type: "text"}
			if e.ContentBlock != nil {
				*b = *e.ContentBlock
			}
			if _, ok := blocks[e.Index]; !ok {
				order = append(order, e.Index)
			}
			blocks[e.Index] = b
		case "content_block_delta":
			if e.Delta == nil {
				continue
			}
			b, ok := blocks[e.Index]
			if !ok {
				b = &AnthropicBlock{Type: "text"}
				blocks[e.Index] = b
				order = append(order, e.Index)
			}
			piece := ""
			switch e.Delta.Type {
			case "text_delta":
				b.Text += e.Delta.Text
				text.WriteString(e.Delta.Text)
				piece = e.Delta.Text
			case "thinking_delta":
				b.Thinking += e.Delta.Thinking
				piece = e.Delta.Thinking
			case "signature_delta":
				b.Signature += e.Delta.Signature
			}
			if piece != "" {
				chars += len(piece)
				if onDelta != nil {
					onDelta(ChatDelta{Content: piece, Chars: chars, Text: textFn})
				}
			}
		case "message_delta":
			if e.Delta != nil && e.Delta.StopReason != "" {
				out.StopReason = e.Delta.StopReason
			}
			if e.Usage != nil {
				mergeAnthropicUsage(&out.Usage, *e.Usage)
			}
		case "message_stop":
			for _, i := range order {
				out.Content = append(out.Content, *blocks[i])
			}
			return out, nil
		case "error":
			apiErr := decodeError(http.StatusOK, http.Header{}, data)
			apiErr.Message = s.c.scrubString(apiErr.Message)
			return cut("error event inside the stream", apiErr)
		}
	}
}

// mergeAnthropicUsage takes the non-zero counts of u: message_start has an
// estimate of the input, message_delta the final counts.
func mergeAnthropicUsage(dst *AnthropicUsage, u AnthropicUsage) {
	if u.InputTokens > 0 {
		dst.InputTokens = u.InputTokens
	}
	if u.OutputTokens > 0 {
		dst.OutputTokens = u.OutputTokens
	}
	if u.CacheCreationInputTokens > 0 {
		dst.CacheCreationInputTokens = u.CacheCreationInputTokens
	}
	if u.CacheReadInputTokens > 0 {
		dst.CacheReadInputTokens = u.CacheReadInputTokens
	}
}
