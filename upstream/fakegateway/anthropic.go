package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// RouteMessages is the route key of the Anthropic Messages API.
const RouteMessages = "POST /v1/messages"

// messagesRequest is the part of an Anthropic Messages request the gateway
// and its upstream check.
type messagesRequest struct {
	Model     string          `json:"model"`
	MaxTokens *float64        `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Thinking *struct {
		Type         string   `json:"type"`
		BudgetTokens *float64 `json:"budget_tokens"`
	} `json:"thinking"`
	Stream bool `json:"stream"`
}

// anthropicBlock is a request content block.
type anthropicBlock struct {
	Type   string  `json:"type"`
	Text   *string `json:"text"`
	Source *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
		Data      string `json:"data"`
		URL       string `json:"url"`
	} `json:"source"`
	CacheControl *struct {
		Type string `json:"type"`
	} `json:"cache_control"`
}

// messages serves POST /v1/messages the way new-api does for a Claude model
// served through an OpenAI channel (messages-ok-openai-channel): the key in
// x-api-key (Authorization is refused here on purpose, so tests prove the
// client uses the route's own style), the gateway's own errors (bad key,
// unknown model, key not allowed, CPU guard) in the OpenAI envelope, relayed
// errors and quota errors in the Anthropic envelope
// {"error":{"type","message"},"type":"error"}, and streams with event:
// framing, no ping events, ending with message_stop.
//
// Faults: fault-429 (messages-upstream-429), fault-500 (messages-upstream-500-stream
// or its plain twin), fault-502html and fault-401-upstream in the Anthropic
// envelope, fault-quota-user (messages-user-quota-insufficient), fault-quota-token and
// fault-unpriced as Anthropic new_api_error; fault-trunc on a stream replays
// messages-upstream-trunc-stream (a second message_start, no message_stop);
// fault-cut drops the connection mid-stream; fault-sse-error sends an error
// event; fault-badjson a broken data line; the other shared faults as
// [Gateway.ReplayFault].
func (g *Gateway) messages(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, r.Header.Get("X-Api-Key"), "badkey-messages") {
		return
	}
	var req messagesRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if !g.CheckModel(w, req.Model) {
		return
	}
	if msg := validateMessages(&req); msg != "" {
		g.writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if g.anthropicFault(w, &req) {
		return
	}
	if req.Model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}
	reply := g.planMessage(&req)
	if req.Stream {
		g.streamMessage(w, r, &req, reply)
		return
	}
	writeRelayed(w, req.Model, reply)
}

// writeAnthropicError writes a relayed error in the Anthropic envelope, error
// first, with the request-id suffix new-api appends on this route.
func (g *Gateway) writeAnthropicError(w http.ResponseWriter, status int, typ, message string) {
	id := w.Header().Get(HeaderRequestID)
	body := struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
		Type string `json:"type"`
	}{Type: "error"}
	body.Error.Type, body.Error.Message = typ, message+" (request id: "+id+")"
	WriteJSON(w, status, body)
}

func validateMessages(req *messagesRequest) string {
	if req.MaxTokens == nil {
		return "max_tokens: Field required"
	}
	if *req.MaxTokens < 1 || *req.MaxTokens != float64(int64(*req.MaxTokens)) {
		return "max_tokens: Input should be a valid integer greater than or equal to 1"
	}
	if len(req.Messages) == 0 {
		return "messages: at least one message is required"
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if msg := validateAnthropicContent(fmt.Sprintf("messages.%d.content", i), m.Content, true); msg != "" {
			return msg
		}
	}
	if req.Messages[0].Role != "user" {
		return "messages: first message must use the \"user\" role"
	}
	if sys := bytes.TrimSpace(req.System); len(sys) > 0 && string(sys) != "null" {
		if msg := validateAnthropicContent("system", sys, false); msg != "" {
			return msg
		}
	}
	if t := req.Thinking; t != nil {
		switch {
		case t.Type != "enabled" && t.Type != "disabled":
			return "thinking.type: Input should be 'enabled' or 'disabled'"
		case t.Type == "enabled" && t.BudgetTokens == nil:
			return "thinking.enabled.budget_tokens: Field required"
		case t.Type == "enabled" && *t.BudgetTokens < 1024:
			return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
		case t.Type == "enabled" && *t.BudgetTokens >= *req.MaxTokens:
			return "`max_tokens` must be greater than `thinking.budget_tokens`"
		}
	}
	return ""
}

// validateAnthropicContent checks a string or a block list; images are
// allowed in messages, not in system.
func validateAnthropicContent(path string, raw json.RawMessage, images bool) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" && path != "system" {
			return path + ": text content blocks must be non-empty"
		}
		return ""
	}
	var blocks []anthropicBlock
	if err := json.Unmarshal(raw, &blocks); err != nil || len(blocks) == 0 {
		return path + ": Input should be a valid string or a non-empty list of content blocks"
	}
	for j, b := range blocks {
		p := fmt.Sprintf("%s.%d", path, j)
		if b.CacheControl != nil && b.CacheControl.Type != "ephemeral" {
			return p + ".cache_control.type: Input should be 'ephemeral'"
		}
		switch b.Type {
		case "text":
			if b.Text == nil || *b.Text == "" {
				return p + ".text: text content blocks must be non-empty"
			}
		case "image":
			if !images {
				return p + ".type: only text blocks are allowed in system"
			}
			if b.Source == nil {
				return p + ".source: Field required"
			}
			switch b.Source.Type {
			case "base64":
				switch b.Source.MediaType {
				case "image/jpeg", "image/png", "image/gif", "image/webp":
				default:
					return p + ".source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
				}
				data, err := base64.StdEncoding.DecodeString(b.Source.Data)
				if err != nil || len(data) == 0 {
					return p + ".source.data: invalid base64 data"
				}
				if !sniffImage(data, b.Source.MediaType) {
					return p + ".source: the image data does not match the media type " + b.Source.MediaType
				}
			case "url":
				if !strings.HasPrefix(b.Source.URL, "https://") && !strings.HasPrefix(b.Source.URL, "http://") {
					return p + ".source.url: must be an http(s) URL"
				}
			default:
				return p + ".source.type: Input should be 'base64' or 'url'"
			}
		default:
			return p + ".type: Input tag '" + b.Type + "' does not match any of the expected tags"
		}
	}
	return ""
}

// sniffImage reports whether data starts like an image of type mediaType.
func sniffImage(data []byte, mediaType string) bool {
	switch mediaType {
	case "image/png":
		return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n"))
	case "image/jpeg":
		return bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF})
	case "image/gif":
		return bytes.HasPrefix(data, []byte("GIF8"))
	case "image/webp":
		return len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP"
	}
	return false
}

// anthropicFault answers the fault models on this route; false means none
// applied (or the fault is in the reply itself).
func (g *Gateway) anthropicFault(w http.ResponseWriter, req *messagesRequest) bool {
	sseHeaders := func() {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
	}
	relayed := func(status int, typ, msg string) {
		if req.Stream {
			// Errors before the first event keep the SSE headers, with a
			// bare JSON body (messages-upstream-500-stream).
			sseHeaders()
			id := w.Header().Get(HeaderRequestID)
			w.WriteHeader(status)
			b, _ := json.Marshal(map[string]any{"error": map[string]string{"type": typ, "message": msg + " (request id: " + id + ")"}, "type": "error"})
			_, _ = w.Write(b)
			return
		}
		g.writeAnthropicError(w, status, typ, msg)
	}
	switch req.Model {
	case ModelFault429:
		if req.Stream {
			relayed(http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.")
		} else {
			g.Replay(w, "messages-upstream-429")
		}
	case ModelFault500:
		if req.Stream {
			g.Replay(w, "messages-upstream-500-stream")
		} else {
			relayed(http.StatusInternalServerError, "<nil>", "The server had an error while processing your request. Sorry about that!")
		}
	case ModelFault502HTML:
		relayed(http.StatusBadGateway, "bad_response_status_code", "openai_error")
	case ModelFault401Upstream:
		relayed(http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided: sk-upstr*****. You can find your API key at https://***.com/***/***.")
	case ModelFaultQuotaUser:
		g.Replay(w, "messages-user-quota-insufficient")
	case ModelFaultQuotaToken:
		relayed(http.StatusForbidden, "new_api_error", "token quota is not enough, token remain quota: ＄0.000002, need quota: ＄0.000074")
	case ModelFaultUnpriced:
		relayed(http.StatusBadRequest, "new_api_error", "模型 fault-unpriced 的价格未配置。…；Model fault-unpriced price not configured. …")
	case ModelFaultTrunc:
		if req.Stream {
			g.Replay(w, "messages-upstream-trunc-stream")
		} else {
			relayed(http.StatusInternalServerError, "read_response_body_failed", "unexpected EOF")
		}
	default:
		return g.ReplayFault(w, req.Model, req.Stream)
	}
	return true
}

// fakeMessage is an Anthropic message as new-api builds it from an OpenAI
// channel: chatcmpl- id, no stop_sequence, usage with new-api's extras.
type fakeMessage struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Role       string         `json:"role"`
	Content    []fakeBlock    `json:"content"`
	StopReason string         `json:"stop_reason"`
	Model      string         `json:"model"`
	Usage      map[string]int `json:"usage"`
}

type fakeBlock struct {
	Type      string  `json:"type"`
	Text      *string `json:"text,omitempty"`
	Thinking  *string `json:"thinking,omitempty"`
	Signature *string `json:"signature,omitempty"`
}

// planMessage builds the deterministic answer: thinking first when it is on,
// then text that quotes the last user message and says how many images came
// with it. A cache_control system prompt is reported as cache creation.
func (g *Gateway) planMessage(req *messagesRequest) fakeMessage {
	seq := g.nextSeq()
	last, images, inTokens := "", 0, 0
	for _, m := range req.Messages {
		text, n := anthropicText(m.Content)
		inTokens += len(strings.Fields(text))
		if m.Role == "user" {
			last, images = text, n
		}
	}
	sysText, cached := "", false
	if sys := bytes.TrimSpace(req.System); len(sys) > 0 && string(sys) != "null" {
		sysText, _ = anthropicText(sys)
		var blocks []anthropicBlock
		if json.Unmarshal(sys, &blocks) == nil {
			for _, b := range blocks {
				cached = cached || b.CacheControl != nil
			}
		}
	}
	text := fmt.Sprintf("Hello from fakegateway (%s). You said: %q.", req.Model, last)
	if images > 0 {
		text += fmt.Sprintf(" I see %d image(s).", images)
	}
	msg := fakeMessage{
		ID: fmt.Sprintf("chatcmpl-%s%06d", g.idPrefix, seq), Type: "message", Role: "assistant",
		StopReason: "end_turn", Model: req.Model,
	}
	if t := req.Thinking; t != nil && t.Type == "enabled" {
		thinking := fmt.Sprintf("The user said %q; I will greet them.", last)
		sig := "sig-fakegateway"
		msg.Content = append(msg.Content, fakeBlock{Type: "thinking", Thinking: &thinking, Signature: &sig})
	}
	msg.Content = append(msg.Content, fakeBlock{Type: "text", Text: &text})
	sysTokens := len(strings.Fields(sysText))
	usage := map[string]int{
		"input_tokens": max(1, inTokens), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
		"output_tokens": len(strings.Fields(text)), "claude_cache_creation_5_m_tokens": 0, "claude_cache_creation_1_h_tokens": 0,
	}
	if cached {
		usage["cache_creation_input_tokens"] = sysTokens
		usage["claude_cache_creation_5_m_tokens"] = sysTokens
	} else {
		usage["input_tokens"] += sysTokens
	}
	msg.Usage = usage
	return msg
}

// anthropicText returns the text of a string or block list and how many
// image blocks it holds.
func anthropicText(raw json.RawMessage) (string, int) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, 0
	}
	var blocks []anthropicBlock
	_ = json.Unmarshal(raw, &blocks)
	var texts []string
	images := 0
	for _, b := range blocks {
		switch {
		case b.Type == "text" && b.Text != nil:
			texts = append(texts, *b.Text)
		case b.Type == "image":
			images++
		}
	}
	return strings.Join(texts, " "), images
}

// streamMessage writes the answer as new-api's converted stream does
// (messages-stream-openai-channel): message_start with an input estimate,
// per block content_block_start / deltas / content_block_stop, message_delta
// with the full usage and stop_reason, message_stop. No ping events.
func (g *Gateway) streamMessage(w http.ResponseWriter, r *http.Request, req *messagesRequest, msg fakeMessage) {
	s := g.NewStream(w, r)
	defer s.Close()
	startUsage := map[string]int{"input_tokens": max(1, msg.Usage["input_tokens"]-2), "cache_creation_input_tokens": 0,
		"cache_read_input_tokens": 0, "output_tokens": 0, "claude_cache_creation_5_m_tokens": 0, "claude_cache_creation_1_h_tokens": 0}
	s.Event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"type": "message", "model": msg.Model, "usage": startUsage, "role": "assistant", "id": msg.ID, "content": []any{},
	}})
	deltas := 0
	for i, b := range msg.Content {
		start := map[string]any{"type": b.Type}
		var text, deltaType, field string
		if b.Type == "thinking" {
			start["thinking"], start["signature"] = "", ""
			text, deltaType, field = *b.Thinking, "thinking_delta", "thinking"
		} else {
			start["text"] = ""
			text, deltaType, field = *b.Text, "text_delta", "text"
		}
		s.Event("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": start})
		for _, p := range splitRunes(text, chatPieceRunes) {
			switch {
			case req.Model == ModelFaultCut && deltas == 2:
				s.Cut()
			case req.Model == ModelFaultSSEError && deltas == 1:
				s.Event("error", map[string]any{"type": "error", "error": map[string]string{"type": "overloaded_error", "message": "Overloaded"}})
				return
			case req.Model == ModelFaultBadJSON && deltas == 1:
				s.write("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hel\n\n")
				return
			}
			s.Event("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]string{"type": deltaType, field: p}})
			deltas++
			if s.Err() != nil {
				return
			}
		}
		if b.Signature != nil {
			s.Event("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]string{"type": "signature_delta", "signature": *b.Signature}})
		}
		s.Event("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
	}
	s.Event("message_delta", map[string]any{"type": "message_delta", "usage": msg.Usage, "delta": map[string]string{"stop_reason": msg.StopReason}})
	s.Event("message_stop", map[string]any{"type": "message_stop"})
}
