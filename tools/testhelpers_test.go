package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is a whole server (NewDeps, All, NewServer, as run builds them)
// pointed at a fake gateway, reached through mcp-go's in-process client
// speaking protocol 2025-11-25.
type testEnv struct {
	G      *fakegateway.Gateway
	Deps   *Deps
	Srv    *server.MCPServer
	Client *client.Client
	Logs   *syncBuffer
	Tools  []Tool

	mu    sync.Mutex
	notes []mcp.JSONRPCNotification
}

type envSettings struct {
	environ map[string]string
	gwOpts  []fakegateway.Option
	tools   func(*Deps) []Tool
}

type envOption func(*envSettings)

// withEnv sets a configuration variable (WENWEN_ prefix included).
func withEnv(k, v string) envOption { return func(s *envSettings) { s.environ[k] = v } }

// withGateway passes options to the fake gateway.
func withGateway(opts ...fakegateway.Option) envOption {
	return func(s *envSettings) { s.gwOpts = append(s.gwOpts, opts...) }
}

// withTools serves a chosen tool list instead of All.
func withTools(f func(*Deps) []Tool) envOption { return func(s *envSettings) { s.tools = f } }

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	s := &envSettings{environ: map[string]string{}, tools: All}
	for _, o := range opts {
		o(s)
	}
	g := fakegateway.New(t, s.gwOpts...)
	environ := map[string]string{
		"WENWEN_API_KEY":    fakegateway.Key,
		"WENWEN_BASE_URL":   g.URL,
		"WENWEN_OUTPUT_DIR": t.TempDir(),
		"WENWEN_LOG_LEVEL":  "debug",
	}
	for k, v := range s.environ {
		environ[k] = v
	}
	var kv []string
	for k, v := range environ {
		kv = append(kv, k+"="+v)
	}
	cfg, err := ParseConfig(kv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	deps, err := NewDeps(cfg, zerolog.New(logs).Level(zerolog.DebugLevel), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deps.Close() })
	tools := s.tools(deps)
	srv := NewServer(deps, "test", tools)
	c, err := client.NewInProcessClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{G: g, Deps: deps, Srv: srv, Client: c, Logs: logs, Tools: tools}
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		env.mu.Lock()
		env.notes = append(env.notes, n)
		env.mu.Unlock()
	})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "wenwen-mcp-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return env
}

// call calls a tool and fails the test on a protocol error (not on isError).
func (e *testEnv) call(t testing.TB, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	return e.callCtx(t, t.(interface{ Context() context.Context }).Context(), name, args, nil)
}

// callWithProgress calls a tool with a progressToken.
func (e *testEnv) callWithProgress(t testing.TB, name string, args map[string]any, token string) *mcp.CallToolResult {
	t.Helper()
	return e.callCtx(t, t.(interface{ Context() context.Context }).Context(), name, args, token)
}

func (e *testEnv) callCtx(t testing.TB, ctx context.Context, name string, args map[string]any, token mcp.ProgressToken) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if token != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: token}
	}
	res, err := e.Client.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	e.checkResult(t, name, res)
	return res
}

// progress returns the progress notifications received for token.
func (e *testEnv) progress(token string) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []map[string]any
	for _, n := range e.notes {
		if n.Method != "notifications/progress" {
			continue
		}
		if n.Params.AdditionalFields["progressToken"] == token {
			out = append(out, n.Params.AdditionalFields)
		}
	}
	return out
}

// checkResult asserts the result contract every tool keeps: errors are text
// only; successes carry structuredContent valid against the output schema
// plus a text item.
func (e *testEnv) checkResult(t testing.TB, name string, res *mcp.CallToolResult) {
	t.Helper()
	if res.IsError {
		if res.StructuredContent != nil {
			t.Errorf("%s: isError result carries structuredContent", name)
		}
		if textOf(res) == "" {
			t.Errorf("%s: isError result without text", name)
		}
		return
	}
	if res.StructuredContent == nil {
		t.Fatalf("%s: success without structuredContent: %s", name, textOf(res))
	}
	if len(res.Content) == 0 {
		t.Errorf("%s: success without a text item", name)
	}
	for _, tool := range e.Tools {
		if tool.Def.Name == name {
			validateAgainst(t, tool.Def.RawOutputSchema, res.StructuredContent)
		}
	}
}

// validateAgainst validates v (round-tripped through JSON as a client would
// see it) against a JSON schema.
func validateAgainst(t testing.TB, rawSchema json.RawMessage, v any) {
	t.Helper()
	var s jsonschema.Schema
	if err := json.Unmarshal(rawSchema, &s); err != nil {
		t.Fatalf("output schema: %v", err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("resolve output schema: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var inst any
	if err := json.Unmarshal(b, &inst); err != nil {
		t.Fatal(err)
	}
	if err := rs.Validate(inst); err != nil {
		t.Errorf("structuredContent does not match the output schema: %v\n%s", err, b)
	}
}

// textOf joins the text items of a result.
func textOf(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// decode decodes a result's structuredContent into out.
func decode(t testing.TB, res *mcp.CallToolResult, out any) {
	t.Helper()
	if res.IsError {
		t.Fatalf("unexpected isError: %s", textOf(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode structuredContent: %v\n%s", err, b)
	}
}
