package fakegateway

import (
	"net/http"
	"slices"
)

// modelCreated is the constant "created" new-api reports for every model.
const modelCreated = 1626777600

// catalogueModel is one model the gateway offers.
type catalogueModel struct {
	id      string
	ownedBy string
	types   []string // supported_endpoint_types
}

// catalogue is the immutable list of models, sorted by id as new-api lists
// them. Fault models have no endpoint metadata, which new-api shows as [].
var catalogue = [...]catalogueModel{
	{"claude-3-5-sonnet-20241022", "anthropic", []string{"anthropic", "openai"}},
	{"claude-sonnet-4-20250514", "anthropic", []string{"anthropic", "openai"}},
	{"claude-sonnet-4-20250514-thinking", "anthropic", []string{"anthropic", "openai"}},
	{"dall-e-2", "openai", []string{"image-generation"}},
	{"dall-e-3", "openai", []string{"image-generation"}},
	{ModelFault401Upstream, "openai", []string{}},
	{ModelFault429, "openai", []string{}},
	{ModelFault429Empty, "openai", []string{}},
	{ModelFault500, "openai", []string{}},
	{ModelFault502HTML, "openai", []string{}},
	{ModelFault503CPU, "openai", []string{}},
	{ModelFaultBadJSON, "openai", []string{}},
	{ModelFaultBadJSONContent, "openai", []string{}},
	{ModelFaultCut, "openai", []string{}},
	{ModelFaultError200, "openai", []string{}},
	{ModelFaultNotAllowed, "openai", []string{}},
	{ModelFaultQuotaToken, "openai", []string{}},
	{ModelFaultQuotaUser, "openai", []string{}},
	{ModelFaultSlow, "openai", []string{}},
	{ModelFaultSSEError, "openai", []string{}},
	{ModelFaultTrunc, "openai", []string{}},
	{ModelFaultUnpriced, "openai", []string{}},
	{"flux-kontext-pro", "openai", []string{"image-generation"}},
	{"gemini-2.5-flash", "gemini", []string{"gemini", "openai"}},
	{"gemini-2.5-flash-image-preview", "gemini", []string{"gemini", "openai"}},
	{"gpt-4.1", "openai", []string{"openai", "openai-response"}},
	{"gpt-4o", "openai", []string{"openai", "openai-response"}},
	{"gpt-4o-audio-preview", "openai", []string{"openai"}},
	{"gpt-4o-image", "openai", []string{"openai"}},
	{"gpt-4o-mini", "openai", []string{"openai", "openai-response"}},
	{"gpt-5", "openai", []string{"openai", "openai-response"}},
	{"gpt-image-1", "openai", []string{"image-generation"}},
	{"mj_blend", "midjourney", []string{}},
	{"mj_describe", "midjourney", []string{}},
	{"mj_imagine", "midjourney", []string{}},
	{"mj_upscale", "midjourney", []string{}},
	{"mj_variation", "midjourney", []string{}},
	{"o3-mini", "openai", []string{"openai", "openai-response"}},
	{"sora-2", "openai", []string{"openai-video"}},
	{"sora_video2", "openai", []string{"openai"}},
	{"text-embedding-3-large", "openai", []string{"embeddings"}},
	{"text-embedding-3-small", "openai", []string{"embeddings"}},
	{"tts-1", "openai", []string{"openai"}},
	{"veo3", "openai", []string{"openai-video"}},
	{"whisper-1", "openai", []string{"openai"}},
}

// Models returns the ids of the catalogue, sorted.
func (g *Gateway) Models() []string {
	ids := make([]string, len(catalogue))
	for i, m := range catalogue {
		ids[i] = m.id
	}
	return ids
}

// KnownModel reports whether id is in the catalogue.
func (g *Gateway) KnownModel(id string) bool {
	return slices.ContainsFunc(catalogue[:], func(m catalogueModel) bool { return m.id == id })
}

// modelEntry is an item of the current /v1/models list.
type modelEntry struct {
	ID                     string   `json:"id"`
	Object                 string   `json:"object"`
	Created                int64    `json:"created"`
	OwnedBy                string   `json:"owned_by"`
	SupportedEndpointTypes []string `json:"supported_endpoint_types"`
}

// legacyModelEntry is an item of the April-2025 /v1/models list.
type legacyModelEntry struct {
	ID         string             `json:"id"`
	Object     string             `json:"object"`
	Created    int64              `json:"created"`
	OwnedBy    string             `json:"owned_by"`
	Permission []legacyPermission `json:"permission"`
	Root       string             `json:"root"`
	Parent     *string            `json:"parent"`
}

type legacyPermission struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"`
	Created            int64   `json:"created"`
	AllowCreateEngine  bool    `json:"allow_create_engine"`
	AllowSampling      bool    `json:"allow_sampling"`
	AllowLogprobs      bool    `json:"allow_logprobs"`
	AllowSearchIndices bool    `json:"allow_search_indices"`
	AllowView          bool    `json:"allow_view"`
	AllowFineTuning    bool    `json:"allow_fine_tuning"`
	Organization       string  `json:"organization"`
	Group              *string `json:"group"`
	IsBlocking         bool    `json:"is_blocking"`
}

// anthropicModelEntry is an item of the Anthropic-format list.
type anthropicModelEntry struct {
	ID          string `json:"id"`
	CreatedAt   string `json:"created_at"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
}

// geminiModelEntry is an item of the Gemini-format list; new-api fills in
// only the names.
type geminiModelEntry struct {
	Name                       string  `json:"name"`
	BaseModelID                *string `json:"baseModelId"`
	Version                    *string `json:"version"`
	DisplayName                string  `json:"displayName"`
	Description                *string `json:"description"`
	InputTokenLimit            *int    `json:"inputTokenLimit"`
	OutputTokenLimit           *int    `json:"outputTokenLimit"`
	SupportedGenerationMethods *[]any  `json:"supportedGenerationMethods"`
	Thinking                   *bool   `json:"thinking"`
	Temperature                *int    `json:"temperature"`
	MaxTemperature             *int    `json:"maxTemperature"`
	TopP                       *int    `json:"topP"`
	TopK                       *int    `json:"topK"`
}

// GeminiModelList is the Gemini-format model list new-api serves on
// GET /v1beta/models and on GET /v1/models?key=.
func GeminiModelList() any {
	models := make([]geminiModelEntry, len(catalogue))
	for i, m := range catalogue {
		models[i] = geminiModelEntry{Name: m.id, DisplayName: m.id}
	}
	return struct {
		Models        []geminiModelEntry `json:"models"`
		NextPageToken *string            `json:"nextPageToken"`
	}{Models: models}
}

// listModels serves GET /v1/models. Like new-api it picks the format from the
// credentials: x-api-key with anthropic-version gives the Anthropic list,
// ?key= or x-goog-api-key the Gemini list, anything else the OpenAI list.
func (g *Gateway) listModels(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get("X-Api-Key") != "" && r.Header.Get("Anthropic-Version") != "":
		if !g.CheckKey(w, r.Header.Get("X-Api-Key"), "models-bad-token") {
			return
		}
		data := make([]anthropicModelEntry, len(catalogue))
		for i, m := range catalogue {
			data[i] = anthropicModelEntry{ID: m.id, CreatedAt: "2021-07-20T10:40:00Z", DisplayName: m.id, Type: "model"}
		}
		WriteJSON(w, http.StatusOK, map[string]any{
			"data":     data,
			"first_id": data[0].ID,
			"has_more": false,
			"last_id":  data[len(data)-1].ID,
		})
		return
	case r.URL.Query().Has("key") || r.Header.Get("X-Goog-Api-Key") != "":
		key := r.Header.Get("X-Goog-Api-Key")
		if key == "" {
			key = r.URL.Query().Get("key")
		}
		if !g.CheckKey(w, key, "models-bad-token") {
			return
		}
		WriteJSON(w, http.StatusOK, GeminiModelList())
		return
	}

	if r.Header.Get("Authorization") == "" {
		g.Replay(w, "models-no-token")
		return
	}
	if !g.CheckKey(w, BearerKey(r), "models-bad-token") {
		return
	}
	if g.legacy {
		data := make([]legacyModelEntry, len(catalogue))
		for i, m := range catalogue {
			data[i] = legacyModelEntry{
				ID: m.id, Object: "model", Created: modelCreated, OwnedBy: m.ownedBy, Root: m.id,
				Permission: []legacyPermission{{
					ID: "modelperm-fakegateway", Object: "model_permission", Created: modelCreated,
					AllowCreateEngine: true, AllowSampling: true, AllowLogprobs: true, AllowView: true,
					Organization: "*",
				}},
			}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"data": data, "success": true})
		return
	}
	data := make([]modelEntry, len(catalogue))
	for i, m := range catalogue {
		data[i] = modelEntry{ID: m.id, Object: "model", Created: modelCreated, OwnedBy: m.ownedBy, SupportedEndpointTypes: m.types}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": data, "object": "list", "success": true})
}

// retrieveModel serves GET /v1/models/{id}: a known model in the shape of
// models-retrieve-known, an unknown one as HTTP 200 with an error body
// (models-retrieve-unknown).
func (g *Gateway) retrieveModel(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "models-bad-token") {
		return
	}
	id := r.PathValue("id")
	if !g.KnownModel(id) {
		g.replaySubst(w, "models-retrieve-unknown", "gpt-9-unknown", id)
		return
	}
	WriteJSON(w, http.StatusOK, modelEntry{ID: id, Object: "model", Created: modelCreated, OwnedBy: "advanced_custom"})
}
