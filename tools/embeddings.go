package tools

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// defaultEmbeddingModel is used when embed_text names no model.
const defaultEmbeddingModel = "text-embedding-3-small"

// Limits of embed_text. A result above maxResultTokens would flood the
// agent's context: numbers tokenize at about 3 characters per token.
const (
	maxEmbedTexts     = 2048
	maxResultTokens   = 25000
	charsPerToken     = 3
	vectorNumberChars = 10 // "-0.012345," as the vectors are rounded
	matrixNumberChars = 7  // "0.8123," as the matrix is rounded
	assumedDimensions = 1536
)

// nativeDimensions is the vector size of well-known embedding models.
func nativeDimensions(model string) int {
	switch {
	case strings.Contains(model, "text-embedding-3-large"):
		return 3072
	case strings.Contains(model, "text-embedding-3-small"), strings.Contains(model, "ada-002"):
		return 1536
	}
	return 0
}

type embedTextInput struct {
	Texts          []string `json:"texts" jsonschema:"minItems=1"`
	Model          string   `json:"model,omitempty" jsonschema_description:"Default text-embedding-3-small."`
	Dimensions     *int     `json:"dimensions,omitempty" jsonschema:"minimum=1" jsonschema_description:"Shorter vectors (text-embedding-3 only)."`
	IncludeVectors bool     `json:"include_vectors,omitempty" jsonschema_description:"Also return the vectors (large)."`
}

func (in *embedTextInput) validate() error {
	if len(in.Texts) == 0 {
		return userErrorf("texts is empty: give at least one text")
	}
	if len(in.Texts) > maxEmbedTexts {
		return userErrorf("%d texts: at most %d per call", len(in.Texts), maxEmbedTexts)
	}
	for i, s := range in.Texts {
		if strings.TrimSpace(s) == "" {
			return userErrorf("texts[%d] is empty", i)
		}
	}
	if in.Dimensions != nil && *in.Dimensions < 1 {
		return userErrorf("dimensions must be at least 1")
	}
	return nil
}

type embedTextOutput struct {
	Model          string      `json:"model"`
	Dimensions     int         `json:"dimensions"`
	Count          int         `json:"count"`
	Usage          tokensOut   `json:"usage"`
	Similarity     [][]float64 `json:"similarity,omitempty" jsonschema_description:"[i][j]: cosine similarity of texts i and j."`
	Vectors        [][]float64 `json:"vectors,omitempty"`
	VectorsOmitted string      `json:"vectors_omitted,omitempty"`
}

// estimateTokens is the context a result would take: the similarity matrix,
// plus the vectors when they are included.
func estimateTokens(n, dims int, vectors bool) int {
	chars := 0
	if n >= 2 {
		chars += n * n * matrixNumberChars
	}
	if vectors {
		chars += n * dims * vectorNumberChars
	}
	return chars / charsPerToken
}

func embedTextTool(d *Deps) Tool {
	t := define("embed_text",
		"Compare texts by meaning: cosine similarity of 2+ texts; vectors with include_vectors. Refuses results too big for context. Cheap.",
		hints{readOnly: true, idempotent: true, openWorld: true},
		func(ctx context.Context, call *Call, in embedTextInput) (Result[embedTextOutput], error) {
			model := in.Model
			if model == "" {
				model = defaultEmbeddingModel
			}
			n := len(in.Texts)
			dims := nativeDimensions(model)
			if in.Dimensions != nil {
				dims = *in.Dimensions
			}
			if dims == 0 {
				dims = assumedDimensions
			}
			if est := estimateTokens(n, dims, in.IncludeVectors); est > maxResultTokens {
				return Result[embedTextOutput]{}, tooLargeError(n, dims, in.IncludeVectors, est)
			}
			resp, err := d.Client.Embed(ctx, &upstream.EmbeddingRequest{Model: model, Input: in.Texts, Dimensions: in.Dimensions})
			if err != nil {
				return Result[embedTextOutput]{}, err
			}
			vectors := make([][]float64, len(resp.Data))
			for i, e := range resp.Data {
				vectors[i] = e.Embedding
			}
			out := embedTextOutput{
				Model:      resp.Model,
				Dimensions: len(vectors[0]),
				Count:      n,
				Usage:      tokensOut{InputTokens: resp.Usage.PromptTokens},
			}
			if out.Model == "" {
				out.Model = model
			}
			if n >= 2 {
				out.Similarity = similarityMatrix(vectors)
			}
			if in.IncludeVectors {
				// The real size is known only now, for models we could not size.
				if est := estimateTokens(n, out.Dimensions, true); est > maxResultTokens {
					out.VectorsOmitted = fmt.Sprintf("%d vectors of %d dimensions would take about %d tokens of your context (limit %d); ask with dimensions (e.g. 256) or fewer texts", n, out.Dimensions, est, maxResultTokens)
				} else {
					out.Vectors = make([][]float64, n)
					for i, v := range vectors {
						out.Vectors[i] = roundAll(v, 6)
					}
				}
			}
			return Result[embedTextOutput]{Value: out, Text: embedText(out, in.Texts)}, nil
		})
	t.Toolset = "embeddings"
	return t
}

func tooLargeError(n, dims int, vectors bool, est int) error {
	if vectors {
		fit := max(1, (maxResultTokens*charsPerToken-n*n*matrixNumberChars)/(n*vectorNumberChars))
		return userErrorf("%d vectors of %d dimensions would take about %d tokens of your context (limit %d). Leave include_vectors off to get only the similarity matrix, or ask for dimensions of at most %d, or send fewer texts.", n, dims, est, maxResultTokens, fit)
	}
	fit := int(math.Sqrt(float64(maxResultTokens * charsPerToken / matrixNumberChars)))
	return userErrorf("the similarity matrix of %d texts would take about %d tokens of your context (limit %d): compare at most %d texts per call, e.g. one query against batches of candidates.", n, est, maxResultTokens, fit)
}

// similarityMatrix is the cosine similarity of every pair, rounded to 4
// decimals.
func similarityMatrix(vs [][]float64) [][]float64 {
	norms := make([]float64, len(vs))
	for i, v := range vs {
		norms[i] = math.Sqrt(dot(v, v))
	}
	m := make([][]float64, len(vs))
	for i := range vs {
		m[i] = make([]float64, len(vs))
		for j := range vs {
			switch {
			case i == j:
				m[i][j] = 1
			case j < i:
				m[i][j] = m[j][i]
			case norms[i] == 0 || norms[j] == 0:
				m[i][j] = 0
			default:
				m[i][j] = math.Round(dot(vs[i], vs[j])/(norms[i]*norms[j])*1e4) / 1e4
			}
		}
	}
	return m
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		s += a[i] * b[i]
	}
	return s
}

func roundAll(v []float64, decimals int) []float64 {
	p := math.Pow(10, float64(decimals))
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*p) / p
	}
	return out
}

// embedText summarises the result: the similarity of two texts, or the
// closest pairs of many.
func embedText(out embedTextOutput, texts []string) string {
	var b strings.Builder
	switch {
	case out.Count == 2:
		fmt.Fprintf(&b, "cosine similarity: %.4f\n", out.Similarity[0][1])
	case out.Count > 2:
		type pair struct {
			i, j int
			s    float64
		}
		var pairs []pair
		for i := range out.Similarity {
			for j := i + 1; j < len(out.Similarity); j++ {
				pairs = append(pairs, pair{i, j, out.Similarity[i][j]})
			}
		}
		slices.SortFunc(pairs, func(a, b pair) int { return -cmpFloat(a.s, b.s) })
		b.WriteString("most similar pairs:\n")
		for _, p := range pairs[:min(5, len(pairs))] {
			fmt.Fprintf(&b, "  %.4f  #%d %q ~ #%d %q\n", p.s, p.i, truncate(texts[p.i], 40), p.j, truncate(texts[p.j], 40))
		}
		b.WriteString("(full matrix in similarity)\n")
	}
	if out.VectorsOmitted != "" {
		b.WriteString("vectors omitted: " + out.VectorsOmitted + "\n")
	} else if len(out.Vectors) > 0 {
		b.WriteString("vectors are in structuredContent.vectors\n")
	}
	fmt.Fprintf(&b, "[%s, %d texts, %d dimensions, %d tokens]", out.Model, out.Count, out.Dimensions, out.Usage.InputTokens)
	return b.String()
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
