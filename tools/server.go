// Package tools holds the MCP tools of wenwen-mcp, one file per family, and
// the server that serves them.
package tools

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/tools/jobs"
	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Deps is what the tools need, built once by NewDeps (in run, and in tests)
// and passed down.
type Deps struct {
	Config Config
	Client *upstream.Client
	Logger zerolog.Logger
	Media  *media.Store // input files and saved results (tools/media)
	Jobs   *jobs.Store  // long jobs: video, Midjourney (tools/jobs, jobs.go)

	calls atomic.Int64 // tool calls in flight, for WaitIdle
}

// WaitIdle waits until no tool call is in flight, ctx ends, or max passes.
// run uses it when stdin ends, so that a client that writes its requests and
// closes its end (a shell pipe) still gets every answer.
func (d *Deps) WaitIdle(ctx context.Context, max time.Duration) {
	deadline := time.Now().Add(max)
	for d.calls.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// countCalls keeps Deps.calls up to date.
func (d *Deps) countCalls(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		d.calls.Add(1)
		defer d.calls.Add(-1)
		return next(ctx, req)
	}
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
	store, err := media.NewStore(media.Options{Dir: cfg.OutputDir, Save: cfg.SaveMedia})
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: WENWEN_OUTPUT_DIR: %w", err)
	}
	d := &Deps{Config: cfg, Client: client, Logger: logger, Media: store}
	if d.Jobs, err = openJobs(d); err != nil {
		return nil, err
	}
	return d, nil
}

// Close releases what NewDeps started (background jobs, pollers).
func (d *Deps) Close() error {
	if d.Jobs != nil {
		return d.Jobs.Close() // running jobs stay on disk and resume at the next start
	}
	return nil
}

// Instructions tell the agent what the server is for and how its tools fit.
const Instructions = `wenwen-mcp gives you every model of the wenwen AI gateway (OpenAI, Anthropic, Gemini and more) behind one key.
Start with list_models to see which model ids the key can use; chat talks to any chat model, with structured output (json_schema) and function calling (tools).
Errors say what went wrong and what to do next (set WENWEN_API_KEY, pick another model with list_models, top up, retry later).
Videos and Midjourney images are long jobs: a call waits up to wait_seconds (default 45), then returns status running with a job_id; the job goes on regardless, so call get_job later instead of starting it again.
Tools come in toolsets the user turns on with WENWEN_TOOLSETS (default: models, chat, images, video, jobs). Others: audio (speech, voice replies, transcription), embeddings (text similarity), responses (OpenAI Responses API with web search), anthropic (native Claude: thinking, prompt caching), gemini (native Gemini, images in and out), midjourney. If a tool you need is missing, ask the user to add its toolset.`

// All returns every tool, in the order tools/list shows them.
func All(d *Deps) []Tool {
	return []Tool{
		listModelsTool(d),
		chatTool(d),
		generateImageTool(d), // images.go
		editImageTool(d),
		analyzeImageTool(d),
		// Long jobs (issue 4): video.go, midjourney.go, jobs.go.
		generateVideoTool(d),
		mjImagineTool(d),
		mjBlendTool(d),
		mjActionTool(d),
		mjSeedTool(d),
		getJobTool(d),
		listJobsTool(d),
		// The rest of the gateway (issue 5).
		createResponseTool(d),
		claudeMessagesTool(d),
		embedTextTool(d),
		textToSpeechTool(d),
		voiceReplyTool(d),
		transcribeAudioTool(d),
		geminiGenerateTool(d),
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
		server.WithToolHandlerMiddleware(d.countCalls),
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
