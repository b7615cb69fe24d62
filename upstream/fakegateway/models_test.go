package fakegateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func TestCatalogue(t *testing.T) {
	g := New(t)
	ids := g.Models()
	if !slices.IsSorted(ids) {
		t.Errorf("catalogue is not sorted: %q", ids)
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Errorf("catalogue has duplicates: %q", ids)
	}
	want := []string{
		"gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-5", "o3-mini", "dall-e-3", "dall-e-2", "gpt-image-1",
		"gpt-4o-image", "flux-kontext-pro", "gemini-2.5-flash", "gemini-2.5-flash-image-preview",
		"sora_video2", "sora-2", "veo3", "mj_imagine", "text-embedding-3-small", "text-embedding-3-large",
		"whisper-1", "tts-1", "gpt-4o-audio-preview", "claude-sonnet-4-20250514",
		"claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514-thinking",
		ModelFault429, ModelFault429Empty, ModelFault500, ModelFault502HTML, ModelFault503CPU,
		ModelFault401Upstream, ModelFaultQuotaToken, ModelFaultQuotaUser, ModelFaultNotAllowed,
		ModelFaultUnpriced, ModelFaultError200, ModelFaultTrunc, ModelFaultCut, ModelFaultSSEError,
		ModelFaultBadJSON, ModelFaultBadJSONContent, ModelFaultSlow,
	}
	for _, id := range want {
		if !slices.Contains(ids, id) || !g.KnownModel(id) {
			t.Errorf("catalogue lacks %s", id)
		}
	}
	if g.KnownModel("gpt-9-unknown") {
		t.Error("KnownModel(gpt-9-unknown) = true")
	}
	ids[0] = "changed"
	if g.Models()[0] == "changed" {
		t.Error("Models returns the catalogue itself")
	}
}

func TestListModels(t *testing.T) {
	g := New(t)
	got := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", nil)
	if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", got.status, got.header.Get("Content-Type"))
	}
	if k := keysOf(t, got.body); !slices.Equal(k, []string{"data", "object", "success"}) {
		t.Errorf("top-level keys = %q", k)
	}
	var list struct {
		Data    []json.RawMessage `json:"data"`
		Object  string            `json:"object"`
		Success bool              `json:"success"`
	}
	if err := json.Unmarshal(got.body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Object != "list" || !list.Success || len(list.Data) != len(g.Models()) {
		t.Errorf("object %q success %v, %d models; want list true %d", list.Object, list.Success, len(list.Data), len(g.Models()))
	}
	owners := map[string]string{}
	for i, raw := range list.Data {
		if k := keysOf(t, raw); !slices.Equal(k, []string{"created", "id", "object", "owned_by", "supported_endpoint_types"}) {
			t.Fatalf("item keys = %q", k)
		}
		var m struct {
			ID      string   `json:"id"`
			Object  string   `json:"object"`
			Created int64    `json:"created"`
			OwnedBy string   `json:"owned_by"`
			Types   []string `json:"supported_endpoint_types"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID != g.Models()[i] || m.Object != "model" || m.Created != 1626777600 || m.Types == nil {
			t.Errorf("item %d = %+v", i, m)
		}
		owners[m.ID] = m.OwnedBy
	}
	if owners["mj_imagine"] != "midjourney" || owners["gpt-4o-mini"] != "openai" {
		t.Errorf("owned_by: mj_imagine %q, gpt-4o-mini %q", owners["mj_imagine"], owners["gpt-4o-mini"])
	}
	// The item shape matches the recording.
	var rec struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(mustRecording(t, "models-ok").Body, &rec); err != nil {
		t.Fatal(err)
	}
	if a, b := keysOf(t, rec.Data[0]), keysOf(t, list.Data[0]); !slices.Equal(a, b) {
		t.Errorf("item keys %q; recorded %q", b, a)
	}
}

func TestListModelsLegacy(t *testing.T) {
	g := New(t, WithLegacyModelList())
	got := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", nil)
	if got.status != http.StatusOK {
		t.Fatalf("status %d", got.status)
	}
	if k := keysOf(t, got.body); !slices.Equal(k, []string{"data", "success"}) {
		t.Errorf("top-level keys = %q; want data, success (no object)", k)
	}
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got.body, &list); err != nil || len(list.Data) == 0 {
		t.Fatalf("data: %v", err)
	}
	for _, raw := range list.Data {
		if k := keysOf(t, raw); !slices.Equal(k, []string{"created", "id", "object", "owned_by", "parent", "permission", "root"}) {
			t.Fatalf("item keys = %q", k)
		}
	}
	var first struct {
		ID         string           `json:"id"`
		Root       string           `json:"root"`
		Parent     *string          `json:"parent"`
		Permission []map[string]any `json:"permission"`
	}
	if err := json.Unmarshal(list.Data[0], &first); err != nil {
		t.Fatal(err)
	}
	if first.Root != first.ID || first.Parent != nil || len(first.Permission) != 1 || first.Permission[0]["object"] != "model_permission" {
		t.Errorf("legacy item = %+v", first)
	}
}

func TestListModelsOtherFormats(t *testing.T) {
	g := New(t)
	anth := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", map[string]string{
		"Authorization": "", "X-Api-Key": Key, "Anthropic-Version": "2023-06-01",
	})
	if anth.status != http.StatusOK {
		t.Fatalf("anthropic: status %d %s", anth.status, anth.body)
	}
	if k := keysOf(t, anth.body); !slices.Equal(k, []string{"data", "first_id", "has_more", "last_id"}) {
		t.Errorf("anthropic keys = %q", k)
	}
	var a struct {
		Data []struct {
			ID, CreatedAt, DisplayName, Type string
		} `json:"data"`
		FirstID string `json:"first_id"`
		LastID  string `json:"last_id"`
	}
	if err := json.Unmarshal(anth.body, &a); err != nil {
		t.Fatal(err)
	}
	ids := g.Models()
	if len(a.Data) != len(ids) || a.FirstID != ids[0] || a.LastID != ids[len(ids)-1] {
		t.Errorf("anthropic list: %d items, first %q last %q", len(a.Data), a.FirstID, a.LastID)
	}

	gem := send(t.Context(), t, g, http.MethodGet, "/v1/models?key="+Key, "", map[string]string{"Authorization": ""})
	if gem.status != http.StatusOK {
		t.Fatalf("gemini: status %d %s", gem.status, gem.body)
	}
	if k := keysOf(t, gem.body); !slices.Equal(k, []string{"models", "nextPageToken"}) {
		t.Errorf("gemini keys = %q", k)
	}
	var rec, ours struct {
		Models []json.RawMessage `json:"models"`
	}
	if err := json.Unmarshal(mustRecording(t, "models-v1-with-query-key").Body, &rec); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(gem.body, &ours); err != nil {
		t.Fatal(err)
	}
	if a, b := keysOf(t, rec.Models[0]), keysOf(t, ours.Models[0]); !slices.Equal(a, b) {
		t.Errorf("gemini item keys %q; recorded %q", b, a)
	}

	bad := send(t.Context(), t, g, http.MethodGet, "/v1/models?key=sk-wrong", "", map[string]string{"Authorization": ""})
	if bad.status != http.StatusUnauthorized {
		t.Errorf("gemini with a bad key: status %d", bad.status)
	}
}

func TestListModelsBadToken(t *testing.T) {
	g := New(t)
	for _, tt := range []struct {
		auth, recording string
	}{
		{"", "models-no-token"},
		{"Bearer sk-nope", "models-bad-token"},
	} {
		got := send(t.Context(), t, g, http.MethodGet, "/v1/models", "", map[string]string{"Authorization": tt.auth})
		rec := mustRecording(t, tt.recording)
		if got.status != rec.Status || !bytes.Equal(got.body, rec.Body) {
			t.Errorf("auth %q: %d %s; want %d %s", tt.auth, got.status, got.body, rec.Status, rec.Body)
		}
	}
	if got := g.Count(RouteModels); got != 2 {
		t.Errorf("Count = %d; want 2", got)
	}
}

func TestRetrieveModel(t *testing.T) {
	g := New(t)
	known := send(t.Context(), t, g, http.MethodGet, "/v1/models/gpt-4o-mini", "", nil)
	if rec := mustRecording(t, "models-retrieve-known"); known.status != 200 || !bytes.Equal(known.body, rec.Body) {
		t.Errorf("known: %d %s; want %s", known.status, known.body, rec.Body)
	}

	unknown := send(t.Context(), t, g, http.MethodGet, "/v1/models/gpt-9-unknown", "", nil)
	if rec := mustRecording(t, "models-retrieve-unknown"); unknown.status != 200 || !bytes.Equal(unknown.body, rec.Body) {
		t.Errorf("unknown: %d %s; want 200 %s", unknown.status, unknown.body, rec.Body)
	}
	other := send(t.Context(), t, g, http.MethodGet, "/v1/models/my-model", "", nil)
	e := errorEnvelopeOf(t, other.body)
	if other.status != 200 || e["message"] != "The model 'my-model' does not exist" || e["code"] != "model_not_found" {
		t.Errorf("my-model: %d %v", other.status, e)
	}

	bad := send(t.Context(), t, g, http.MethodGet, "/v1/models/gpt-4o", "", map[string]string{"Authorization": "Bearer x"})
	if bad.status != http.StatusUnauthorized {
		t.Errorf("bad key: status %d", bad.status)
	}
}
