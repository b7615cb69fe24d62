package fakegateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// RouteResponses is the route key of the Responses API.
const RouteResponses = "POST /v1/responses"

// reResponseID is the shape of the ids this fake issues, which is all that
// previous_response_id may name.
var reResponseID = regexp.MustCompile(`^resp_[0-9a-f]{8}[0-9]{6}$`)

// responsesRequest is the part of a Responses request the gateway checks.
type responsesRequest struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       *string         `json:"instructions"`
	PreviousResponseID *string         `json:"previous_response_id"`
	MaxOutputTokens    *float64        `json:"max_output_tokens"`
	Tools              []struct {
		Type string `json:"type"`
	} `json:"tools"`
	Stream bool `json:"stream"`
}

// responses serves POST /v1/responses: Bearer auth, the OpenAI error
// envelope, and a stream with event: framing that ends with
// response.completed (or response.incomplete) and no [DONE].
//
// Faults: the shared ones ([Gateway.ReplayFault]); on a stream, fault-trunc
// ends the stream after the text deltas without response.completed,
// fault-cut drops the connection, fault-sse-error sends an "error" event,
// fault-badjson a data line that is not JSON. Without stream, fault-cut and
// fault-badjson send half a body.
func (g *Gateway) responses(w http.ResponseWriter, r *http.Request) {
	if !g.CheckBearer(w, r) {
		return
	}
	var req responsesRequest
	if !ReadJSON(w, r, &req) {
		return
	}
	if !g.CheckModel(w, req.Model) {
		return
	}
	input, rerr := responsesInput(req.Input)
	if rerr == nil {
		rerr = validateResponses(&req)
	}
	if rerr != nil {
		g.writeRequestError(w, rerr)
		return
	}
	if g.ReplayFault(w, req.Model, req.Stream) {
		return
	}
	if req.Model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}

	resp := g.planResponse(&req, input)
	if !req.Stream {
		writeRelayed(w, req.Model, resp)
		return
	}
	g.streamResponse(w, r, &req, resp)
}

// responsesInput returns the text of the input: a string, or a list of
// messages {role, content} whose content is a string or input_text parts.
func responsesInput(raw json.RawMessage) (string, *requestError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", upstreamReject("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return "", upstreamReject("input", "invalid_type", "Invalid type for 'input': expected a string or an array of input items, but got %s instead.", jsonKind(raw))
	}
	var last string
	for i, m := range msgs {
		switch m.Role {
		case "user", "assistant", "system", "developer":
		default:
			return "", upstreamReject(fmt.Sprintf("input[%d].role", i), "invalid_value",
				"Invalid value: '%s'. Supported values are: 'assistant', 'system', 'developer', and 'user'.", m.Role)
		}
		var text string
		if json.Unmarshal(m.Content, &text) != nil {
			var parts []struct {
				Type string  `json:"type"`
				Text *string `json:"text"`
			}
			if err := json.Unmarshal(m.Content, &parts); err != nil || len(parts) == 0 {
				return "", upstreamReject(fmt.Sprintf("input[%d].content", i), "invalid_type",
					"Invalid type for 'input[%d].content': expected a string or an array of content parts.", i)
			}
			for j, p := range parts {
				if (p.Type != "input_text" && p.Type != "output_text") || p.Text == nil {
					return "", upstreamReject(fmt.Sprintf("input[%d].content[%d]", i, j), "invalid_value",
						"Invalid content part: want type 'input_text' (or 'output_text' for assistant) with text.")
				}
				text += *p.Text
			}
		}
		if m.Role == "user" {
			last = text
		}
	}
	return last, nil
}

func validateResponses(req *responsesRequest) *requestError {
	if id := req.PreviousResponseID; id != nil && !reResponseID.MatchString(*id) {
		return upstreamReject("previous_response_id", "previous_response_not_found",
			"Previous response with id '%s' not found.", *id)
	}
	if v := req.MaxOutputTokens; v != nil {
		switch {
		case *v != float64(int64(*v)):
			return upstreamReject("max_output_tokens", "invalid_type",
				"Invalid type for 'max_output_tokens': expected an integer, but got a decimal number instead.")
		case *v < 16:
			return upstreamReject("max_output_tokens", "integer_below_min_value",
				"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got %v instead.", *v)
		}
	}
	for i, t := range req.Tools {
		switch t.Type {
		case "web_search_preview", "web_search", "function", "file_search", "code_interpreter", "image_generation":
		default:
			return upstreamReject(fmt.Sprintf("tools[%d].type", i), "invalid_value", "Invalid value: '%s'.", t.Type)
		}
	}
	return nil
}

// fakeResponse is a Responses API object in OpenAI's key order (abridged).
type fakeResponse struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Error              any               `json:"error"`
	IncompleteDetails  any               `json:"incomplete_details"`
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *float64          `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []fakeOutputItem  `json:"output"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Store              bool              `json:"store"`
	Usage              *fakeResponseUses `json:"usage"`
}

type fakeOutputItem struct {
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Status  string            `json:"status"`
	Role    string            `json:"role,omitempty"`
	Content []fakeOutputPart  `json:"content,omitempty"`
	Action  map[string]string `json:"action,omitempty"`
}

type fakeOutputPart struct {
	Type        string           `json:"type"`
	Annotations []fakeAnnotation `json:"annotations"`
	Logprobs    []any            `json:"logprobs"`
	Text        string           `json:"text"`
}

type fakeAnnotation struct {
	Type       string `json:"type"`
	StartIndex int    `json:"start_index"`
	EndIndex   int    `json:"end_index"`
	Title      string `json:"title"`
	URL        string `json:"url"`
}

type fakeResponseUses struct {
	InputTokens         int            `json:"input_tokens"`
	InputTokensDetails  map[string]int `json:"input_tokens_details"`
	OutputTokens        int            `json:"output_tokens"`
	OutputTokensDetails map[string]int `json:"output_tokens_details"`
	TotalTokens         int            `json:"total_tokens"`
}

// planResponse builds the complete answer. The text names the previous
// response id when one was given, and a web search adds a cited source; a
// max_output_tokens below the answer's length makes it incomplete.
func (g *Gateway) planResponse(req *responsesRequest, input string) fakeResponse {
	created := time.Now().Unix()
	seq := g.nextSeq()
	text := fmt.Sprintf("Hello from fakegateway (%s). You said: %q.", req.Model, input)
	if req.PreviousResponseID != nil {
		text += " (continuing " + *req.PreviousResponseID + ")"
	}
	out := fakeResponse{
		ID:                 fmt.Sprintf("resp_%s%06d", g.idPrefix, seq),
		Object:             "response",
		CreatedAt:          created,
		Status:             "completed",
		Instructions:       req.Instructions,
		MaxOutputTokens:    req.MaxOutputTokens,
		Model:              req.Model,
		PreviousResponseID: req.PreviousResponseID,
		Store:              true,
	}
	part := fakeOutputPart{Type: "output_text", Annotations: []fakeAnnotation{}, Logprobs: []any{}}
	for _, t := range req.Tools {
		if strings.HasPrefix(t.Type, "web_search") {
			out.Output = append(out.Output, fakeOutputItem{
				ID: fmt.Sprintf("ws_%06d", seq), Type: "web_search_call", Status: "completed",
				Action: map[string]string{"type": "search", "query": input},
			})
			cite := " Source: Example Domain."
			part.Annotations = append(part.Annotations, fakeAnnotation{
				Type: "url_citation", StartIndex: len(text) + 1, EndIndex: len(text) + len(cite),
				Title: "Example Domain", URL: "https://example.com/",
			})
			text += cite
			break
		}
	}
	words := strings.Fields(text)
	outTokens := len(words)
	if m := req.MaxOutputTokens; m != nil && int(*m) < outTokens {
		words, outTokens = words[:int(*m)], int(*m)
		text = strings.Join(words, " ")
		out.Status = "incomplete"
		out.IncompleteDetails = map[string]string{"reason": "max_output_tokens"}
	}
	part.Text = text
	out.Output = append(out.Output, fakeOutputItem{
		ID: fmt.Sprintf("msg_%06d", seq), Type: "message", Status: out.Status, Role: "assistant",
		Content: []fakeOutputPart{part},
	})
	inTokens := max(1, len(strings.Fields(input)))
	if req.Instructions != nil {
		inTokens += len(strings.Fields(*req.Instructions))
	}
	out.Usage = &fakeResponseUses{
		InputTokens: inTokens, InputTokensDetails: map[string]int{"cached_tokens": 0},
		OutputTokens: outTokens, OutputTokensDetails: map[string]int{"reasoning_tokens": 0},
		TotalTokens: inTokens + outTokens,
	}
	return out
}

// streamResponse writes the answer as OpenAI streams it: response.created,
// response.in_progress, the output item and part events, text deltas, the
// done events and response.completed; every event has a sequence_number.
func (g *Gateway) streamResponse(w http.ResponseWriter, r *http.Request, req *responsesRequest, full fakeResponse) {
	s := g.NewStream(w, r)
	defer s.Close()
	seq := 0
	event := func(typ string, fields map[string]any) {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		s.Event(typ, fields)
	}
	pending := full
	pending.Status, pending.Output, pending.Usage, pending.IncompleteDetails = "in_progress", []fakeOutputItem{}, nil, nil
	event("response.created", map[string]any{"response": pending})
	event("response.in_progress", map[string]any{"response": pending})

	msgIndex := len(full.Output) - 1
	for i, item := range full.Output[:msgIndex] {
		event("response.output_item.added", map[string]any{"output_index": i, "item": item})
		event("response.output_item.done", map[string]any{"output_index": i, "item": item})
	}
	msg := full.Output[msgIndex]
	part := msg.Content[0]
	startItem := msg
	startItem.Status, startItem.Content = "in_progress", []fakeOutputPart{}
	event("response.output_item.added", map[string]any{"output_index": msgIndex, "item": startItem})
	emptyPart := fakeOutputPart{Type: "output_text", Annotations: []fakeAnnotation{}, Logprobs: []any{}}
	event("response.content_part.added", map[string]any{"item_id": msg.ID, "output_index": msgIndex, "content_index": 0, "part": emptyPart})

	pieces := splitRunes(part.Text, chatPieceRunes)
	for i, p := range pieces {
		if i == len(pieces)/2 {
			s.MiddlePing()
		}
		if req.Model == ModelFaultBadJSON && i == 1 {
			s.write("event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hel\n\n")
			return
		}
		if req.Model == ModelFaultSSEError && i == 1 {
			event("error", map[string]any{"code": "server_error", "message": "The server had an error while processing your request. Sorry about that!", "param": nil})
			return
		}
		if req.Model == ModelFaultCut && i == 2 {
			s.Cut()
		}
		event("response.output_text.delta", map[string]any{"item_id": msg.ID, "output_index": msgIndex, "content_index": 0, "delta": p, "logprobs": []any{}})
		if s.Err() != nil {
			return
		}
	}
	if req.Model == ModelFaultTrunc {
		return // the upstream stopped: no done events, no response.completed
	}
	event("response.output_text.done", map[string]any{"item_id": msg.ID, "output_index": msgIndex, "content_index": 0, "text": part.Text, "logprobs": []any{}})
	event("response.content_part.done", map[string]any{"item_id": msg.ID, "output_index": msgIndex, "content_index": 0, "part": part})
	event("response.output_item.done", map[string]any{"output_index": msgIndex, "item": msg})
	final := "response.completed"
	if full.Status == "incomplete" {
		final = "response.incomplete"
	}
	event(final, map[string]any{"response": full})
}
