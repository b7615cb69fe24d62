package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

type createResponseInput struct {
	Input              string `json:"input" jsonschema_description:"The user message."`
	Instructions       string `json:"instructions,omitempty" jsonschema_description:"System instructions."`
	Model              string `json:"model,omitempty" jsonschema_description:"OpenAI model id; default WENWEN_CHAT_MODEL."`
	PreviousResponseID string `json:"previous_response_id,omitempty" jsonschema_description:"id of an earlier result, to continue it."`
	WebSearch          bool   `json:"web_search,omitempty" jsonschema_description:"Let the model search the web."`
	MaxOutputTokens    *int   `json:"max_output_tokens,omitempty" jsonschema:"minimum=16"`
}

func (in *createResponseInput) validate() error {
	if strings.TrimSpace(in.Input) == "" {
		return userErrorf("input is empty: give the user message")
	}
	if in.MaxOutputTokens != nil && *in.MaxOutputTokens < 16 {
		return userErrorf("max_output_tokens must be at least 16")
	}
	if id := in.PreviousResponseID; id != "" && !strings.HasPrefix(id, "resp_") {
		return userErrorf("previous_response_id %q is not a response id: pass the id (resp_...) of an earlier create_response result", id)
	}
	return nil
}

type responseSource struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// tokensOut is the token count of the issue-5 tools' answers.
type tokensOut struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type createResponseOutput struct {
	ID         string           `json:"id"`
	Model      string           `json:"model"`
	Text       string           `json:"text"`
	Incomplete string           `json:"incomplete,omitempty" jsonschema_description:"Why it stopped early."`
	Sources    []responseSource `json:"sources,omitempty"`
	Usage      tokensOut        `json:"usage"`
}

func createResponseTool(d *Deps) Tool {
	t := define("create_response",
		"OpenAI Responses API: pass the returned id as previous_response_id to continue; optional web search. Costs tokens.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in createResponseInput) (Result[createResponseOutput], error) {
			req := &upstream.ResponseRequest{
				Model:              in.Model,
				Input:              in.Input,
				Instructions:       in.Instructions,
				PreviousResponseID: in.PreviousResponseID,
				MaxOutputTokens:    in.MaxOutputTokens,
			}
			if req.Model == "" {
				req.Model = d.Config.ChatModel
			}
			if in.WebSearch {
				req.Tools = []upstream.ResponseTool{{Type: "web_search_preview"}}
			}
			resp, err := d.Client.ResponseStream(ctx, req, func(delta upstream.ChatDelta) {
				call.Progress.Report(float64(delta.Chars), 0, fmt.Sprintf("received %d characters", delta.Chars))
			})
			if err != nil {
				return Result[createResponseOutput]{}, err
			}
			out := createResponseOutput{ID: resp.ID, Model: resp.Model, Text: resp.Text()}
			if out.Model == "" {
				out.Model = req.Model
			}
			if resp.Status == "incomplete" {
				out.Incomplete = "incomplete"
				if resp.IncompleteDetails != nil && resp.IncompleteDetails.Reason != "" {
					out.Incomplete = resp.IncompleteDetails.Reason
				}
			}
			for _, c := range resp.Citations() {
				out.Sources = append(out.Sources, responseSource{URL: c.URL, Title: c.Title})
			}
			if u := resp.Usage; u != nil {
				out.Usage = tokensOut{u.InputTokens, u.OutputTokens}
			}
			return Result[createResponseOutput]{Value: out, Text: createResponseText(out)}, nil
		})
	t.Toolset = "responses"
	return t
}

func createResponseText(out createResponseOutput) string {
	var b strings.Builder
	b.WriteString(out.Text)
	b.WriteString("\n")
	for _, s := range out.Sources {
		fmt.Fprintf(&b, "source: %s %s\n", s.URL, s.Title)
	}
	if out.Incomplete != "" {
		fmt.Fprintf(&b, "(stopped early: %s)\n", out.Incomplete)
	}
	fmt.Fprintf(&b, "[%s, id %s, %d in / %d out tokens]", out.Model, out.ID, out.Usage.InputTokens, out.Usage.OutputTokens)
	return b.String()
}
