package upstream

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
)

// EmbeddingRequest is the body of POST /v1/embeddings.
type EmbeddingRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	Dimensions     *int     `json:"dimensions,omitempty"`
	EncodingFormat string   `json:"encoding_format,omitempty"` // float (default) or base64
}

// Embedding is the vector of one input, in input order by Index.
type Embedding struct {
	Index     int       `json:"index"`
	Embedding []float64 `json:"-"`
}

// EmbeddingResponse is the answer of POST /v1/embeddings.
type EmbeddingResponse struct {
	Model string      `json:"model"`
	Data  []Embedding `json:"data"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// UnmarshalJSON reads the vector as a list of numbers or as base64 of
// little-endian float32s (encoding_format base64).
func (e *Embedding) UnmarshalJSON(b []byte) error {
	var raw struct {
		Index     int             `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Index = raw.Index
	if len(raw.Embedding) > 0 && raw.Embedding[0] == '"' {
		var s string
		if err := json.Unmarshal(raw.Embedding, &s); err != nil {
			return err
		}
		bin, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(bin)%4 != 0 {
			return fmt.Errorf("embedding %d: not base64 float32 data", raw.Index)
		}
		e.Embedding = make([]float64, len(bin)/4)
		for i := range e.Embedding {
			e.Embedding[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:])))
		}
		return nil
	}
	return json.Unmarshal(raw.Embedding, &e.Embedding)
}

// Embed returns one vector per input, ordered like the input:
// POST /v1/embeddings. The request is sent once, never retried.
func (c *Client) Embed(ctx context.Context, req *EmbeddingRequest) (*EmbeddingResponse, error) {
	if len(req.Input) == 0 {
		return nil, fmt.Errorf("embeddings: no input")
	}
	body := *req
	if body.EncodingFormat == "" {
		body.EncodingFormat = "float"
	}
	r, err := jsonRequest(http.MethodPost, "/v1/embeddings", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	var out EmbeddingResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("embeddings: %w", err)
	}
	if len(out.Data) != len(req.Input) {
		return nil, fmt.Errorf("embeddings: %d vectors for %d inputs: %w", len(out.Data), len(req.Input), ErrMalformedResponse)
	}
	slices.SortFunc(out.Data, func(a, b Embedding) int { return a.Index - b.Index })
	dims := len(out.Data[0].Embedding)
	for i, d := range out.Data {
		if d.Index != i || len(d.Embedding) == 0 || len(d.Embedding) != dims {
			return nil, fmt.Errorf("embeddings: vector %d is missing, empty or of another size: %w", i, ErrMalformedResponse)
		}
	}
	return &out, nil
}
