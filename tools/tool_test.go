package tools

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

type emptyIn struct{}
type emptyOut struct {
	OK bool `json:"ok"`
}

func TestRecoverAndTimeoutMiddleware(t *testing.T) {
	panicky := define("panic_now", "A test tool that panics, to prove the server survives a bug in a handler.", hints{readOnly: true},
		func(ctx context.Context, call *Call, in emptyIn) (Result[emptyOut], error) {
			panic("boom")
		})
	panicky.Toolset = "test"
	slow := define("wait_forever", "A test tool that waits for its context, to prove the per-call deadline works.", hints{readOnly: true},
		func(ctx context.Context, call *Call, in emptyIn) (Result[emptyOut], error) {
			<-ctx.Done()
			return Result[emptyOut]{}, context.Cause(ctx)
		})
	slow.Toolset, slow.Timeout = "test", 50*time.Millisecond
	okTool := define("ok_now", "A test tool that succeeds, to prove the server still serves after a panic.", hints{readOnly: true},
		func(ctx context.Context, call *Call, in emptyIn) (Result[emptyOut], error) {
			call.Progress.Report(1, 2, "nil-safe without a token")
			call.Progress.Final(2, 2, "done")
			return Result[emptyOut]{Value: emptyOut{OK: true}, Text: "ok"}, nil
		})
	okTool.Toolset = "test"
	env := newTestEnv(t, withTools(func(*Deps) []Tool { return []Tool{panicky, slow, okTool} }))

	res := env.call(t, "panic_now", nil)
	if !res.IsError || !strings.Contains(textOf(res), "internal error") {
		t.Errorf("panicking tool = %q; want an isError", textOf(res))
	}
	if logs := env.Logs.String(); !strings.Contains(logs, "boom") || !strings.Contains(logs, "goroutine") {
		t.Errorf("logs %q; want the panic and its stack", logs)
	}
	start := time.Now()
	res = env.call(t, "wait_forever", nil)
	if !res.IsError || !strings.Contains(textOf(res), "longer than 50ms") {
		t.Errorf("slow tool = %q; want an isError naming the deadline", textOf(res))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deadline took %v", d)
	}
	var out emptyOut
	decode(t, env.call(t, "ok_now", nil), &out)
	if !out.OK {
		t.Error("server did not keep serving after the panic")
	}
}

func TestProgressNilSafe(t *testing.T) {
	var p *Progress
	p.Report(1, 0, "x") // must not panic
	if p.Enabled() {
		t.Error("nil Progress is enabled")
	}
	q := newProgress(context.Background(), mcp.CallToolRequest{})
	q.Final(1, 1, "x")
	if q.Enabled() {
		t.Error("Progress without a token is enabled")
	}
}
