// Package tools holds the MCP tools of wenwen-mcp, one file per family, and
// the server that serves them.
package tools

import (
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Deps is what the tools need, built once by NewDeps (in run, and in tests)
// and passed down.
type Deps struct {
	Config Config
	Client *upstream.Client
	Logger zerolog.Logger
}

// NewDeps builds everything the tools need from the configuration. main.go
// and the tests both use it, so what is tested is what runs. Call Close when
// the server stops.
func NewDeps(cfg Config, logger zerolog.Logger, version string) (*Deps, error) {
	client, err := upstream.New(
		upstream.WithBaseURL(cfg.BaseURL),
		upstream.WithAPIKey(cfg.APIKey),
		upstream.WithTimeout(cfg.Timeout),
		upstream.WithUserAgent("wenwen-mcp/"+version),
	)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	d := &Deps{Config: cfg, Client: client, Logger: logger}
	return d, nil
}

// Close releases what NewDeps started (background jobs, pollers).
func (d *Deps) Close() error {
	return nil
}

// Instructions tell the agent what the server is for and how its tools fit.
const Instructions = `wenwen-mcp gives you every model of the wenwen AI gateway (OpenAI, Anthropic, Gemini and more) behind one key.
Start with list_models to see which model ids the key can use; chat talks to any chat model, with structured output (json_schema) and function calling (tools).
Errors say what went wrong and what to do next (set WENWEN_API_KEY, pick another model with list_models, top up, retry later).`

// All returns every tool, in the order tools/list shows them.
func All(d *Deps) []Tool {
	return []Tool{
		listModelsTool(d),
		chatTool(d),
	}
}

// WorkerPoolSize is how many tool calls the stdio server runs at once; mcp-go's
// default of 5 would queue the 6th concurrent call behind the others.
const WorkerPoolSize = 32

// NewServer builds the MCP server with the given tools and the middleware
// every call goes through: recover (a panic is an isError result), a per-call
// deadline, and debug logging.
func NewServer(d *Deps, version string, tools []Tool) *server.MCPServer {
	timeouts := make(map[string]time.Duration, len(tools))
	for _, t := range tools {
		if t.Timeout > 0 {
			timeouts[t.Def.Name] = t.Timeout
		}
	}
	callTimeout := d.Config.Timeout + 30*time.Second
	s := server.NewMCPServer("wenwen-mcp", version,
		server.WithToolCapabilities(false),
		server.WithLogging(),
		server.WithInstructions(Instructions),
		// Outermost first: recover sees panics from everything inside it.
		server.WithToolHandlerMiddleware(recoverMiddleware(d.Logger)),
		server.WithToolHandlerMiddleware(logMiddleware(d.Logger)),
		server.WithToolHandlerMiddleware(timeoutMiddleware(timeouts, callTimeout)),
	)
	for _, t := range tools {
		s.AddTool(t.Def, t.Handler)
	}
	return s
}

// NewStdioServer wraps s for stdio with a worker pool sized for many
// concurrent calls and a queue that never makes the read loop block (a full
// queue would make mcp-go run calls on the read loop and delay cancels).
func NewStdioServer(s *server.MCPServer) *server.StdioServer {
	stdio := server.NewStdioServer(s)
	server.WithWorkerPoolSize(WorkerPoolSize)(stdio)
	server.WithQueueSize(1000)(stdio)
	return stdio
}
