package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/schema"
)

// Tool is one MCP tool: its definition, its handler, the toolset it belongs
// to and the deadline of one call.
type Tool struct {
	Def     mcp.Tool
	Handler server.ToolHandlerFunc
	Toolset string
	Timeout time.Duration // 0: the server's default call timeout

	// schemaKeys and freshSchemas let TestSchemaCache check and regenerate
	// the build-time schema cache.
	schemaKeys   [2]string
	freshSchemas func() (in, out json.RawMessage)
}

// hints are the four MCP tool annotations; every tool sets all of them.
type hints struct {
	readOnly, destructive, idempotent, openWorld bool
}

// Result is what a typed handler returns on success: the structured value
// (matching the tool's output schema), a short text for clients that show
// text, and optional extra content (image previews).
type Result[T any] struct {
	Value T
	Text  string
	Extra []mcp.Content
}

// Call is what a handler knows about its call besides its arguments.
type Call struct {
	Request  mcp.CallToolRequest
	Progress *Progress // never nil; reports nothing when the client sent no progressToken
}

// UserError is a failure the agent can act on; its text is shown as is.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// userErrorf builds a *UserError.
func userErrorf(format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...)}
}

// validator is implemented by inputs that check themselves after binding.
type validator interface{ validate() error }

// define builds a Tool from a typed handler. The input and output schemas
// come from schema.For; arguments are bound into In (unknown fields are an
// error, so a misspelt argument is not silently ignored); success gives
// structuredContent plus text; failure gives a text-only isError result with
// an actionable message. A Go error is returned only for a cancelled call.
func define[In, Out any](name, desc string, h hints, handle func(ctx context.Context, call *Call, in In) (Result[Out], error)) Tool {
	def := mcp.Tool{
		Name:            name,
		Description:     desc,
		RawInputSchema:  schemaOf[In](),
		RawOutputSchema: outputSchemaOf[Out](),
		Annotations: mcp.ToolAnnotation{
			Title:           titleOf(name),
			ReadOnlyHint:    mcp.ToBoolPtr(h.readOnly),
			DestructiveHint: mcp.ToBoolPtr(h.destructive),
			IdempotentHint:  mcp.ToBoolPtr(h.idempotent),
			OpenWorldHint:   mcp.ToBoolPtr(h.openWorld),
		},
	}
	action := strings.ReplaceAll(name, "_", " ")
	handler := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in In
		if err := bindArguments(req.Params.Arguments, &in); err != nil {
			return mcp.NewToolResultError(fmt.Sprintf("%s: invalid arguments: %v", action, err)), nil
		}
		if v, ok := any(&in).(validator); ok {
			if err := v.validate(); err != nil {
				return mcp.NewToolResultError(fmt.Sprintf("%s: %v", action, err)), nil
			}
		}
		call := &Call{Request: req, Progress: newProgress(ctx, req)}
		res, err := handle(ctx, call, in)
		if err != nil {
			if ctx.Err() == context.Canceled && context.Cause(ctx) == context.Canceled {
				return nil, ctx.Err()
			}
			return mcp.NewToolResultError(describe(ctx, action, err)), nil
		}
		out := mcp.NewToolResultStructured(res.Value, res.Text)
		out.Content = append(out.Content, res.Extra...)
		return out, nil
	}
	return Tool{
		Def: def, Handler: handler,
		schemaKeys:   [2]string{schemaKey[In](), "output " + schemaKey[Out]()},
		freshSchemas: func() (json.RawMessage, json.RawMessage) { return schema.For[In](), schema.ForOutput[Out]() },
	}
}

// schemaOf returns T's schema from the build-time cache (schemas_gen.go), or
// reflects it. Reflecting every tool's types costs about 6 ms, most of a cold
// start; TestSchemaCache keeps the cache equal to what schema.For gives.
func schemaOf[T any]() json.RawMessage {
	if s, ok := cachedSchemas[schemaKey[T]()]; ok {
		return json.RawMessage(s)
	}
	return schema.For[T]()
}

// outputSchemaOf is schemaOf for output schemas (schema.ForOutput).
func outputSchemaOf[T any]() json.RawMessage {
	if s, ok := cachedSchemas["output "+schemaKey[T]()]; ok {
		return json.RawMessage(s)
	}
	return schema.ForOutput[T]()
}

func schemaKey[T any]() string { return reflect.TypeFor[T]().String() }

func titleOf(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// bindArguments decodes the call's arguments into dst, refusing unknown
// fields with a message that lists the known ones.
func bindArguments(args any, dst any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if string(raw) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return fmt.Errorf("%v (known arguments: %s)", strings.TrimPrefix(err.Error(), "json: "), strings.Join(fieldNames(dst), ", "))
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("argument %q must be %s, not %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return err
	}
	return nil
}

func fieldNames(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		if n, _, _ := strings.Cut(tag, ","); n != "" && n != "-" {
			names = append(names, n)
		}
	}
	return names
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// recoverMiddleware turns a panic in a handler into an isError result and
// logs the stack on stderr; the server keeps serving.
func recoverMiddleware(log zerolog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
			defer func() {
				if p := recover(); p != nil {
					log.Error().Str("tool", req.Params.Name).Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("tool panicked")
					res, err = mcp.NewToolResultError(fmt.Sprintf("%s: internal error (the server logged it on stderr); please report it", req.Params.Name)), nil
				}
			}()
			return next(ctx, req)
		}
	}
}

// timeoutMiddleware gives every call a deadline: the tool's own, else def.
func timeoutMiddleware(timeouts map[string]time.Duration, def time.Duration) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			d := def
			if t, ok := timeouts[req.Params.Name]; ok && t > 0 {
				d = t
			}
			ctx, cancel := context.WithTimeoutCause(ctx, d, fmt.Errorf("%w: the call took longer than %v", context.DeadlineExceeded, d))
			defer cancel()
			return next(ctx, req)
		}
	}
}

// logMiddleware logs each call's name, duration and outcome at debug level;
// never its arguments (they may hold private text).
func logMiddleware(log zerolog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := time.Now()
			res, err := next(ctx, req)
			if e := log.Debug(); e.Enabled() {
				e.Str("tool", req.Params.Name).Dur("took", time.Since(start)).Bool("is_error", res != nil && res.IsError).AnErr("err", err).Msg("tool call")
			}
			return res, err
		}
	}
}

// Progress sends notifications/progress for one call. All methods are safe
// on a call without a progressToken (they do nothing) and never fail the
// call: notifications are best effort in mcp-go.
type Progress struct {
	srv   *server.MCPServer
	ctx   context.Context // the call's context, kept only for the call's lifetime to address its session
	token mcp.ProgressToken
	mu    sync.Mutex
	last  float64
	sent  time.Time
}

func newProgress(ctx context.Context, req mcp.CallToolRequest) *Progress {
	p := &Progress{}
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return p
	}
	p.srv = server.ServerFromContext(ctx)
	p.ctx = ctx
	p.token = req.Params.Meta.ProgressToken
	return p
}

// Enabled reports whether the client asked for progress.
func (p *Progress) Enabled() bool { return p != nil && p.srv != nil }

// Report sends progress (and total when > 0) with a message. Progress must
// increase: a value not above the last one is raised just above it, as the
// MCP spec wants. Reports closer than 200 ms to the previous one are dropped
// unless final is set, so a fast stream does not flood the client.
func (p *Progress) Report(progress, total float64, msg string) {
	p.report(progress, total, msg, false)
}

// Final is Report without the rate limit.
func (p *Progress) Final(progress, total float64, msg string) {
	p.report(progress, total, msg, true)
}

func (p *Progress) report(progress, total float64, msg string, force bool) {
	if !p.Enabled() {
		return
	}
	p.mu.Lock()
	if !force && time.Since(p.sent) < 200*time.Millisecond {
		p.mu.Unlock()
		return
	}
	if progress <= p.last {
		progress = p.last + 0.001
	}
	p.last = progress
	p.sent = time.Now()
	p.mu.Unlock()
	params := map[string]any{"progressToken": p.token, "progress": progress}
	if total > 0 {
		params["total"] = total
	}
	if msg != "" {
		params["message"] = msg
	}
	_ = p.srv.SendNotificationToClient(p.ctx, "notifications/progress", params)
}
