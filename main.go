// Command wenwen-mcp is an MCP server over stdio that gives AI agents the
// models of the wenwen AI gateway (https://api.wenwen-ai.com) as tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/tools"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info is used.
var version = ""

func main() {
	if err := run(context.Background(), os.Args, os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "wenwen-mcp: %v\n", err)
		os.Exit(1)
	}
}

const usage = `wenwen-mcp: the wenwen AI gateway as MCP tools, over stdio.

An MCP client (Claude Desktop, Claude Code, Cursor, VS Code...) starts this
program and talks JSON-RPC on its stdin and stdout. Configure it with
environment variables (WENWEN_API_KEY, WENWEN_BASE_URL, WENWEN_CHAT_MODEL,
WENWEN_TIMEOUT, WENWEN_OUTPUT_DIR, WENWEN_LOG_LEVEL...); see the README.

Usage:
  wenwen-mcp            serve MCP on stdin/stdout
  wenwen-mcp --toolsets=default,audio --tools=embed_text --exclude-tools=chat
                        choose the tools to serve (see the README's toolsets)
  wenwen-mcp --version  print the version
  wenwen-mcp --help     print this help
`

// terminalHint is printed on stderr when a person starts the server by hand.
const terminalHint = `wenwen-mcp speaks MCP (JSON-RPC) on stdin/stdout and is meant to be started by an MCP client, e.g.:
  claude mcp add wenwen -e WENWEN_API_KEY=sk-... -- wenwen-mcp
or in claude_desktop_config.json: {"mcpServers":{"wenwen":{"command":"wenwen-mcp","env":{"WENWEN_API_KEY":"sk-..."}}}}
Serving now; press Ctrl+C to stop.
`

// run is the whole program. It serves MCP on stdin/stdout until stdin ends,
// ctx is cancelled, or a signal arrives. Nothing but protocol goes to stdout.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wenwen-mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	showVersion := fs.Bool("version", false, "print the version")
	// Tool selection flags override WENWEN_TOOLSETS, WENWEN_TOOLS and WENWEN_EXCLUDE_TOOLS.
	toolsetsFlag := fs.String("toolsets", "", "comma list of toolsets to serve, or all, or default")
	toolsFlag := fs.String("tools", "", "comma list of single tools to serve on top of the toolsets")
	excludeFlag := fs.String("exclude-tools", "", "comma list of tools not to serve")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if *showVersion {
		fmt.Fprintf(stdout, "wenwen-mcp %s\n", buildVersion())
		return nil
	}

	cfg, err := tools.ParseConfig(environ, homeDir(environ))
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "toolsets":
			cfg.Toolsets = []string{*toolsetsFlag}
		case "tools":
			cfg.Tools = []string{*toolsFlag}
		case "exclude-tools":
			cfg.ExcludeTools = []string{*excludeFlag}
		}
	})
	logger := newLogger(stderr, cfg.LogLevel)

	// Anything that prints to the process's stdout by mistake (a library's
	// fmt.Println, the standard logger) would corrupt the protocol: send it
	// to stderr, and keep the real stdout for the server alone.
	if stdout == os.Stdout {
		os.Stdout = os.Stderr
		defer func() { os.Stdout = stdout.(*os.File) }()
	}
	log.SetOutput(stderr)

	if f, ok := stdin.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		fmt.Fprint(stderr, terminalHint)
	}

	deps, err := tools.NewDeps(cfg, logger, buildVersion())
	if err != nil {
		return err
	}
	defer deps.Close()
	if !deps.Client.HasKey() {
		logger.Warn().Msg("WENWEN_API_KEY is not set: tools are listed, but calls to the gateway will explain how to set it")
	}

	served, err := tools.Select(tools.All(deps), cfg.Toolsets, cfg.Tools, cfg.ExcludeTools)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	srv := tools.NewServer(deps, buildVersion(), served)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	stdio := tools.NewStdioServer(srv)
	stdio.SetErrorLogger(log.New(zerologWriter{logger}, "", 0))
	logger.Info().Str("version", buildVersion()).Str("base_url", cfg.BaseURL).Msg("serving MCP on stdio")
	err = stdio.Listen(ctx, drainingReader{r: stdin, ctx: ctx, deps: deps}, stdout)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// drainingReader holds back stdin's end until the tool calls in flight have
// answered (at most drainGrace): mcp-go cancels every call when its input
// ends, and a client that writes its requests and then closes stdin (a shell
// pipe, a script) should still get every answer.
type drainingReader struct {
	r    io.Reader
	ctx  context.Context
	deps *tools.Deps
}

const drainGrace = 30 * time.Second

func (d drainingReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF {
		// A call read just before the end may not have reached a worker yet.
		time.Sleep(20 * time.Millisecond)
		d.deps.WaitIdle(d.ctx, drainGrace)
	}
	return n, err
}

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, _ := zerolog.ParseLevel(level)
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// zerologWriter adapts mcp-go's standard-library error logger to zerolog.
type zerologWriter struct{ l zerolog.Logger }

func (z zerologWriter) Write(p []byte) (int, error) {
	z.l.Warn().Str("component", "mcp-go").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

func homeDir(environ []string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && (k == "HOME" || k == "USERPROFILE") && v != "" {
			return v
		}
	}
	h, _ := os.UserHomeDir()
	return h
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
