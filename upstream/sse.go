package upstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Event is one server-sent event: its event: name (often empty) and its
// data: lines joined by "\n".
type Event struct {
	Name string
	Data []byte
}

// ErrLineTooLong is returned by SSEReader.Next for a line above its limit.
var ErrLineTooLong = errors.New("server-sent event line too long")

// SSEReader reads server-sent events. It skips comment lines (": PING"
// keep-alives), accepts CRLF, and takes a bare JSON line as data (the gateway
// sends errors that way under an event-stream content type).
type SSEReader struct {
	r       *bufio.Reader
	maxLine int
	line    []byte
}

// NewSSEReader returns a reader with a 64 MiB line limit: chat image models
// put whole base64 images in one data line.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 64<<10), maxLine: 64 << 20}
}

// Next returns the next event. At the end of the input it returns io.EOF,
// after dispatching a last event that lacked its blank line.
func (s *SSEReader) Next() (Event, error) {
	var ev Event
	var data bytes.Buffer
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && (hasData || ev.Name != "") {
				ev.Data = data.Bytes()
				return ev, nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if hasData || ev.Name != "" {
				ev.Data = data.Bytes()
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		if line[0] == '{' || line[0] == '[' {
			appendData(&data, &hasData, line)
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			appendData(&data, &hasData, value)
		case "event":
			ev.Name = string(value)
		}
	}
}

func appendData(buf *bytes.Buffer, has *bool, v []byte) {
	if *has {
		buf.WriteByte('\n')
	}
	buf.Write(v)
	*has = true
}

// readLine returns one line without its line ending; the slice is valid
// until the next call.
func (s *SSEReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.line)+len(chunk) > s.maxLine {
			return nil, ErrLineTooLong
		}
		s.line = append(s.line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(s.line) > 0 {
				return bytes.TrimRight(s.line, "\r\n"), nil
			}
			return nil, err
		}
		return bytes.TrimRight(s.line, "\r\n"), nil
	}
}

// Stream is an open streamed answer. Close it when done.
type Stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	sse    *SSEReader
	// Plain holds the whole body when the gateway answered a stream request
	// with plain JSON instead of events (some models ignore stream:true).
	Plain []byte
	c     *Client
}

// Next returns the next event, io.EOF at the end, or a scrubbed read error.
func (s *Stream) Next() (Event, error) {
	if s.sse == nil {
		return Event{}, io.EOF
	}
	ev, err := s.sse.Next()
	if err != nil && err != io.EOF {
		return ev, s.c.scrub(fmt.Errorf("read stream: %w", err))
	}
	return ev, err
}

// nextData returns the next event that carries data, its data trimmed, for
// the stream readers of each API family. At the end of the stream it returns
// io.EOF. A read error is returned as is when ctx ended (the caller gave up),
// else as a *StreamError "connection broken" keeping partial() as the text
// received so far.
func (s *Stream) nextData(ctx context.Context, partial func() string) (name, data string, err error) {
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return "", "", io.EOF
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", "", err
			}
			return "", "", &StreamError{Reason: "connection broken", Partial: partial(), Err: err}
		}
		if d := strings.TrimSpace(string(ev.Data)); d != "" {
			return ev.Name, d, nil
		}
	}
}

// nextTypedEvent reads the next event of a stream whose events carry a
// type (Anthropic messages, Responses) into v and returns that type: the
// JSON "type", else the event: name, and the raw data. The stream's end, a [DONE] or an
// unreadable event before the final event type is a *StreamError.
func (s *Stream) nextTypedEvent(ctx context.Context, partial func() string, final string, v any) (typ string, raw []byte, err error) {
	name, data, err := s.nextData(ctx, partial)
	switch {
	case err == io.EOF:
		return "", nil, &StreamError{Reason: "the stream ended without " + final, Partial: partial(), Err: io.ErrUnexpectedEOF}
	case err != nil:
		return "", nil, err
	case data == "[DONE]":
		return "", nil, &StreamError{Reason: "[DONE] before " + final, Partial: partial()}
	}
	raw = []byte(data)
	var typed struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return "", nil, &StreamError{Reason: "unreadable event", Partial: partial(), Err: fmt.Errorf("%w: %v", ErrMalformedResponse, err)}
	}
	if json.Unmarshal(raw, &typed) == nil && typed.Type != "" {
		return typed.Type, raw, nil
	}
	return name, raw, nil
}

// Close releases the connection.
func (s *Stream) Close() error {
	err := s.resp.Body.Close()
	s.cancel()
	return err
}

// stream sends r and opens its answer as a stream. The status is checked
// before anything is parsed: errors on stream requests come back as a bare
// JSON body under an event-stream content type.
func (c *Client) stream(ctx context.Context, r *request) (*Stream, error) {
	if r.accept == "" {
		r.accept = "text/event-stream"
	}
	resp, cancel, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	s := &Stream{resp: resp, cancel: cancel, c: c}
	if isEventStream(resp.Header.Get("Content-Type")) {
		s.sse = NewSSEReader(resp.Body)
		return s, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody))
	if err != nil {
		s.Close()
		return nil, c.scrub(fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err))
	}
	if apiErr := errorInBody(resp.StatusCode, resp.Header, body); apiErr != nil {
		s.Close()
		apiErr.Message = c.scrubString(apiErr.Message)
		return nil, apiErr
	}
	s.Plain = body
	return s, nil
}
