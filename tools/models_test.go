package tools

import (
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestListModels(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		var opts []envOption
		if legacy {
			opts = append(opts, withGateway(fakegateway.WithLegacyModelList()))
		}
		env := newTestEnv(t, opts...)
		var all listModelsOutput
		decode(t, env.call(t, "list_models", map[string]any{}), &all)
		if all.Count != len(env.G.Models()) || all.Matched != all.Count || all.Truncated {
			t.Errorf("legacy=%v: count %d matched %d; want all %d", legacy, all.Count, all.Matched, len(env.G.Models()))
		}
		var img listModelsOutput
		decode(t, env.call(t, "list_models", map[string]any{"kind": "image"}), &img)
		if img.Count == 0 {
			t.Errorf("legacy=%v: no image models", legacy)
		}
		for _, m := range img.Models {
			if m.Kind != "image" {
				t.Errorf("kind filter returned %+v", m)
			}
		}
		var q listModelsOutput
		res := env.call(t, "list_models", map[string]any{"query": "CLAUDE", "limit": 1})
		decode(t, res, &q)
		if q.Count != 1 || q.Matched < 2 || !q.Truncated || !strings.Contains(q.Models[0].ID, "claude") {
			t.Errorf("legacy=%v: query claude limit 1 = %+v; want 1 of several, truncated", legacy, q)
		}
		if !strings.Contains(textOf(res), "more; narrow") {
			t.Errorf("text %q; want a hint that more matched", textOf(res))
		}
	}
}

func TestListModelsInvalidKind(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "list_models", map[string]any{"kind": "music"})
	if !res.IsError || !strings.Contains(textOf(res), "chat, image, video") {
		t.Errorf("kind music = %q; want isError listing the kinds", textOf(res))
	}
}

func TestModelKind(t *testing.T) {
	tests := map[string]string{
		"gpt-4o-mini": "chat", "claude-sonnet-4-20250514": "chat", "deepseek-r1": "chat",
		"dall-e-3": "image", "gpt-image-1": "image", "gpt-4o-image": "image", "gemini-2.5-flash-image-preview": "image", "flux-kontext-pro": "image", "mj_imagine": "image",
		"sora_video2": "video", "sora-2": "video", "veo3": "video", "kling-v1": "video",
		"whisper-1": "audio", "tts-1": "audio", "gpt-4o-audio-preview": "audio",
		"text-embedding-3-small": "embedding", "jina-reranker-v2": "rerank",
	}
	for id, want := range tests {
		if got := modelKind(upstream.Model{ID: id}); got != want {
			t.Errorf("modelKind(%q) = %q; want %q", id, got, want)
		}
	}
	if got := modelKind(upstream.Model{ID: "custom-x", SupportedEndpointTypes: []string{"embeddings"}}); got != "embedding" {
		t.Errorf("endpoint type embeddings gives %q; want embedding", got)
	}
}
