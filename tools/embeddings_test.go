package tools

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestEmbedText(t *testing.T) {
	env := newTestEnv(t)
	texts := []string{"the cat sat on the mat", "the cat sat on a mat", "stock prices fell sharply"}
	res := env.call(t, "embed_text", map[string]any{"texts": texts})
	var out embedTextOutput
	decode(t, res, &out)
	if out.Count != 3 || out.Dimensions != 1536 || out.Model != defaultEmbeddingModel || len(out.Vectors) != 0 {
		t.Fatalf("result count %d dims %d model %q vectors %d; want 3, 1536, the default model, no vectors", out.Count, out.Dimensions, out.Model, len(out.Vectors))
	}
	s := out.Similarity
	if len(s) != 3 || s[0][0] != 1 || s[0][1] != s[1][0] {
		t.Fatalf("similarity %v; want a symmetric 3x3 matrix with 1 on the diagonal", s)
	}
	if !(s[0][1] > s[0][2]) || !(s[0][1] > 0.5) {
		t.Errorf("similarity %v; want the two cat sentences closest", s)
	}
	if !strings.Contains(textOf(res), "#0") || !strings.Contains(textOf(res), "#1") {
		t.Errorf("text %q; want the closest pair named", textOf(res))
	}

	// Vectors when asked, with the dimensions passed on.
	res = env.call(t, "embed_text", map[string]any{"texts": []string{"a", "b"}, "dimensions": 32, "include_vectors": true})
	var vec embedTextOutput
	decode(t, res, &vec)
	if len(vec.Vectors) != 2 || len(vec.Vectors[0]) != 32 || vec.Dimensions != 32 || len(vec.Similarity) != 2 {
		t.Errorf("result %+v; want two 32-dim vectors and a 2x2 matrix", vec)
	}
	var body map[string]any
	_ = json.Unmarshal(env.G.Last(fakegateway.RouteEmbeddings).Body, &body)
	if body["dimensions"] != 32.0 {
		t.Errorf("request %v; want dimensions 32", body)
	}
	if !strings.Contains(textOf(res), "cosine similarity: ") {
		t.Errorf("text %q; want the similarity of the pair", textOf(res))
	}
}

// TestEmbedTextRefusesFloods: results that would flood the context are
// refused before the gateway is paid, with guidance.
func TestEmbedTextRefusesFloods(t *testing.T) {
	env := newTestEnv(t)
	many := make([]string, 200)
	for i := range many {
		many[i] = fmt.Sprintf("text %d", i)
	}
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"vectors of full size", map[string]any{"texts": []string{"a", "b", "c", "d", "e", "f"}, "include_vectors": true}, []string{"tokens of your context", "dimensions of at most", "include_vectors off"}},
		{"large model vectors", map[string]any{"texts": []string{"a", "b", "c"}, "model": "text-embedding-3-large", "include_vectors": true}, []string{"3072 dimensions"}},
		{"matrix too big", map[string]any{"texts": many}, []string{"similarity matrix of 200 texts", "at most 103 texts"}},
		{"empty text", map[string]any{"texts": []string{"a", " "}}, []string{"texts[1] is empty"}},
		{"no texts", map[string]any{"texts": []string{}}, []string{"at least one text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "embed_text", tt.args)
			if !res.IsError {
				t.Fatalf("success; want a refusal")
			}
			for _, w := range tt.want {
				if !strings.Contains(textOf(res), w) {
					t.Errorf("error %q; want it to contain %q", textOf(res), w)
				}
			}
		})
	}
	if n := env.G.Count(fakegateway.RouteEmbeddings); n != 0 {
		t.Errorf("gateway called %d times; want refusals before any call", n)
	}
	// Small enough: 10 vectors of 256 dimensions fit.
	res := env.call(t, "embed_text", map[string]any{"texts": many[:10], "dimensions": 256, "include_vectors": true})
	if res.IsError {
		t.Errorf("10 x 256: %s; want success", textOf(res))
	}
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		n, dims int
		vectors bool
		want    int
	}{
		{1, 1536, false, 0},
		{2, 1536, false, 2 * 2 * matrixNumberChars / charsPerToken},
		{2, 1536, true, (4*matrixNumberChars + 2*1536*vectorNumberChars) / charsPerToken},
	}
	for _, tt := range tests {
		if got := estimateTokens(tt.n, tt.dims, tt.vectors); got != tt.want {
			t.Errorf("estimateTokens(%d, %d, %v) = %d; want %d", tt.n, tt.dims, tt.vectors, got, tt.want)
		}
	}
}
