package tools

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/rs/zerolog"
)

// fakeTools is a tool list with one tool per toolset plus a second job tool.
func fakeTools() []Tool {
	var all []Tool
	for _, s := range Toolsets() {
		all = append(all, Tool{Def: mcp.Tool{Name: s.Name + "_tool"}, Toolset: s.Name})
	}
	return append(all, Tool{Def: mcp.Tool{Name: "jobs_other"}, Toolset: "jobs"})
}

func namesOf(ts []Tool) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Def.Name)
	}
	slices.Sort(out)
	return out
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name                   string
		sets, include, exclude []string
		want                   []string
	}{
		{"none is default", nil, nil, nil, []string{"chat_tool", "images_tool", "jobs_other", "jobs_tool", "models_tool", "video_tool"}},
		{"default keyword and more", []string{"default, audio"}, nil, nil, []string{"audio_tool", "chat_tool", "images_tool", "jobs_other", "jobs_tool", "models_tool", "video_tool"}},
		{"all", []string{"all"}, nil, []string{"chat_tool"}, []string{"anthropic_tool", "audio_tool", "embeddings_tool", "gemini_tool", "images_tool", "jobs_other", "jobs_tool", "midjourney_tool", "models_tool", "responses_tool", "video_tool"}},
		{"midjourney brings jobs", []string{"midjourney"}, nil, nil, []string{"jobs_other", "jobs_tool", "midjourney_tool"}},
		{"a single video tool brings jobs", []string{"models"}, []string{"video_tool"}, nil, []string{"jobs_other", "jobs_tool", "models_tool", "video_tool"}},
		{"case and spaces", []string{" Chat ", ""}, []string{" EMBEDDINGS_TOOL"}, nil, []string{"chat_tool", "embeddings_tool"}},
		{"exclude a job tool without jobs users", []string{"jobs"}, nil, []string{"jobs_other"}, []string{"jobs_tool"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(fakeTools(), tt.sets, tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if names := namesOf(got); !slices.Equal(names, tt.want) {
				t.Errorf("selected %v; want %v", names, tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		name                   string
		sets, include, exclude []string
		want                   []string
	}{
		{"unknown toolset", []string{"chat,imagez"}, nil, nil, []string{`unknown toolset "imagez"`, "models, chat, images, video, midjourney, jobs, audio, embeddings, responses, anthropic, gemini, all, default"}},
		{"unknown tool", nil, []string{"chatt"}, nil, []string{`unknown tool "chatt"`, "chat_tool", "gemini_tool"}},
		{"unknown exclusion", nil, nil, []string{"nope"}, []string{`unknown tool "nope"`}},
		{"job tool needed", []string{"video"}, nil, []string{"jobs_tool"}, []string{"cannot exclude jobs_tool"}},
		{"nothing left", []string{"chat"}, nil, []string{"chat_tool"}, []string{"no tool selected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Select(fakeTools(), tt.sets, tt.include, tt.exclude)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestToolsetsFromEnv(t *testing.T) {
	cfg, err := ParseConfig([]string{"WENWEN_TOOLSETS=audio, embeddings", "WENWEN_TOOLS=chat", "WENWEN_EXCLUDE_TOOLS=voice_reply", "WENWEN_OUTPUT_DIR=" + t.TempDir()}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDeps(cfg, zerolog.Nop(), "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Select(All(d), cfg.Toolsets, cfg.Tools, cfg.ExcludeTools)
	if err != nil {
		t.Fatal(err)
	}
	if names := namesOf(got); !slices.Equal(names, []string{"chat", "embed_text", "text_to_speech", "transcribe_audio"}) {
		t.Errorf("selected %v; want the audio and embeddings tools, chat, without voice_reply", names)
	}
	def, err := ParseConfig(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(def.Toolsets, []string{"default"}) || len(def.Tools) != 0 || len(def.ExcludeTools) != 0 {
		t.Errorf("defaults %v %v %v; want [default] and nothing else", def.Toolsets, def.Tools, def.ExcludeTools)
	}
}

// TestEveryToolInAKnownToolset: a tool whose toolset is misspelt could never
// be selected.
func TestEveryToolInAKnownToolset(t *testing.T) {
	cfg, err := ParseConfig([]string{"WENWEN_OUTPUT_DIR=" + t.TempDir()}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDeps(cfg, zerolog.Nop(), "test")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, s := range Toolsets() {
		known[s.Name] = true
	}
	for _, tool := range All(d) {
		if !known[tool.Toolset] {
			t.Errorf("%s is in toolset %q, which is not in Toolsets()", tool.Def.Name, tool.Toolset)
		}
	}
}

// TestToolsListSize measures what every conversation pays for the server:
// the tools/list result for the default toolsets and for all tools, as the
// server marshals it. The whole surface must stay under 20 KB.
func TestToolsListSize(t *testing.T) {
	env := newTestEnv(t)
	all := env.Tools
	def, err := Select(all, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	allBytes, err := ToolsListBytes(all)
	if err != nil {
		t.Fatal(err)
	}
	defBytes, err := ToolsListBytes(def)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tools/list: default toolsets %d tools, %d bytes; all %d tools, %d bytes", len(def), defBytes, len(all), allBytes)
	if allBytes >= 20_000 {
		t.Errorf("tools/list for all tools is %d bytes; want under 20000: keep descriptions lean", allBytes)
	}
	if defBytes >= allBytes && len(def) < len(all) {
		t.Errorf("default %d bytes >= all %d bytes", defBytes, allBytes)
	}
	// ToolsListBytes measures what a client really receives.
	list, err := env.Client.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(mcp.ListToolsResult{Tools: list.Tools})
	if err != nil {
		t.Fatal(err)
	}
	if d := len(b) - allBytes; d > 200 || d < -200 {
		t.Errorf("tools/list as received is %d bytes; ToolsListBytes says %d", len(b), allBytes)
	}
}
