package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// RouteEmbeddings is the route key of the embeddings API.
const RouteEmbeddings = "POST /v1/embeddings"

// embeddingDims is each embedding model's native vector size.
func embeddingDims(model string) int {
	switch model {
	case "text-embedding-3-large":
		return 3072
	case "text-embedding-3-small", "text-embedding-ada-002":
		return 1536
	}
	return 0
}

// embeddings serves POST /v1/embeddings: Bearer auth (badkey-embeddings),
// input as a string or a list of strings, dimensions only for the
// text-embedding-3 models, float or base64 encoding. Vectors are
// deterministic bags of hashed words, normalised, so equal texts have cosine
// similarity 1 and texts sharing words are closer than texts that do not.
// Fault models: the shared ones; fault-badjson and fault-cut send half a body.
func (g *Gateway) embeddings(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "badkey-embeddings") {
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     *float64        `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	if !g.CheckModel(w, req.Model) {
		return
	}
	if g.ReplayFault(w, req.Model, false) {
		return
	}
	if req.Model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}
	var inputs []string
	var one string
	switch in := bytes.TrimSpace(req.Input); {
	case json.Unmarshal(in, &one) == nil:
		inputs = []string{one}
	case json.Unmarshal(in, &inputs) == nil && len(inputs) > 0:
	default:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input", nil,
			"'input' must be a string or a non-empty array of strings.")
		return
	}
	for i, s := range inputs {
		if s == "" {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input", nil,
				"'$.input' is invalid: input["+strconv.Itoa(i)+"] is an empty string.")
			return
		}
	}
	if len(inputs) > 2048 {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input", nil,
			"'$.input' is invalid: at most 2048 inputs per request.")
		return
	}
	dims := embeddingDims(req.Model)
	if dims == 0 {
		if !strings.HasPrefix(req.Model, "fault-") {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "model", nil,
				"This model does not support embeddings: "+req.Model)
			return
		}
		dims = 8
	}
	if d := req.Dimensions; d != nil {
		if req.Model == "text-embedding-ada-002" {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "dimensions", nil,
				"This model does not support specifying dimensions.")
			return
		}
		if *d < 1 || *d > float64(dims) || *d != math.Trunc(*d) {
			WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "dimensions", "invalid_value",
				"Invalid 'dimensions': must be an integer between 1 and "+strconv.Itoa(dims)+".")
			return
		}
		dims = int(*d)
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "encoding_format", "invalid_value",
			"Invalid value: '"+req.EncodingFormat+"'. Supported values are: 'float' and 'base64'.")
		return
	}

	type item struct {
		Embedding any    `json:"embedding"`
		Index     int    `json:"index"`
		Object    string `json:"object"`
	}
	data := make([]item, len(inputs))
	tokens := 0
	for i, s := range inputs {
		v := FakeEmbedding(s, dims)
		tokens += len(strings.Fields(s))
		var emb any = v
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(float32(f)))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = item{Embedding: emb, Index: i, Object: "embedding"}
	}
	// The upstream may list vectors out of order; clients must use index.
	if len(data) > 1 {
		data[0], data[1] = data[1], data[0]
	}
	body := map[string]any{"data": data, "model": req.Model, "object": "list",
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}}
	writeRelayed(w, req.Model, body)
}

// FakeEmbedding is the fake's vector for text: the normalised sum of one
// pseudo-random vector per lower-cased word, rounded to 6 decimals as the
// recorded upstream sends them.
func FakeEmbedding(text string, dims int) []float64 {
	v := make([]float64, dims)
	for _, word := range strings.Fields(strings.ToLower(text)) {
		h := fnv.New64a()
		h.Write([]byte(word))
		rng := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
		for i := range v {
			v[i] += rng.NormFloat64()
		}
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		v[0], norm = 1, 1
	}
	for i := range v {
		v[i] = math.Round(v[i]/norm*1e6) / 1e6
	}
	return v
}
