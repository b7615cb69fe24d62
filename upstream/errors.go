package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrNoAPIKey is returned by every method that needs the gateway when the
// client was built without a key.
var ErrNoAPIKey = errors.New("WENWEN_API_KEY is not set")

// ErrMalformedResponse is wrapped by errors for gateway answers that do not
// parse (broken JSON, a body of the wrong shape).
var ErrMalformedResponse = errors.New("malformed gateway response")

// ErrStreamCut is wrapped by *StreamError: a stream that ended before its
// real end, whatever the gateway made its ending look like.
var ErrStreamCut = errors.New("stream cut before its end")

// Kind classifies an *APIError by what the user has to do about it.
type Kind int

// Kinds of gateway errors, from the codes and statuses new-api produces.
const (
	KindUnknown         Kind = iota
	KindBadKey               // 401 from the gateway itself: key wrong, expired, disabled or used up
	KindUpstreamAuth         // 401 relayed from the gateway's own upstream channel: not the user's key
	KindTokenQuota           // 403 pre_consume_token_quota_failed: the key's quota is below the cost
	KindUserQuota            // 403 insufficient_user_quota (or MJ quota_not_enough): balance too low
	KindModelNotAllowed      // 403: the key is limited to other models
	KindModelNotFound        // 503 model_not_found: not offered to the key's group
	KindModelUnpriced        // 400 model_price_error: the gateway has no price for it
	KindRateLimited          // 429
	KindOverloaded           // 503 system_cpu_overloaded and similar transient gateway states
	KindUpstreamFailed       // other 5xx: the provider behind the gateway failed
	KindBadRequest           // other 4xx: the request itself was refused
	KindNotFound             // 404: unknown route, task or object
	KindRejected             // a Midjourney submit refused with a code other than 1 (banned word, queue full...)
)

// APIError is an error answer from the gateway, decoded from any of its
// three envelopes (OpenAI {"error":{…}}, Anthropic {"type":"error",…},
// Midjourney {"code","description"}), from an empty body, or from a body
// that says error on HTTP 200.
type APIError struct {
	StatusCode int           // HTTP status; 200 for an error body on a 200 answer
	Code       string        // gateway or upstream code, e.g. "model_not_found"; Midjourney codes as decimal text
	Type       string        // error type, e.g. "new_api_error", "upstream_error"
	Message    string        // the gateway's own words, without the request-id suffix
	RequestID  string        // X-Oneapi-Request-Id, for support requests
	RetryAfter time.Duration // from Retry-After when the gateway sent one (it usually does not)
	Envelope   string        // "openai", "anthropic", "midjourney", "empty" or "text"
}

// Error describes the failure in the gateway's terms; Hint says what to do.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateway answered %d", e.StatusCode)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" && !strings.Contains(e.Message, e.Code) {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	return b.String()
}

var rePriceMissing = regexp.MustCompile(`(?i)price not configured|价格未配置`)
var reNoAccess = regexp.MustCompile(`(?i)no access to model|无权访问模型`)

// Kind classifies the error; see the Kind constants.
func (e *APIError) Kind() Kind {
	code := strings.ToLower(e.Code)
	msg := e.Message
	switch {
	case code == "model_price_error" || rePriceMissing.MatchString(msg):
		return KindModelUnpriced
	case code == "pre_consume_token_quota_failed" || strings.Contains(msg, "token quota is not enough"):
		// The Anthropic route keeps only the message (error.type is new_api_error).
		return KindTokenQuota
	case code == "insufficient_user_quota" || strings.HasPrefix(strings.TrimSpace(msg), "quota_not_enough") || strings.Contains(msg, "用户额度不足"):
		return KindUserQuota
	case code == "model_not_found":
		return KindModelNotFound
	case code == "system_cpu_overloaded" || strings.Contains(code, "overloaded"):
		return KindOverloaded
	case e.Envelope == "midjourney" && e.StatusCode == http.StatusOK:
		return KindRejected
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		if e.Type == "new_api_error" || e.Type == "" && e.Code == "" {
			return KindBadKey
		}
		return KindUpstreamAuth
	case http.StatusForbidden:
		if reNoAccess.MatchString(msg) {
			return KindModelNotAllowed
		}
		return KindBadRequest
	case http.StatusTooManyRequests:
		return KindRateLimited
	case http.StatusNotFound:
		return KindNotFound
	case http.StatusServiceUnavailable:
		return KindOverloaded
	}
	switch {
	case e.StatusCode >= 500:
		return KindUpstreamFailed
	case e.StatusCode >= 400:
		return KindBadRequest
	}
	return KindUnknown
}

// Temporary reports whether the same request may succeed later unchanged.
func (e *APIError) Temporary() bool {
	switch e.Kind() {
	case KindRateLimited, KindOverloaded, KindUpstreamFailed, KindUpstreamAuth:
		return true
	}
	return false
}

// Hint tells a person what to do next, from the error's kind.
func (e *APIError) Hint() string {
	switch e.Kind() {
	case KindBadKey:
		return "the gateway rejected the API key (wrong, expired, disabled or out of quota all look the same): check WENWEN_API_KEY in your MCP client's config and the key's status and quota in the wenwen console"
	case KindUpstreamAuth:
		return "the gateway's own upstream channel was refused (not your key): try again later or pick another model with list_models"
	case KindTokenQuota:
		return "this key's remaining quota is below the cost of the request: raise the key's quota in the wenwen console, or use a cheaper model or a smaller request"
	case KindUserQuota:
		return "the account balance is too low: top up the wenwen account, then try again"
	case KindModelNotAllowed:
		return "this key is limited to other models: call list_models to see what it may use, or allow the model for the key in the wenwen console"
	case KindModelNotFound:
		return "the model is not offered to this key's group: call list_models and use one of its ids"
	case KindModelUnpriced:
		return "the gateway has no price for this model, so it cannot be used: pick another model from list_models"
	case KindRateLimited:
		return fmt.Sprintf("rate limited: wait about %d s and try again, or use another model", int(e.RetryWait().Seconds()))
	case KindOverloaded:
		return "the gateway is busy right now (transient): try again in a few seconds"
	case KindUpstreamFailed:
		return "the provider behind the gateway failed: try again shortly, or use another model"
	case KindNotFound:
		return "the gateway does not know this route or object: check the id"
	case KindRejected:
		return "the gateway refused the job: change the request as its reason says"
	case KindBadRequest:
		return "the gateway refused the request as invalid: check the arguments"
	}
	return "try again; if it persists, report it with the request id"
}

// RetryWait is how long to wait before trying again: Retry-After when the
// gateway sent it, else a conservative default (new-api drops Retry-After
// from relayed 429s).
func (e *APIError) RetryWait() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return 20 * time.Second
}

// reRequestID matches the suffix new-api appends to its own messages.
var reRequestID = regexp.MustCompile(`\s*\(request id: ([0-9A-Za-z]+)\)\s*$`)

// decodeError builds an *APIError from an answer's status, headers and
// (already size-limited) body. It never fails: an unknown body shape gives
// an error that says so.
func decodeError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: h.Get("X-Oneapi-Request-Id"), RetryAfter: parseRetryAfter(h.Get("Retry-After"))}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		e.Envelope = "empty"
		e.Message = "empty body"
		if t := http.StatusText(status); t != "" {
			e.Message = strings.ToLower(t) + " (empty body)"
		}
		return e
	}
	if !fillFromEnvelope(e, body) {
		e.Envelope = "text"
		e.Message = textSnippet(body, h.Get("Content-Type"))
	}
	if m := reRequestID.FindStringSubmatch(e.Message); m != nil {
		if e.RequestID == "" {
			e.RequestID = m[1]
		}
		e.Message = strings.TrimSpace(reRequestID.ReplaceAllString(e.Message, ""))
	}
	return e
}

// errorInBody reports an error envelope inside a 2xx body, which new-api
// sends for example for GET /v1/models/{unknown}.
func errorInBody(status int, h http.Header, body []byte) *APIError {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var probe struct {
		Error json.RawMessage `json:"error"`
		Type  string          `json:"type"`
	}
	if json.Unmarshal(trimmed, &probe) != nil {
		return nil
	}
	if len(probe.Error) == 0 || string(probe.Error) == "null" || (probe.Error[0] != '{' && probe.Error[0] != '"') {
		return nil
	}
	return decodeError(status, h, body)
}

func fillFromEnvelope(e *APIError, body []byte) bool {
	var env struct {
		Error       json.RawMessage `json:"error"`
		Type        string          `json:"type"`
		Description *string         `json:"description"`
		Code        json.RawMessage `json:"code"`
		Message     string          `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		return false
	}
	if len(env.Error) > 0 && env.Error[0] == '{' {
		var inner struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
			Status  string          `json:"status"`
		}
		if json.Unmarshal(env.Error, &inner) != nil {
			return false
		}
		e.Message = inner.Message
		e.Type = inner.Type
		e.Code = rawCode(inner.Code)
		if e.Code == "" && inner.Status != "" {
			e.Code = inner.Status
		}
		e.Envelope = "openai"
		if env.Type == "error" {
			// Anthropic: error.type carries the upstream code, or "<nil>".
			e.Envelope = "anthropic"
			if e.Type == "<nil>" {
				e.Type = ""
			}
			if e.Code == "" && e.Type != "new_api_error" {
				e.Code = e.Type
			}
		}
		return true
	}
	if len(env.Error) > 0 && env.Error[0] == '"' {
		var s string
		_ = json.Unmarshal(env.Error, &s)
		e.Message, e.Envelope = s, "openai"
		return true
	}
	if env.Description != nil {
		e.Message = strings.TrimSpace(*env.Description)
		e.Code = rawCode(env.Code)
		e.Type = env.Type
		e.Envelope = "midjourney"
		return true
	}
	if env.Message != "" {
		e.Message, e.Type, e.Code, e.Envelope = env.Message, env.Type, rawCode(env.Code), "openai"
		return true
	}
	return false
}

func rawCode(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.Trim(string(raw), `"`)
}

var reTags = regexp.MustCompile(`<[^>]*>`)

// textSnippet turns a non-JSON body (an HTML error page, plain text) into a
// short readable message.
func textSnippet(body []byte, contentType string) string {
	s := string(body)
	if strings.Contains(contentType, "html") || strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = reTags.ReplaceAllString(s, " ")
	}
	s = strings.Join(strings.Fields(s), " ")
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		return "non-JSON body"
	}
	return "non-JSON body: " + s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// StreamError reports a stream that did not reach its real end: the
// connection was cut, an error event arrived inside it, or the gateway
// closed it with its made-up usage chunk and [DONE] but no finish reason.
// It wraps ErrStreamCut and, for an error event, the event's *APIError.
type StreamError struct {
	Reason  string // what was wrong, e.g. "no finish reason before [DONE]"
	Partial string // text received before the cut, for the user to see
	Err     error  // the error event's *APIError, or the read error; may be nil
}

func (e *StreamError) Error() string {
	msg := "stream cut before its end: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives ErrStreamCut and the cause, for errors.Is and errors.As.
func (e *StreamError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrStreamCut}
	}
	return []error{ErrStreamCut, e.Err}
}
