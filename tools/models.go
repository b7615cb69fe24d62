package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Model kinds list_models derives from ids and endpoint types.
var modelKinds = []string{"chat", "image", "video", "audio", "embedding", "rerank"}

type listModelsInput struct {
	Query string `json:"query,omitempty" jsonschema_description:"Substring of the id, e.g. claude."`
	Kind  string `json:"kind,omitempty" jsonschema:"enum=chat,enum=image,enum=video,enum=audio,enum=embedding,enum=rerank"`
	Limit int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=1000" jsonschema_description:"Default 200."`
}

func (in *listModelsInput) validate() error {
	if in.Kind != "" && !slices.Contains(modelKinds, in.Kind) {
		return userErrorf("unknown kind %q: use one of %s", in.Kind, strings.Join(modelKinds, ", "))
	}
	if in.Limit < 0 || in.Limit > 1000 {
		return userErrorf("limit must be between 1 and 1000")
	}
	return nil
}

type modelInfo struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind" jsonschema_description:"chat, image, video, audio, embedding or rerank (derived from the id)."`
	OwnedBy string   `json:"owned_by,omitempty"`
	Formats []string `json:"formats,omitempty" jsonschema_description:"API formats the gateway lists for it (openai, anthropic, gemini...)."`
}

type listModelsOutput struct {
	Models    []modelInfo `json:"models"`
	Count     int         `json:"count" jsonschema_description:"Models returned."`
	Matched   int         `json:"matched" jsonschema_description:"Models that matched before limit."`
	Truncated bool        `json:"truncated,omitempty"`
}

func listModelsTool(d *Deps) Tool {
	t := define("list_models",
		"List the model ids this key can use, each with a kind (chat, image, video, audio, embedding, rerank); filter by query and kind. Use it to pick a model or after a 'model not offered' error. Free.",
		hints{readOnly: true, idempotent: true, openWorld: true},
		func(ctx context.Context, call *Call, in listModelsInput) (Result[listModelsOutput], error) {
			models, err := d.Client.ListModels(ctx)
			if err != nil {
				return Result[listModelsOutput]{}, err
			}
			limit := in.Limit
			if limit == 0 {
				limit = 200
			}
			q := strings.ToLower(strings.TrimSpace(in.Query))
			out := listModelsOutput{Models: []modelInfo{}}
			counts := map[string]int{}
			for _, m := range models {
				kind := modelKind(m)
				if q != "" && !strings.Contains(strings.ToLower(m.ID), q) || in.Kind != "" && kind != in.Kind {
					continue
				}
				out.Matched++
				counts[kind]++
				if len(out.Models) < limit {
					out.Models = append(out.Models, modelInfo{ID: m.ID, Kind: kind, OwnedBy: m.OwnedBy, Formats: m.SupportedEndpointTypes})
				}
			}
			slices.SortFunc(out.Models, func(a, b modelInfo) int { return strings.Compare(a.ID, b.ID) })
			out.Count = len(out.Models)
			out.Truncated = out.Count < out.Matched
			return Result[listModelsOutput]{Value: out, Text: modelsSummary(out, counts)}, nil
		})
	t.Toolset = "models"
	return t
}

func modelsSummary(out listModelsOutput, counts map[string]int) string {
	if out.Matched == 0 {
		return "No model matched. Call list_models without filters to see every model the key can use."
	}
	var parts []string
	for _, k := range modelKinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	ids := make([]string, 0, len(out.Models))
	for _, m := range out.Models {
		ids = append(ids, m.ID)
	}
	s := fmt.Sprintf("%d models (%s): %s", out.Matched, strings.Join(parts, ", "), strings.Join(ids, ", "))
	if out.Truncated {
		s += fmt.Sprintf(" … (%d more; narrow with query or kind)", out.Matched-out.Count)
	}
	return s
}

// modelKind derives what a model is for from its endpoint types and id.
// Gateways name models freely, so the id patterns are broad on purpose.
func modelKind(m upstream.Model) string {
	id := strings.ToLower(m.ID)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(id, s) {
				return true
			}
		}
		return false
	}
	for _, t := range m.SupportedEndpointTypes {
		switch t {
		case "embeddings":
			return "embedding"
		case "jina-rerank":
			return "rerank"
		case "image-generation":
			return "image"
		case "openai-video":
			return "video"
		}
	}
	switch {
	case has("embedding", "embed-", "bge-", "m3e"):
		return "embedding"
	case has("rerank"):
		return "rerank"
	case has("sora", "veo", "kling", "video", "hailuo", "runway", "seedance", "vidu", "wan2", "pika", "luma"):
		return "video"
	case has("whisper", "tts", "-audio", "audio-", "speech", "transcribe", "voice"):
		return "audio"
	case has("dall-e", "gpt-image", "-image", "image-", "flux", "midjourney", "mj_", "imagen", "jimeng", "seedream", "recraft", "ideogram", "banana", "kontext", "stable-diffusion", "sdxl"):
		return "image"
	}
	return "chat"
}
