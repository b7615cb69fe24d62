package tools

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
)

// ToolsetInfo names a group of tools and says what it is for.
type ToolsetInfo struct {
	Name        string
	Description string
}

// toolsets are the groups a user can turn on, in README order.
var toolsets = [...]ToolsetInfo{
	{"models", "list_models: the models the key can use"},
	{"chat", "chat: any chat model, structured output, function calling"},
	{"images", "generate_image, edit_image, analyze_image"},
	{"video", "generate_video (a long job)"},
	{"midjourney", "mj_imagine, mj_blend, mj_action, mj_seed (long jobs)"},
	{"jobs", "get_job, list_jobs: follow long jobs; on whenever video or midjourney is"},
	{"audio", "text_to_speech, voice_reply, transcribe_audio"},
	{"embeddings", "embed_text: how similar texts are"},
	{"responses", "create_response: OpenAI Responses API, server-side conversations, web search"},
	{"anthropic", "claude_messages: native Claude API, extended thinking, prompt caching"},
	{"gemini", "gemini_generate: native Gemini API, images in and out"},
}

// defaultToolsets serve most agents while keeping tools/list small; the
// others are one WENWEN_TOOLSETS entry away.
var defaultToolsets = [...]string{"models", "chat", "images", "video", "jobs"}

// jobsNeededBy are the toolsets whose tools start jobs that only the jobs
// toolset can follow.
var jobsNeededBy = [...]string{"video", "midjourney"}

// Toolsets returns every toolset with what it is for, in README order.
func Toolsets() []ToolsetInfo { return slices.Clone(toolsets[:]) }

// DefaultToolsets returns the toolsets served when none are chosen.
func DefaultToolsets() []string { return slices.Clone(defaultToolsets[:]) }

// Select picks the tools to serve from all: the tools of the named toolsets
// ("all" and "default" are accepted; none means "default"), plus the tools
// named in include, minus those in exclude. The job tools come along
// whenever a video or Midjourney tool is served. An unknown toolset or tool
// name is an error listing the valid names.
func Select(all []Tool, toolsetNames, include, exclude []string) ([]Tool, error) {
	names := make([]string, 0, len(all))
	byName := make(map[string]Tool, len(all))
	for _, t := range all {
		names = append(names, t.Def.Name)
		byName[t.Def.Name] = t
	}
	setNames := make([]string, 0, len(toolsets))
	for _, s := range toolsets {
		setNames = append(setNames, s.Name)
	}
	sets := map[string]bool{}
	chosen := cleanList(toolsetNames)
	if len(chosen) == 0 {
		chosen = []string{"default"}
	}
	for _, s := range chosen {
		switch {
		case s == "all":
			for _, n := range setNames {
				sets[n] = true
			}
		case s == "default":
			for _, n := range defaultToolsets {
				sets[n] = true
			}
		case slices.Contains(setNames, s):
			sets[s] = true
		default:
			return nil, fmt.Errorf("unknown toolset %q: valid toolsets are %s, all, default", s, strings.Join(setNames, ", "))
		}
	}
	picked := map[string]bool{}
	for _, t := range all {
		if sets[t.Toolset] {
			picked[t.Def.Name] = true
		}
	}
	for _, n := range cleanList(include) {
		if _, ok := byName[n]; !ok {
			return nil, fmt.Errorf("unknown tool %q in the tools to add: valid tools are %s", n, strings.Join(names, ", "))
		}
		picked[n] = true
	}
	excluded := map[string]bool{}
	for _, n := range cleanList(exclude) {
		if _, ok := byName[n]; !ok {
			return nil, fmt.Errorf("unknown tool %q in the tools to exclude: valid tools are %s", n, strings.Join(names, ", "))
		}
		excluded[n] = true
		delete(picked, n)
	}
	needJobs := false
	for n := range picked {
		needJobs = needJobs || slices.Contains(jobsNeededBy[:], byName[n].Toolset)
	}
	if needJobs {
		for _, t := range all {
			if t.Toolset != "jobs" {
				continue
			}
			if excluded[t.Def.Name] {
				return nil, fmt.Errorf("cannot exclude %s: video and Midjourney tools start jobs that only the jobs tools can follow (exclude those toolsets too)", t.Def.Name)
			}
			picked[t.Def.Name] = true
		}
	}
	out := make([]Tool, 0, len(picked))
	for _, t := range all {
		if picked[t.Def.Name] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tool selected: check the toolsets (%s) and the tools to exclude", strings.Join(chosen, ","))
	}
	return out, nil
}

// cleanList trims entries, lower-cases them and drops empty ones, so that
// "chat, audio," works.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// ToolsListBytes is the size of the tools/list result for tools, as the
// server sends it: what every conversation pays in context for the server.
func ToolsListBytes(tools []Tool) (int, error) {
	res := mcp.ListToolsResult{Tools: make([]mcp.Tool, 0, len(tools))}
	for _, t := range tools {
		res.Tools = append(res.Tools, t.Def)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}
