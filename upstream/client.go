// Package upstream is the HTTP client of the wenwen gateway (new-api). It
// knows the gateway's wire formats, its three auth styles and its error
// envelopes; it holds no MCP types.
package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// DefaultBaseURL is wenwen's gateway, without /v1.
const DefaultBaseURL = "https://api.wenwen-ai.com"

const (
	maxErrorBody   = 64 << 10  // error bodies are read through this limit
	maxSuccessBody = 128 << 20 // JSON answers may carry base64 media
)

// Client talks to the gateway. Build it with New; it is safe for concurrent use.
type Client struct {
	base       *url.URL
	key        string
	hc         *http.Client
	timeout    time.Duration
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	userAgent  string
}

// Option configures a Client; options validate their arguments.
type Option func(*Client) error

// New returns a client for DefaultBaseURL with a 120 s request timeout and
// 2 retries for requests that are safe to repeat.
func New(opts ...Option) (*Client, error) {
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		base:       base,
		hc:         &http.Client{Transport: defaultTransport()},
		timeout:    120 * time.Second,
		retries:    2,
		backoff:    500 * time.Millisecond,
		maxBackoff: 10 * time.Second,
		userAgent:  "wenwen-mcp",
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 0 // the gateway may send no header for minutes on long jobs
	return t
}

// WithBaseURL sets the gateway address (http or https, without /v1; a
// trailing /v1 is dropped).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := ParseBaseURL(raw)
		if err != nil {
			return err
		}
		c.base = u
		return nil
	}
}

// ParseBaseURL validates a gateway address: absolute http(s), no query, no
// credentials; a trailing slash or /v1 is dropped.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http:// or https:// followed by a host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: must not carry credentials, a query or a fragment", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// WithAPIKey sets the key (sk-…). An empty key is allowed: every call then
// fails with ErrNoAPIKey.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		key = strings.TrimSpace(key)
		if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return errors.New("API key contains spaces or control characters")
		}
		c.key = key
		return nil
	}
}

// WithHTTPClient replaces the HTTP client (tests, proxies).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil HTTP client")
		}
		c.hc = hc
		return nil
	}
}

// WithTimeout sets the deadline of each request unless the context asks for
// another with WithRequestTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("timeout %v: must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRetry sets how often a request that is safe to repeat (GET) is retried
// and the backoff between tries. POST requests are never retried.
func WithRetry(max int, base, cap time.Duration) Option {
	return func(c *Client) error {
		if max < 0 || base <= 0 || cap < base {
			return fmt.Errorf("retry %d, %v, %v: want max >= 0 and 0 < base <= cap", max, base, cap)
		}
		c.retries, c.backoff, c.maxBackoff = max, base, cap
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if ua == "" {
			return errors.New("empty user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// HasKey reports whether the client has an API key.
func (c *Client) HasKey() bool { return c.key != "" }

// BaseURL is the gateway address the client uses.
func (c *Client) BaseURL() string { return c.base.String() }

type timeoutKey struct{}

// WithRequestTimeout returns a context whose requests use d as their
// deadline instead of the client's timeout: long generations (video) need
// minutes, while the gateway may send nothing at all in between.
func WithRequestTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, timeoutKey{}, d)
}

func (c *Client) requestTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(timeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return c.timeout
}

// authStyle is how a route wants the key.
type authStyle int

const (
	authBearer  authStyle = iota // Authorization: Bearer (OpenAI, Midjourney routes)
	authXAPIKey                  // x-api-key (Anthropic /v1/messages)
	authGoogKey                  // x-goog-api-key (Gemini /v1beta), never ?key= so no URL carries it
	authNone
)

// request is one call to the gateway.
type request struct {
	method      string
	path        string // from the base, e.g. "/v1/chat/completions"
	query       url.Values
	auth        authStyle
	body        []byte // replayable, so a GET retry can resend it
	contentType string
	accept      string
}

func jsonRequest(method, path string, v any) (*request, error) {
	r := &request{method: method, path: path}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s body: %w", path, err)
		}
		r.body, r.contentType = b, "application/json"
	}
	return r, nil
}

func (c *Client) build(ctx context.Context, r *request) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", r.method, r.path, err)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	req.Header.Set("User-Agent", c.userAgent)
	switch r.auth {
	case authBearer:
		req.Header.Set("Authorization", "Bearer "+c.key)
	case authXAPIKey:
		req.Header.Set("x-api-key", c.key)
	case authGoogKey:
		req.Header.Set("x-goog-api-key", c.key)
	}
	return req, nil
}

// send performs r and returns a response with a 2xx status, or an error:
// *APIError for error answers, a scrubbed transport error otherwise. GET
// requests are retried on transient failures; others are sent exactly once.
// The caller closes the body and then calls cancel.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, context.CancelFunc, error) {
	if c.key == "" && r.auth != authNone {
		return nil, nil, ErrNoAPIKey
	}
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout(ctx))
	attempts := 1
	if r.method == http.MethodGet || r.method == http.MethodHead {
		attempts += c.retries
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			wait := c.backoffFor(i, lastErr)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				cancel()
				return nil, nil, c.ctxErr(ctx, r, lastErr)
			case <-t.C:
			}
		}
		req, err := c.build(ctx, r)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				cancel()
				return nil, nil, c.ctxErr(ctx, r, err)
			}
			lastErr = c.scrub(fmt.Errorf("%s %s: %w", r.method, r.path, err))
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, cancel, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		apiErr := decodeError(resp.StatusCode, resp.Header, body)
		apiErr.Message = c.scrubString(apiErr.Message)
		lastErr = apiErr
		if !retryableStatus(resp.StatusCode) {
			break
		}
	}
	cancel()
	return nil, nil, lastErr
}

func retryableStatus(s int) bool {
	switch s {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (c *Client) backoffFor(attempt int, last error) time.Duration {
	var apiErr *APIError
	if errors.As(last, &apiErr) && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, c.maxBackoff)
	}
	d := c.backoff << (attempt - 1)
	if d > c.maxBackoff || d <= 0 {
		d = c.maxBackoff
	}
	// Full jitter on the upper half keeps clients from retrying in step.
	return d/2 + rand.N(d/2+1)
}

// ctxErr explains a request that ended with its context: the caller's
// cancellation passes through as is; our own deadline says how long we waited.
func (c *Client) ctxErr(ctx context.Context, r *request, cause error) error {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: no answer within %v: %w", r.method, r.path, c.requestTimeout(ctx), context.DeadlineExceeded)
	}
	if cause != nil {
		return c.scrub(fmt.Errorf("%s %s: %w", r.method, r.path, errors.Join(ctx.Err(), cause)))
	}
	return fmt.Errorf("%s %s: %w", r.method, r.path, ctx.Err())
}

// do sends r and decodes a JSON answer into out (nil: discard). A 2xx body
// with an error envelope is an *APIError; a body that does not parse wraps
// ErrMalformedResponse.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	resp, cancel, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody+1))
	if err != nil {
		return c.scrub(fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err))
	}
	if len(body) > maxSuccessBody {
		return fmt.Errorf("%s %s: answer larger than %d MiB: %w", r.method, r.path, maxSuccessBody>>20, ErrMalformedResponse)
	}
	if apiErr := errorInBody(resp.StatusCode, resp.Header, body); apiErr != nil {
		apiErr.Message = c.scrubString(apiErr.Message)
		return apiErr
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: %w: %v (body starts %q)", r.method, r.path, ErrMalformedResponse, err, c.scrubString(snippet(body, 80)))
	}
	return nil
}

func snippet(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// scrub removes the key from an error's text, and the query (where a key
// could travel) from any URL inside a *url.Error.
func (c *Client) scrub(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := strings.ReplaceAll(err.Error(), ue.URL, redactURL(ue.URL))
		return &scrubbed{msg: c.scrubString(msg), cause: ue.Err}
	}
	if c.key != "" && strings.Contains(err.Error(), c.key) {
		return &scrubbed{msg: c.scrubString(err.Error()), cause: errors.Unwrap(err)}
	}
	return err
}

func (c *Client) scrubString(s string) string {
	if c.key == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.key, "[key]")
	if k := strings.TrimPrefix(c.key, "sk-"); len(k) >= 8 {
		s = strings.ReplaceAll(s, k, "[key]")
	}
	return s
}

// scrubbed is an error whose text was cleaned of secrets; it still unwraps
// to the transport cause (which carries no URL) for errors.Is checks.
type scrubbed struct {
	msg   string
	cause error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.cause }

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[url]"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

// isEventStream reports whether a Content-Type is text/event-stream.
func isEventStream(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "text/event-stream"
}
