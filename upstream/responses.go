package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// ResponseRequest is the body of POST /v1/responses (the OpenAI Responses
// API). Input is a string or a list of {role, content} messages.
type ResponseRequest struct {
	Model              string         `json:"model"`
	Input              any            `json:"input"`
	Instructions       string         `json:"instructions,omitempty"`
	PreviousResponseID string         `json:"previous_response_id,omitempty"`
	MaxOutputTokens    *int           `json:"max_output_tokens,omitempty"`
	Tools              []ResponseTool `json:"tools,omitempty"`
	Stream             bool           `json:"stream,omitempty"`
}

// ResponseTool is a built-in tool the model may use, e.g.
// {"type":"web_search_preview"}.
type ResponseTool struct {
	Type string `json:"type"`
}

// Response is a Responses API answer, or the same built from its stream.
type Response struct {
	ID                string               `json:"id"`
	Model             string               `json:"model"`
	Status            string               `json:"status"` // completed, incomplete, failed, in_progress
	Output            []ResponseOutputItem `json:"output"`
	Usage             *ResponseUsage       `json:"usage"`
	Error             *ResponseFailure     `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
}

// ResponseOutputItem is one item of a response's output: a message, a
// web_search_call, reasoning…; only messages carry text.
type ResponseOutputItem struct {
	ID      string                `json:"id"`
	Type    string                `json:"type"`
	Role    string                `json:"role,omitempty"`
	Status  string                `json:"status,omitempty"`
	Content []ResponseContentPart `json:"content,omitempty"`
}

// ResponseContentPart is one part of an output message.
type ResponseContentPart struct {
	Type        string               `json:"type"` // output_text, refusal
	Text        string               `json:"text,omitempty"`
	Refusal     string               `json:"refusal,omitempty"`
	Annotations []ResponseAnnotation `json:"annotations,omitempty"`
}

// ResponseAnnotation is a citation inside output text (web search results).
type ResponseAnnotation struct {
	Type  string `json:"type"` // url_citation
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
}

// ResponseUsage is the token count of a response.
type ResponseUsage struct {
	InputTokens         int `json:"input_tokens"`
	OutputTokens        int `json:"output_tokens"`
	TotalTokens         int `json:"total_tokens"`
	OutputTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details,omitempty"`
}

// ResponseFailure is the error of a failed response.
type ResponseFailure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Text returns the text of the output messages, refusals included.
func (r *Response) Text() string {
	var b strings.Builder
	for _, it := range r.Output {
		if it.Type != "message" {
			continue
		}
		for _, p := range it.Content {
			b.WriteString(p.Text)
			b.WriteString(p.Refusal)
		}
	}
	return b.String()
}

// Citations returns the distinct URLs cited in the output, in order.
func (r *Response) Citations() []ResponseAnnotation {
	var out []ResponseAnnotation
	seen := map[string]bool{}
	for _, it := range r.Output {
		for _, p := range it.Content {
			for _, a := range p.Annotations {
				if a.URL != "" && !seen[a.URL] {
					seen[a.URL] = true
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// failed turns a response with status "failed" into an error.
func (r *Response) failed() error {
	if r.Status != "failed" {
		return nil
	}
	e := &APIError{StatusCode: http.StatusOK, Type: "response_failed", Envelope: "openai", Message: "the response failed"}
	if r.Error != nil {
		e.Code, e.Message = r.Error.Code, r.Error.Message
	}
	return e
}

// CreateResponse sends a Responses API request and waits for the whole
// answer: POST /v1/responses. The request is sent once, never retried.
func (c *Client) CreateResponse(ctx context.Context, req *ResponseRequest) (*Response, error) {
	body := *req
	body.Stream = false
	r, err := jsonRequest(http.MethodPost, "/v1/responses", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	var out Response
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("create response: %w", err)
	}
	if err := out.failed(); err != nil {
		return nil, fmt.Errorf("create response: %w", err)
	}
	return &out, nil
}

// responseEvent is one event of a Responses stream; which fields are set
// depends on its type.
type responseEvent struct {
	Type     string          `json:"type"`
	Delta    string          `json:"delta"`
	Response *Response       `json:"response"`
	Code     json.RawMessage `json:"code"`
	Message  string          `json:"message"`
	Error    json.RawMessage `json:"error"`
}

// ResponseStream sends a Responses API request with stream:true and builds
// the whole answer from its events (event: framing, no [DONE]), calling
// onDelta (may be nil) as text arrives: POST /v1/responses. The stream ends
// with response.completed (or response.incomplete, which is returned with
// its reason); a stream that stops before, carries an error event, or ends
// with response.failed gives a *StreamError with the text so far.
func (c *Client) ResponseStream(ctx context.Context, req *ResponseRequest, onDelta func(ChatDelta)) (*Response, error) {
	body := *req
	body.Stream = true
	r, err := jsonRequest(http.MethodPost, "/v1/responses", &body)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	s, err := c.stream(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("create response: %w", err)
	}
	defer s.Close()
	if s.Plain != nil {
		var out Response
		if err := json.Unmarshal(s.Plain, &out); err != nil {
			return nil, fmt.Errorf("create response: %w: %v", ErrMalformedResponse, err)
		}
		if err := out.failed(); err != nil {
			return nil, fmt.Errorf("create response: %w", err)
		}
		return &out, nil
	}
	out, err := readResponseStream(ctx, s, onDelta)
	if err != nil {
		return out, fmt.Errorf("create response: %w", err)
	}
	return out, nil
}

func readResponseStream(ctx context.Context, s *Stream, onDelta func(ChatDelta)) (*Response, error) {
	var (
		text strings.Builder
		last *Response
	)
	textFn := func() string { return text.String() }
	cut := func(reason string, err error) (*Response, error) {
		if last == nil {
			last = &Response{}
		}
		return last, &StreamError{Reason: reason, Partial: text.String(), Err: err}
	}
	for {
		var e responseEvent
		typ, data, err := s.nextTypedEvent(ctx, textFn, "response.completed", &e)
		if err != nil {
			if last == nil {
				last = &Response{}
			}
			return last, err
		}
		if e.Response != nil {
			last = e.Response
		}
		switch {
		case typ == "response.output_text.delta" || typ == "response.refusal.delta":
			if e.Delta != "" {
				text.WriteString(e.Delta)
				if onDelta != nil {
					onDelta(ChatDelta{Content: e.Delta, Chars: text.Len(), Text: textFn})
				}
			}
		case typ == "response.completed" || typ == "response.incomplete":
			if last == nil {
				return cut(typ+" without its response", ErrMalformedResponse)
			}
			if len(last.Output) == 0 && text.Len() > 0 {
				// Some relays send a slim final event; keep what streamed.
				last.Output = []ResponseOutputItem{{Type: "message", Role: "assistant", Content: []ResponseContentPart{{Type: "output_text", Text: text.String()}}}}
			}
			return last, nil
		case typ == "response.failed":
			var ferr error
			if last != nil {
				ferr = last.failed()
			}
			return cut("the model failed (response.failed)", ferr)
		case typ == "error" || len(e.Error) > 0 && string(e.Error) != "null":
			apiErr := decodeError(http.StatusOK, http.Header{}, data)
			if apiErr.Message == "" || apiErr.Envelope == "text" {
				apiErr.Message, apiErr.Code = e.Message, rawCode(e.Code)
			}
			apiErr.Message = s.c.scrubString(apiErr.Message)
			return cut("error event inside the stream", apiErr)
		}
	}
}
