package tools

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// noKeyHelp says how to give the server its key, for every MCP client.
const noKeyHelp = `WENWEN_API_KEY is not set. Add it to this server's environment in your MCP client's config, for example "env": {"WENWEN_API_KEY": "sk-..."} next to "command" in claude_desktop_config.json or .cursor/mcp.json, or "claude mcp add wenwen -e WENWEN_API_KEY=sk-... -- wenwen-mcp"; then restart the server. Keys are issued at https://api.wenwen-ai.com`

// describe turns an error from a handler into one message a person (or an
// agent) can act on: what failed, the gateway's own words, and what to do.
func describe(ctx context.Context, action string, err error) string {
	var (
		userErr   *UserError
		apiErr    *upstream.APIError
		streamErr *upstream.StreamError
		mediaErr  *media.Error
	)
	switch {
	case errors.As(err, &userErr):
		return action + ": " + userErr.Msg
	case errors.As(err, &mediaErr):
		return action + ": " + err.Error() // media errors say what to do; our wrapping adds which input
	case errors.Is(err, upstream.ErrNoAPIKey):
		return action + ": " + noKeyHelp
	case errors.As(err, &streamErr):
		var b strings.Builder
		fmt.Fprintf(&b, "%s: the answer was cut before its end (%s)", action, streamErr.Reason)
		if errors.As(streamErr.Err, &apiErr) {
			fmt.Fprintf(&b, "; the gateway said: %s", apiErr.Message)
		}
		b.WriteString(". Nothing was wrong with the request: try again, or use another model if it keeps happening.")
		if p := strings.TrimSpace(streamErr.Partial); p != "" {
			fmt.Fprintf(&b, "\nText received before the cut (%d characters): %s", len(p), truncate(p, 2000))
		}
		return b.String()
	case errors.As(err, &apiErr):
		msg := fmt.Sprintf("%s: %s. %s", action, apiErr.Error(), upperFirst(apiErr.Hint()))
		if apiErr.RequestID != "" {
			msg += " (request id " + apiErr.RequestID + ")"
		}
		return msg
	case errors.Is(err, upstream.ErrMalformedResponse):
		return fmt.Sprintf("%s: the gateway's answer could not be read (%v). Try again; if it persists the model may not support this request, so try another model.", action, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return fmt.Sprintf("%s: no answer in time (%v). Try again, ask for a shorter answer, or raise WENWEN_TIMEOUT.", action, err)
	}
	msg := err.Error()
	// Upstream errors start with their own action ("chat: …"); say it once.
	for _, prefix := range []string{action + ": ", strings.ReplaceAll(action, "_", " ") + ": "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") {
		return fmt.Sprintf("%s: could not reach the gateway (%s). Check WENWEN_BASE_URL and the network connection, then try again.", action, msg)
	}
	return fmt.Sprintf("%s: %s", action, msg)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
