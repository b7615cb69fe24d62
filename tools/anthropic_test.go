package tools

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestClaudeMessages(t *testing.T) {
	env := newTestEnv(t)
	res := env.callWithProgress(t, "claude_messages", map[string]any{
		"prompt": "hello", "system": "You are careful.", "cache_system": true, "thinking_budget": 2048,
	}, "tok-claude")
	var out claudeMessagesOutput
	decode(t, res, &out)
	if !strings.Contains(out.Text, `You said: "hello"`) || out.Thinking == "" || out.StopReason != "end_turn" || out.Model != defaultClaudeModel {
		t.Errorf("result %+v; want text, thinking, end_turn and the default model", out)
	}
	if out.Usage.CacheCreationInputTokens == 0 || out.Usage.OutputTokens == 0 {
		t.Errorf("usage %+v; want cache creation and output tokens", out.Usage)
	}
	if len(waitProgress(env, "tok-claude")) == 0 {
		t.Error("no progress notifications during the stream")
	}
	last := env.G.Last(fakegateway.RouteMessages)
	if last.Header.Get("X-Api-Key") != fakegateway.Key || last.Header.Get("Authorization") != "" {
		t.Errorf("headers %v; want the key in x-api-key only", last.Header)
	}
	var body struct {
		MaxTokens int `json:"max_tokens"`
		Thinking  struct {
			BudgetTokens int `json:"budget_tokens"`
		} `json:"thinking"`
		System []struct {
			CacheControl *struct{ Type string } `json:"cache_control"`
		} `json:"system"`
		Stream bool `json:"stream"`
	}
	if err := json.Unmarshal(last.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.MaxTokens != 2048+claudeDefaultMaxToks || body.Thinking.BudgetTokens != 2048 || len(body.System) != 1 || body.System[0].CacheControl == nil || !body.Stream {
		t.Errorf("request %s; want max_tokens = budget + default, thinking, cached system, stream", last.Body)
	}

	// A conversation, without thinking or caching.
	res = env.call(t, "claude_messages", map[string]any{"messages": []map[string]any{
		{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "again"},
	}, "system": "plain"})
	var conv claudeMessagesOutput
	decode(t, res, &conv)
	if !strings.Contains(conv.Text, `"again"`) || conv.Thinking != "" {
		t.Errorf("result %+v; want an answer to the last turn without thinking", conv)
	}
	if b := string(env.G.Last(fakegateway.RouteMessages).Body); !strings.Contains(b, `"system":"plain"`) || strings.Contains(b, "thinking") {
		t.Errorf("request %s; want a plain system string and no thinking", b)
	}
}

func TestClaudeMessagesErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"nothing", map[string]any{}, []string{"give prompt"}},
		{"both", map[string]any{"prompt": "a", "messages": []map[string]any{{"role": "user", "content": "b"}}}, []string{"not both"}},
		{"system role", map[string]any{"messages": []map[string]any{{"role": "system", "content": "b"}}}, []string{"use user or assistant"}},
		{"small budget", map[string]any{"prompt": "a", "thinking_budget": 100}, []string{"at least 1024"}},
		{"max under budget", map[string]any{"prompt": "a", "thinking_budget": 2048, "max_tokens": 1000}, []string{"larger than thinking_budget"}},
		{"cache nothing", map[string]any{"prompt": "a", "cache_system": true}, []string{"needs a system prompt"}},
		{"relayed 429", map[string]any{"prompt": "a", "model": fakegateway.ModelFault429}, []string{"429", "Rate limit reached", "wait"}},
		{"bad key envelope", map[string]any{"prompt": "a", "model": "claude-9"}, []string{"503", "list_models"}},
		{"quota", map[string]any{"prompt": "a", "model": fakegateway.ModelFaultQuotaUser}, []string{"用户额度不足", "top up"}},
		{"cut stream", map[string]any{"prompt": "a", "model": fakegateway.ModelFaultTrunc}, []string{"cut before its end", "second message_start"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "claude_messages", tt.args)
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

// writeSmallPNG writes a small real PNG and returns its path.
func writeSmallPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{G: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClaudeMessagesImages(t *testing.T) {
	env := newTestEnv(t)
	pic := writeSmallPNG(t)
	res := env.call(t, "claude_messages", map[string]any{"prompt": "what is this?", "images": []string{pic}})
	var out claudeMessagesOutput
	decode(t, res, &out)
	if !strings.Contains(out.Text, "I see 1 image(s)") {
		t.Errorf("text %q; want the image to reach the model", out.Text)
	}
	var body struct {
		Messages []struct {
			Content []struct {
				Type   string `json:"type"`
				Text   string `json:"text"`
				Source struct {
					Type, MediaType, Data string
				} `json:"source"`
			} `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(env.G.Last(fakegateway.RouteMessages).Body, &body); err != nil {
		t.Fatal(err)
	}
	c := body.Messages[0].Content
	if len(c) != 2 || c[0].Type != "image" || c[0].Source.Type != "base64" || c[1].Text != "what is this?" {
		t.Errorf("content %+v; want the image block then the prompt", c)
	}

	notImage := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notImage, []byte("just text"), 0o644)
	res = env.call(t, "claude_messages", map[string]any{"prompt": "x", "images": []string{notImage}})
	if !res.IsError || !strings.Contains(textOf(res), "not an image") {
		t.Errorf("text file as image: %q; want a 'not an image' error", textOf(res))
	}
	if n := env.G.Count(fakegateway.RouteMessages); n != 1 {
		t.Errorf("gateway called %d times; want 1 (the bad image is refused before)", n)
	}
}
