package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// defaultClaudeModel is used when claude_messages names no model.
const defaultClaudeModel = "claude-sonnet-4-20250514"

// Anthropic's limits that are cheaper to check here than to pay for.
const (
	claudeMaxImages      = 20
	claudeMaxImageBytes  = 5 << 20
	claudeMinThinking    = 1024
	claudeDefaultMaxToks = 4096
)

type claudeTurn struct {
	Role    string `json:"role" jsonschema:"enum=user,enum=assistant"`
	Content string `json:"content"`
}

type claudeMessagesInput struct {
	Prompt         string       `json:"prompt,omitempty" jsonschema_description:"The user message. Give prompt or messages."`
	Messages       []claudeTurn `json:"messages,omitempty" jsonschema_description:"A conversation instead of prompt."`
	System         string       `json:"system,omitempty"`
	Model          string       `json:"model,omitempty" jsonschema_description:"Default claude-sonnet-4-20250514."`
	MaxTokens      int          `json:"max_tokens,omitempty" jsonschema:"minimum=1" jsonschema_description:"Default 4096 + thinking_budget."`
	ThinkingBudget int          `json:"thinking_budget,omitempty" jsonschema:"minimum=1024" jsonschema_description:"Extended thinking tokens."`
	CacheSystem    bool         `json:"cache_system,omitempty" jsonschema_description:"Cache the system prompt."`
	Images         []string     `json:"images,omitempty" jsonschema_description:"Paths, URLs or data: URLs, sent with the last user message."`
}

func (in *claudeMessagesInput) validate() error {
	switch {
	case strings.TrimSpace(in.Prompt) == "" && len(in.Messages) == 0:
		return userErrorf("give prompt (the user message) or messages")
	case in.Prompt != "" && len(in.Messages) > 0:
		return userErrorf("give prompt or messages, not both")
	}
	for i, m := range in.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return userErrorf("messages[%d].role is %q: use user or assistant (put system text in system)", i, m.Role)
		}
		if strings.TrimSpace(m.Content) == "" {
			return userErrorf("messages[%d].content is empty", i)
		}
	}
	if len(in.Messages) > 0 && in.Messages[0].Role != "user" {
		return userErrorf("messages must start with a user message")
	}
	if len(in.Messages) > 0 && len(in.Images) > 0 && in.Messages[len(in.Messages)-1].Role != "user" {
		return userErrorf("images go with the last user message, but the last message is from the assistant")
	}
	if in.ThinkingBudget != 0 && in.ThinkingBudget < claudeMinThinking {
		return userErrorf("thinking_budget must be at least %d tokens", claudeMinThinking)
	}
	if in.MaxTokens < 0 {
		return userErrorf("max_tokens must be at least 1")
	}
	if in.ThinkingBudget > 0 && in.MaxTokens > 0 && in.MaxTokens <= in.ThinkingBudget {
		return userErrorf("max_tokens (%d) must be larger than thinking_budget (%d): it counts the thinking too; leave max_tokens out to get thinking_budget + %d", in.MaxTokens, in.ThinkingBudget, claudeDefaultMaxToks)
	}
	if in.CacheSystem && strings.TrimSpace(in.System) == "" {
		return userErrorf("cache_system needs a system prompt")
	}
	if len(in.Images) > claudeMaxImages {
		return userErrorf("%d images: at most %d per call", len(in.Images), claudeMaxImages)
	}
	return nil
}

type claudeUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

type claudeMessagesOutput struct {
	Model      string      `json:"model"`
	Text       string      `json:"text"`
	Thinking   string      `json:"thinking,omitempty"`
	StopReason string      `json:"stop_reason"`
	Usage      claudeUsage `json:"usage"`
}

func claudeMessagesTool(d *Deps) Tool {
	t := define("claude_messages",
		"Claude via the native Anthropic API: extended thinking, prompt caching, images. Costs tokens.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in claudeMessagesInput) (Result[claudeMessagesOutput], error) {
			req, err := buildClaudeRequest(ctx, d, in)
			if err != nil {
				return Result[claudeMessagesOutput]{}, err
			}
			resp, err := d.Client.MessagesStream(ctx, req, func(delta upstream.ChatDelta) {
				call.Progress.Report(float64(delta.Chars), 0, fmt.Sprintf("received %d characters", delta.Chars))
			})
			if err != nil {
				return Result[claudeMessagesOutput]{}, err
			}
			out := claudeMessagesOutput{
				Model:      resp.Model,
				Text:       resp.Text(),
				Thinking:   resp.ThinkingText(),
				StopReason: resp.StopReason,
				Usage: claudeUsage{
					InputTokens:              resp.Usage.InputTokens,
					OutputTokens:             resp.Usage.OutputTokens,
					CacheCreationInputTokens: resp.Usage.CacheCreationInputTokens,
					CacheReadInputTokens:     resp.Usage.CacheReadInputTokens,
				},
			}
			if out.Model == "" {
				out.Model = req.Model
			}
			return Result[claudeMessagesOutput]{Value: out, Text: claudeText(out)}, nil
		})
	t.Toolset = "anthropic"
	return t
}

func buildClaudeRequest(ctx context.Context, d *Deps, in claudeMessagesInput) (*upstream.MessagesRequest, error) {
	req := &upstream.MessagesRequest{Model: in.Model, MaxTokens: in.MaxTokens}
	if req.Model == "" {
		req.Model = defaultClaudeModel
	}
	if in.ThinkingBudget > 0 {
		req.Thinking = &upstream.AnthropicThinking{Type: "enabled", BudgetTokens: in.ThinkingBudget}
		if req.MaxTokens == 0 {
			req.MaxTokens = in.ThinkingBudget + claudeDefaultMaxToks
		}
	}
	if req.MaxTokens == 0 {
		req.MaxTokens = claudeDefaultMaxToks
	}
	switch {
	case in.CacheSystem:
		req.System = []upstream.AnthropicBlock{{Type: "text", Text: in.System, CacheControl: &upstream.AnthropicCache{Type: "ephemeral"}}}
	case in.System != "":
		req.System = in.System
	}
	turns := in.Messages
	if in.Prompt != "" {
		turns = []claudeTurn{{Role: "user", Content: in.Prompt}}
	}
	for _, m := range turns {
		req.Messages = append(req.Messages, upstream.AnthropicMessage{Role: m.Role, Content: m.Content})
	}
	if len(in.Images) > 0 {
		blocks, err := claudeImageBlocks(ctx, d, in.Images)
		if err != nil {
			return nil, err
		}
		last := &req.Messages[len(req.Messages)-1]
		blocks = append(blocks, upstream.AnthropicBlock{Type: "text", Text: last.Content.(string)})
		last.Content = blocks
	}
	return req, nil
}

func claudeText(out claudeMessagesOutput) string {
	var b strings.Builder
	if out.Thinking != "" {
		fmt.Fprintf(&b, "(thinking: %s)\n", truncate(out.Thinking, 600))
	}
	b.WriteString(out.Text)
	b.WriteString("\n")
	u := out.Usage
	fmt.Fprintf(&b, "[%s, stop %s, %d in / %d out tokens", out.Model, out.StopReason, u.InputTokens, u.OutputTokens)
	if u.CacheCreationInputTokens > 0 || u.CacheReadInputTokens > 0 {
		fmt.Fprintf(&b, ", cache write %d / read %d", u.CacheCreationInputTokens, u.CacheReadInputTokens)
	}
	b.WriteString("]")
	return b.String()
}

// claudeImageBlocks loads images as base64 blocks: Anthropic takes JPEG,
// PNG, GIF and WebP up to 5 MiB each.
func claudeImageBlocks(ctx context.Context, d *Deps, refs []string) ([]upstream.AnthropicBlock, error) {
	images, err := loadInlineImages(ctx, d, refs, claudeMaxImageBytes)
	if err != nil {
		return nil, err
	}
	blocks := make([]upstream.AnthropicBlock, 0, len(images))
	for _, in := range images {
		switch in.MIME {
		case "image/jpeg", "image/png", "image/gif", "image/webp":
		default:
			return nil, userErrorf("image %s is %s: Claude takes JPEG, PNG, GIF or WebP", in, in.MIME)
		}
		blocks = append(blocks, upstream.AnthropicBlock{Type: "image", Source: &upstream.AnthropicImageSource{Type: "base64", MediaType: in.MIME, Data: in.Base64()}})
	}
	return blocks, nil
}

// loadInlineImages loads each image (path, URL or data: URL) with its bytes,
// for APIs that take images inline, refusing any above maxBytes.
func loadInlineImages(ctx context.Context, d *Deps, refs []string, maxBytes int) ([]media.Input, error) {
	out := make([]media.Input, 0, len(refs))
	for i, ref := range refs {
		in, err := d.Media.LoadImage(ctx, ref)
		if err == nil {
			err = d.Media.Fetch(ctx, &in)
		}
		if err != nil {
			return nil, fmt.Errorf("images[%d]: %w", i, err)
		}
		if len(in.Data) > maxBytes {
			return nil, userErrorf("images[%d] is %.1f MiB: at most %d MiB per image here; scale it down", i, float64(len(in.Data))/(1<<20), maxBytes>>20)
		}
		out = append(out, in)
	}
	return out, nil
}
