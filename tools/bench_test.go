package tools

import (
	"bytes"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// BenchmarkChatCall is one chat call through the whole server stack: MCP
// request, middleware, argument binding, the upstream client streaming from
// the fake gateway, and the structured result.
func BenchmarkChatCall(b *testing.B) {
	env := newTestEnv(b, withEnv("WENWEN_LOG_LEVEL", "warn"))
	req := mcp.CallToolRequest{}
	req.Params.Name = "chat"
	req.Params.Arguments = map[string]any{"prompt": "benchmark"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := env.Client.CallTool(b.Context(), req)
		if err != nil || res.IsError {
			b.Fatalf("chat: %v %v", err, res)
		}
	}
}

// BenchmarkChatOverhead alternates a direct streamed HTTP call to the fake
// gateway and the same chat through the server, in one run, and reports both
// medians and their difference: the latency the server adds.
func BenchmarkChatOverhead(b *testing.B) {
	env := newTestEnv(b, withEnv("WENWEN_LOG_LEVEL", "warn"))
	body := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"benchmark"}],"stream":true,"stream_options":{"include_usage":true}}`)
	hc := &http.Client{}
	direct := func() {
		r, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, env.G.URL+"/v1/chat/completions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+fakegateway.Key)
		r.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "chat"
	req.Params.Arguments = map[string]any{"prompt": "benchmark"}
	var ds, ss []time.Duration
	for b.Loop() {
		t0 := time.Now()
		direct()
		t1 := time.Now()
		res, err := env.Client.CallTool(b.Context(), req)
		t2 := time.Now()
		if err != nil || res.IsError {
			b.Fatalf("chat: %v %v", err, res)
		}
		ds, ss = append(ds, t1.Sub(t0)), append(ss, t2.Sub(t1))
	}
	d, s := p50(ds), p50(ss)
	b.ReportMetric(float64(d.Microseconds()), "p50-direct-µs")
	b.ReportMetric(float64(s.Microseconds()), "p50-server-µs")
	b.ReportMetric(float64((s - d).Microseconds()), "p50-added-µs")
}

func p50(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
