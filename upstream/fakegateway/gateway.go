// Package fakegateway is a strict, in-process fake of the wenwen gateway (the
// open-source new-api gateway software) for tests.
//
// It speaks the wire formats recorded from new-api (testdata/upstream/*.http),
// replays those recordings where one exists, rejects what the real gateway or
// its upstream would reject, and misbehaves on demand when a request names one
// of the fault models below. Every route counts its requests and tracks how many
// are served at once, so tests can assert on retries and concurrency.
//
// Routes served today: GET /v1/models, GET /v1/models/{id},
// POST /v1/chat/completions, the Midjourney routes /mj/... (midjourney.go),
// the video routes /v1/videos... (video.go), the image routes /v1/images/...
// (images.go), POST /v1beta/models/{model}:generateContent (gemini.go),
// POST /v1/responses (responses.go), POST /v1/messages with x-api-key
// (anthropic.go), POST /v1/embeddings (embeddings.go) and
// POST /v1/audio/speech and /v1/audio/transcriptions (audio.go, which also
// answers chat requests for audio output);
// everything else answers like new-api's NoRoute
// handler (404 "Invalid URL (METHOD /path)"). Other API families add their
// routes in their own file of this package through [Gateway.Handle] and reuse
// [Gateway.CheckBearer], [ReadJSON], [Gateway.CheckModel], [Gateway.ReplayFault]
// and [Gateway.NewStream].
//
// # Fault models
//
// A request for one of these models (all listed in the catalogue) misbehaves.
// Names like upstream-429 are recordings (testdata/upstream/<name>.http),
// replayed byte for byte. Every route may use them through
// [Gateway.ReplayFault]; the rows from fault-trunc down are chat's own.
//
//	Model                  Plain request                            Stream request ("stream":true)
//	---------------------  ---------------------------------------  ----------------------------------------
//	fault-429              upstream-429 (429, no Retry-After)       upstream-429-stream (429, SSE headers,
//	                                                                bare JSON body)
//	fault-429-empty        rate-limit-model-request-success-count   the same
//	                       (429, empty body, no Content-Type)
//	fault-500              upstream-500 (500, "code":null)          upstream-500-stream
//	fault-502html          upstream-502html (502                    upstream-502html-stream
//	                       bad_response_status_code)
//	fault-503-cpu          system-cpu-overloaded (503)              the same
//	fault-401-upstream     upstream-401 (401 invalid_api_key,       the same body with the SSE headers
//	                       masked URL)
//	fault-quota-token      token-quota-exhausted (403               the same
//	                       pre_consume_token_quota_failed)
//	fault-quota-user       user-quota-insufficient (403             the same
//	                       insufficient_user_quota, Chinese)
//	fault-not-allowed      model-not-allowed-for-token (403)        the same
//	fault-unpriced         model-unpriced (400 model_price_error)   the same
//	fault-error200         200 with an error body naming the model, as models-retrieve-unknown
//	fault-trunc            upstream-trunc (500                      upstream-trunc-stream (200: two chunks,
//	                       read_response_body_failed)               synthetic usage, [DONE], no finish_reason)
//	fault-cut              Content-Length larger than the body,     role and two content chunks, then the
//	                       then the connection drops                connection drops: no usage, no [DONE]
//	fault-sse-error        normal reply                             upstream-sse-error-midstream (a data:
//	                                                                {"error":…} line, synthetic usage, [DONE])
//	fault-badjson          200 application/json, truncated body     role chunk, a data: line that is not
//	                                                                JSON, [DONE]
//	fault-badjson-content  with response_format json_object/json_schema: content that is not JSON;
//	                       with tools: tool-call arguments that are not JSON (plain and stream)
//	fault-slow             waits WithSlowDelay (default 2s; ends    waits without sending headers, or with
//	                       when the client goes away), then         ": PING" every interval under WithPing,
//	                       answers normally                         then streams normally
//
// Unknown models get model-unknown (503 model_not_found) with the model name
// substituted; a bad or missing key gets the route's badkey recording (401).
//
// # Error envelopes
//
// Errors that new-api makes itself use type "new_api_error" and end with
// " (request id: <X-Oneapi-Request-Id>)" ([Gateway.WriteGatewayError]). Request
// errors that the real gateway passes through from its upstream (bad role, bad
// image URL, bad tools, out-of-range temperature, …) use type
// "invalid_request_error", name the offending parameter in "param", and have no
// request-id suffix, as recorded ([WriteUpstreamError]).
//
// # Streams
//
// Streams carry new-api's SSE headers, flush after every event, always end with
// a usage-only chunk (choices:[]) and data: [DONE] (new-api forces
// include_usage upstream), and by default contain one ": PING" comment before the
// first chunk and one in the middle so that client parsers always meet one. See
// [WithPing] to change that.
package fakegateway

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
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is the API key the gateway accepts unless [WithKey] says otherwise.
const Key = "sk-fakegw0123456789abcdefTESTKEY"

// Route keys accepted by [Gateway.Count] and [Gateway.Last] for the routes
// served by this file's families.
const (
	RouteModels          = "GET /v1/models"
	RouteModel           = "GET /v1/models/{id}"
	RouteChatCompletions = "POST /v1/chat/completions"
)

// Response headers every answer carries.
const (
	HeaderRequestID  = "X-Oneapi-Request-Id"
	HeaderAPIVersion = "X-New-Api-Version"
	apiVersion       = "v0.0.0"
)

// MaxBodyBytes caps request bodies read by [ReadJSON] (new-api's default
// MAX_REQUEST_BODY_MB is 32).
const MaxBodyBytes = 32 << 20

// recordBodyLimit caps how much of a body is kept for [Gateway.Last].
const recordBodyLimit = 64 << 20

// defaultSlowDelay is how long fault-slow waits unless [WithSlowDelay] is given.
const defaultSlowDelay = 2 * time.Second

// Gateway is a running fake gateway. Its methods are safe for concurrent use.
type Gateway struct {
	// URL is the base URL of the server, without /v1 (like https://api.wenwen-ai.com).
	URL string

	t         testing.TB
	key       string
	legacy    bool
	pingEvery time.Duration // 0: default pings (before first chunk, middle); <0: none
	pingSet   bool
	slowDelay time.Duration
	idPrefix  string

	mux    *http.ServeMux
	srv    *httptest.Server
	closed chan struct{}

	long *longTasks // Midjourney tasks and videos (midjourney.go, video.go)

	mu       sync.Mutex
	counts   map[string]int
	last     map[string]Request
	inFlight int
	maxIn    int
	seq      int
}

// Request is a request as the gateway received it.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Option configures a [Gateway] in [New].
type Option func(*Gateway)

// WithKey makes the gateway accept k instead of [Key].
func WithKey(k string) Option {
	return func(g *Gateway) { g.key = k }
}

// WithLegacyModelList makes GET /v1/models answer in the April-2025 new-api
// shape: {"data":[{id,object,created,owned_by,permission,root,parent}],"success":true}
// with no top-level "object" and no supported_endpoint_types.
func WithLegacyModelList() Option {
	return func(g *Gateway) { g.legacy = true }
}

// WithPing makes streams emit ": PING" comments every interval for as long as
// they are open (and while fault-slow waits, before any chunk), like new-api with
// its stream ping turned on. every <= 0 turns pings off entirely, which is
// new-api's shipped default. Without this option each stream carries exactly two
// pings: one before the first chunk and one in the middle.
func WithPing(every time.Duration) Option {
	return func(g *Gateway) {
		g.pingSet = true
		g.pingEvery = every
	}
}

// WithSlowDelay sets how long model fault-slow waits before answering
// (default 2s). The wait ends early when the client goes away.
func WithSlowDelay(d time.Duration) Option {
	return func(g *Gateway) { g.slowDelay = d }
}

// New starts a fake gateway; t.Cleanup stops it. It fails the test at once if
// a recording in testdata/upstream cannot be parsed.
func New(t testing.TB, opts ...Option) *Gateway {
	t.Helper()
	g := &Gateway{
		t:         t,
		key:       Key,
		slowDelay: defaultSlowDelay,
		idPrefix:  fmt.Sprintf("%08x", rand.Uint32()),
		mux:       http.NewServeMux(),
		closed:    make(chan struct{}),
		counts:    make(map[string]int),
		last:      make(map[string]Request),
		long:      newLongTasks(),
	}
	for _, opt := range opts {
		opt(g)
	}
	if _, err := Recordings(); err != nil {
		t.Fatalf("fakegateway: %v", err)
	}

	g.Handle("GET /v1/models", g.listModels)
	g.Handle("GET /v1/models/{id}", g.retrieveModel)
	g.Handle("POST /v1/chat/completions", g.chatCompletions)
	g.Handle(RouteResponses, g.responses)           // responses.go
	g.Handle(RouteMessages, g.messages)             // anthropic.go
	g.Handle(RouteEmbeddings, g.embeddings)         // embeddings.go
	g.Handle(RouteSpeech, g.speech)                 // audio.go
	g.Handle(RouteTranscriptions, g.transcriptions) // audio.go
	g.handleMidjourney()                            // midjourney.go
	g.handleVideo()                                 // video.go
	g.handleImages()                                // images.go
	g.handleGemini()                                // gemini.go
	g.Handle("/", g.notFound)

	g.srv = httptest.NewServer(g.mux)
	g.URL = g.srv.URL
	t.Cleanup(func() {
		close(g.closed) // release handlers that are waiting on purpose
		g.srv.Close()
	})
	return g
}

// Handle registers h for a net/http ServeMux pattern such as
// "POST /v1/images/generations". Every route is wrapped so that requests are
// counted, recorded for [Gateway.Last], tracked for [Gateway.MaxInFlight], and
// answered with fresh X-Oneapi-Request-Id and X-New-Api-Version headers.
func (g *Gateway) Handle(pattern string, h http.HandlerFunc) {
	g.mux.HandleFunc(pattern, g.track(h))
}

func (g *Gateway) track(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, recordBodyLimit))
		if err != nil {
			http.Error(w, "fakegateway: read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		// Hand the whole body on, including any part beyond the record limit,
		// so that the handler's own size cap still sees it.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}

		req := Request{
			Method:   r.Method,
			Path:     r.URL.Path,
			RawQuery: r.URL.RawQuery,
			Header:   r.Header.Clone(),
			Body:     body,
		}
		g.mu.Lock()
		for _, k := range routeKeys(r) {
			g.counts[k]++
			g.last[k] = req
		}
		g.inFlight++
		g.maxIn = max(g.maxIn, g.inFlight)
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.inFlight--
			g.mu.Unlock()
		}()

		w.Header().Set(HeaderAPIVersion, apiVersion)
		w.Header().Set(HeaderRequestID, g.newRequestID())
		h(w, r)
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// routeKeys gives the keys a request is counted under: "METHOD /path" and,
// when the route has wildcards, its pattern ("GET /v1/models/{id}").
func routeKeys(r *http.Request) []string {
	keys := []string{r.Method + " " + r.URL.Path}
	p := r.Pattern
	if p == "" || p == keys[0] || !strings.Contains(p, "{") {
		return keys
	}
	if !strings.Contains(p, " ") {
		p = r.Method + " " + p
	}
	return append(keys, p)
}

// Count returns how many requests reached route, a key like
// "POST /v1/chat/completions", "GET /v1/models/gpt-4o" or a wildcard pattern
// "GET /v1/models/{id}". Rejected requests count too.
func (g *Gateway) Count(route string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts[route]
}

// Last returns the last request received on route (see [Gateway.Count] for
// the keys), or the zero Request if there was none.
func (g *Gateway) Last(route string) Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	req := g.last[route]
	req.Header = req.Header.Clone()
	req.Body = bytes.Clone(req.Body)
	return req
}

// MaxInFlight returns the highest number of requests served at the same time.
func (g *Gateway) MaxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxIn
}

// newRequestID makes an id in new-api's format: UTC yyyyMMddHHmmss, 9-digit
// nanoseconds, an 8-hex per-process prefix and 8 random alphanumerics
// (39 characters).
func (g *Gateway) newRequestID() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	now := time.Now().UTC()
	var b strings.Builder
	b.WriteString(now.Format("20060102150405"))
	fmt.Fprintf(&b, "%09d", now.Nanosecond())
	b.WriteString(g.idPrefix)
	for range 8 {
		b.WriteByte(alnum[rand.IntN(len(alnum))])
	}
	return b.String()
}

// nextSeq returns a per-gateway sequence number for response ids.
func (g *Gateway) nextSeq() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	return g.seq
}

// KeyValid reports whether presented is the accepted key. Like new-api it
// ignores an "sk-" prefix on either side.
func (g *Gateway) KeyValid(presented string) bool {
	return presented != "" && strings.TrimPrefix(presented, "sk-") == strings.TrimPrefix(g.key, "sk-")
}

// BearerKey returns the key in the Authorization header, with or without the
// "Bearer " prefix (new-api accepts both).
func BearerKey(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// CheckBearer authenticates an OpenAI-style route. On failure it replays
// badkey-chat (401 "Invalid token") and returns false.
func (g *Gateway) CheckBearer(w http.ResponseWriter, r *http.Request) bool {
	return g.CheckKey(w, BearerKey(r), "badkey-chat")
}

// CheckKey authenticates a presented key (taken from wherever the route reads
// it: Authorization, x-api-key, ?key=). On failure it replays the recording
// badkey (a 401 in the OpenAI envelope on every route) and returns false.
func (g *Gateway) CheckKey(w http.ResponseWriter, presented, badkey string) bool {
	if g.KeyValid(presented) {
		return true
	}
	g.Replay(w, badkey)
	return false
}

// CheckModel reports whether model is in the catalogue. If it is empty it
// replays new-api's "Model name not specified" (files-get-without-model,
// 400); if it is unknown, model-unknown (503 model_not_found, naming the
// model); either way it returns false. new-api answers so on every route.
func (g *Gateway) CheckModel(w http.ResponseWriter, model string) bool {
	if model == "" {
		g.Replay(w, "files-get-without-model")
		return false
	}
	if g.KnownModel(model) {
		return true
	}
	g.ReplayModelUnknown(w, model)
	return false
}

// ReplayModelUnknown writes model-unknown with the model name substituted.
func (g *Gateway) ReplayModelUnknown(w http.ResponseWriter, model string) {
	g.replaySubst(w, "model-unknown", "gpt-9-unknown", model)
}

// SlowWait blocks for the fault-slow delay. It returns false when the wait was
// cut short because the request was cancelled or the gateway is closing.
func (g *Gateway) SlowWait(ctx context.Context) bool {
	timer := time.NewTimer(g.slowDelay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-g.closed:
		return false
	}
}

// errorEnvelope is the OpenAI error envelope in the key order that new-api's
// own error struct marshals to.
type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param"`
	Code    any    `json:"code"`
}

// WriteGatewayError writes an error that new-api makes itself:
// {"error":{"message":"<message> (request id: …)","type":"new_api_error","param":"","code":code}}.
func (g *Gateway) WriteGatewayError(w http.ResponseWriter, status int, code, message string) {
	id := w.Header().Get(HeaderRequestID)
	if id == "" {
		id = g.newRequestID()
		w.Header().Set(HeaderRequestID, id)
	}
	WriteJSON(w, status, errorEnvelope{Error: errorBody{
		Message: message + " (request id: " + id + ")",
		Type:    "new_api_error",
		Code:    code,
	}})
}

// WriteUpstreamError writes an error the way new-api relays one from its
// upstream on OpenAI routes: the upstream's envelope with param null turned
// into "" and no request-id suffix. A nil code stays null.
func WriteUpstreamError(w http.ResponseWriter, status int, typ, param string, code any, message string) {
	WriteJSON(w, status, errorEnvelope{Error: errorBody{
		Message: message,
		Type:    typ,
		Param:   param,
		Code:    code,
	}})
}

// WriteJSON writes v as JSON with the Content-Type new-api uses for its own
// answers ("application/json; charset=utf-8").
func WriteJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json; charset=utf-8", v)
}

// WriteUpstreamJSON writes v as JSON with the Content-Type of a body relayed
// from upstream ("application/json", no charset).
func WriteUpstreamJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json", v)
}

// writeRelayed writes v as a relayed success body, broken the way the fault
// models ask: fault-badjson gets half the JSON (a complete answer that does
// not parse), fault-cut half the JSON under the whole body's Content-Length
// and then a dropped connection.
func writeRelayed(w http.ResponseWriter, model string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fakegateway: marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	switch model {
	case ModelFaultBadJSON:
		b = b[:len(b)/2]
	case ModelFaultCut:
		writeCut(w, "application/json", b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeCut sends the first half of body under the whole body's
// Content-Length, then drops the connection: the client sees a cut transfer.
func writeCut(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	dropConnection(w)
}

// dropConnection flushes what was written and closes the connection
// without ending the answer (no chunk terminator, no [DONE]).
func dropConnection(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fakegateway: marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ReadJSON decodes the request body into dst. The body must be sent as
// application/json and be at most [MaxBodyBytes]. On failure it writes the
// answer new-api gives (body-empty or body-not-json for an empty or invalid
// body, a 400 naming the Content-Type, a 413 for an oversized body) and
// returns false. A JSON value that does not fit dst counts as invalid JSON.
func ReadJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		writeOwnError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("Invalid request: Content-Type must be application/json, got %q", ct))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeOwnError(w, http.StatusRequestEntityTooLarge, "read_request_body_failed",
				fmt.Sprintf("request body too large: more than %d bytes", MaxBodyBytes))
			return false
		}
		writeOwnError(w, http.StatusBadRequest, "read_request_body_failed", "read request body: "+err.Error())
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		replayTo(w, "body-empty")
		return false
	}
	if err := json.Unmarshal(body, dst); err != nil {
		replayTo(w, "body-not-json")
		return false
	}
	return true
}

// writeOwnError is WriteGatewayError for package functions without a Gateway;
// the tracking wrapper has already set the request id.
func writeOwnError(w http.ResponseWriter, status int, code, message string) {
	id := w.Header().Get(HeaderRequestID)
	if id != "" {
		message += " (request id: " + id + ")"
	}
	WriteJSON(w, status, errorEnvelope{Error: errorBody{Message: message, Type: "new_api_error", Code: code}})
}

// notFound answers unknown routes the way new-api's NoRoute handler does.
func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	g.replaySubst(w, "unknown-route", "POST /v1/xyz", r.Method+" "+r.URL.Path)
}
