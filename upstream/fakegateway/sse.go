package fakegateway

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Stream writes a server-sent event stream the way new-api does: its headers
// (text/event-stream, Cache-Control no-cache, X-Accel-Buffering no), a flush
// after every event, and ": PING" comments as configured with [WithPing].
// Call Close before the handler returns.
type Stream struct {
	w            http.ResponseWriter
	flusher      http.Flusher
	defaultPings bool

	mu  sync.Mutex
	err error

	stop chan struct{}
	wg   sync.WaitGroup
}

// NewStream writes the SSE response headers with status 200 and starts the
// pings: with [WithPing] a ticker pings every interval until Close; by default
// one ping is written now and one more by [Stream.MiddlePing].
func (g *Gateway) NewStream(w http.ResponseWriter, r *http.Request) *Stream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	s := &Stream{w: w, stop: make(chan struct{})}
	s.flusher, _ = w.(http.Flusher)
	switch {
	case !g.pingSet:
		s.defaultPings = true
		s.Ping()
	case g.pingEvery > 0:
		s.wg.Go(func() {
			ticker := time.NewTicker(g.pingEvery)
			defer ticker.Stop()
			for {
				select {
				case <-ticker.C:
					s.Ping()
				case <-s.stop:
					return
				case <-r.Context().Done():
					return
				}
			}
		})
	default:
		s.flush()
	}
	return s
}

// Data writes "data: <v as JSON>\n\n".
func (s *Stream) Data(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.setErr(err)
		return
	}
	s.write("data: " + string(b) + "\n\n")
}

// DataRaw writes "data: <line>\n\n" without encoding line.
func (s *Stream) DataRaw(line string) {
	s.write("data: " + line + "\n\n")
}

// Event writes "event: <name>\ndata: <v as JSON>\n\n" (Anthropic and
// Responses streams).
func (s *Stream) Event(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.setErr(err)
		return
	}
	s.write("event: " + name + "\ndata: " + string(b) + "\n\n")
}

// Ping writes new-api's keep-alive comment ": PING\n\n".
func (s *Stream) Ping() {
	s.write(": PING\n\n")
}

// MiddlePing writes the second default ping; it does nothing when pings are
// configured with [WithPing].
func (s *Stream) MiddlePing() {
	if s.defaultPings {
		s.Ping()
	}
}

// Done writes the OpenAI end marker "data: [DONE]\n\n".
func (s *Stream) Done() {
	s.write("data: [DONE]\n\n")
}

// Err returns the first write error, typically because the client went away.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close stops the ping ticker and waits for it; no event is written after it.
// It may be called more than once.
func (s *Stream) Close() {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Cut stops the pings and drops the connection mid-stream: no usage, no
// end marker, as when the gateway's upstream breaks.
func (s *Stream) Cut() {
	s.Close()
	dropConnection(s.w)
}

func (s *Stream) write(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	select {
	case <-s.stop:
		return
	default:
	}
	if _, err := s.w.Write([]byte(text)); err != nil {
		s.err = err
		return
	}
	if s.flusher != nil {
		s.flusher.Flush()
	}
}

func (s *Stream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flusher != nil {
		s.flusher.Flush()
	}
}

func (s *Stream) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}
