package main

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// listServed starts the binary with env and args and returns the names in
// its tools/list.
func listServed(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	s := startRaw(t, env, args...)
	s.send(t, initLine)
	s.readID(t, 1)
	s.send(t, initializedLine)
	s.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	list := s.readID(t, 2)
	var names []string
	for _, tool := range list["result"].(map[string]any)["tools"].([]any) {
		names = append(names, tool.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

func TestToolSelectionEnvAndFlags(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"env toolsets", []string{"WENWEN_TOOLSETS=embeddings, anthropic"}, nil, []string{"claude_messages", "embed_text"}},
		{"env tools and exclusions", []string{"WENWEN_TOOLSETS=audio", "WENWEN_TOOLS=embed_text", "WENWEN_EXCLUDE_TOOLS=voice_reply"}, nil,
			[]string{"embed_text", "text_to_speech", "transcribe_audio"}},
		{"flags override env", []string{"WENWEN_TOOLSETS=embeddings", "WENWEN_EXCLUDE_TOOLS=claude_messages"},
			[]string{"--toolsets=anthropic,responses", "--exclude-tools=create_response"}, []string{"claude_messages"}},
		{"flag tools", nil, []string{"--toolsets", "models", "--tools", "gemini_generate"}, []string{"gemini_generate", "list_models"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listServed(t, baseEnv(t, tt.env...), tt.args...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("served %v; want %v", got, tt.want)
			}
		})
	}
}

func TestUnknownToolsetFailsAtStart(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"env toolset", []string{"WENWEN_TOOLSETS=chat,imagez"}, nil, []string{`unknown toolset "imagez"`, "models, chat, images", "all, default"}},
		{"flag toolset", nil, []string{"--toolsets=bogus"}, []string{`unknown toolset "bogus"`, "anthropic"}},
		{"flag tool", nil, []string{"--tools=chatt"}, []string{`unknown tool "chatt"`, "list_models", "embed_text"}},
		{"env exclusion", []string{"WENWEN_EXCLUDE_TOOLS=nope"}, nil, []string{`unknown tool "nope"`, "chat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binPath, tt.args...)
			cmd.Env = baseEnv(t, tt.env...)
			cmd.Stdin = strings.NewReader("")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v; want status 1 (stderr %s)", err, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q; want nothing", stdout.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q; want it to contain %q", stderr.String(), w)
				}
			}
		})
	}
}
