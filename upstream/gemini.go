package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// GenerateContentRequest is the body of the Gemini-format
// POST /v1beta/models/{model}:generateContent.
type GenerateContentRequest struct {
	Contents          []GeminiContent   `json:"contents"`
	SystemInstruction *GeminiContent    `json:"systemInstruction,omitempty"`
	GenerationConfig  *GenerationConfig `json:"generationConfig,omitempty"`
	Tools             json.RawMessage   `json:"tools,omitempty"`
	ToolConfig        json.RawMessage   `json:"toolConfig,omitempty"`
	SafetySettings    json.RawMessage   `json:"safetySettings,omitempty"`
}

// GeminiContent is one turn: a role ("user", "model"; empty means user)
// and its parts.
type GeminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []GeminiPart `json:"parts"`
}

// GeminiPart is one part of a turn: text, inline bytes, a file reference or
// a function call or response. Inline data is written as inlineData and read
// in either spelling (inlineData/mimeType or inline_data/mime_type), as
// gateways answer both.
type GeminiPart struct {
	Text             string          `json:"text,omitempty"`
	Thought          bool            `json:"thought,omitempty"`
	InlineData       *GeminiBlob     `json:"inlineData,omitempty"`
	FileData         *GeminiFileData `json:"fileData,omitempty"`
	FunctionCall     json.RawMessage `json:"functionCall,omitempty"`
	FunctionResponse json.RawMessage `json:"functionResponse,omitempty"`
	ThoughtSignature string          `json:"thoughtSignature,omitempty"`
}

// UnmarshalJSON reads inline data in both spellings.
func (p *GeminiPart) UnmarshalJSON(b []byte) error {
	type plain GeminiPart
	var aux struct {
		plain
		InlineDataSnake *GeminiBlob `json:"inline_data"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = GeminiPart(aux.plain)
	if p.InlineData == nil {
		p.InlineData = aux.InlineDataSnake
	}
	return nil
}

// GeminiBlob is inline media: a MIME type and base64 data.
type GeminiBlob struct {
	MIMEType string `json:"mimeType"`
	Data     string `json:"data"`
}

// UnmarshalJSON reads the MIME type in both spellings.
func (b *GeminiBlob) UnmarshalJSON(raw []byte) error {
	var aux struct {
		MIMEType      string `json:"mimeType"`
		MIMETypeSnake string `json:"mime_type"`
		Data          string `json:"data"`
	}
	if err := json.Unmarshal(raw, &aux); err != nil {
		return err
	}
	b.MIMEType, b.Data = aux.MIMEType, aux.Data
	if b.MIMEType == "" {
		b.MIMEType = aux.MIMETypeSnake
	}
	return nil
}

// GeminiFileData refers to a file by URI.
type GeminiFileData struct {
	MIMEType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

// GenerationConfig holds the generation settings used so far; more fields
// pass through the gateway unchanged when added.
type GenerationConfig struct {
	Temperature        *float64     `json:"temperature,omitempty"`
	TopP               *float64     `json:"topP,omitempty"`
	MaxOutputTokens    *int         `json:"maxOutputTokens,omitempty"`
	CandidateCount     *int         `json:"candidateCount,omitempty"`
	StopSequences      []string     `json:"stopSequences,omitempty"`
	ResponseMIMEType   string       `json:"responseMimeType,omitempty"`
	ResponseSchema     any          `json:"responseSchema,omitempty"`
	ResponseModalities []string     `json:"responseModalities,omitempty"` // e.g. ["TEXT","IMAGE"] for image models
	ImageConfig        *ImageConfig `json:"imageConfig,omitempty"`
	ThinkingConfig     any          `json:"thinkingConfig,omitempty"`
}

// ImageConfig asks image models for an aspect ratio ("1:1", "16:9"...) and
// size ("1K", "2K", "4K" on models that support it).
type ImageConfig struct {
	AspectRatio string `json:"aspectRatio,omitempty"`
	ImageSize   string `json:"imageSize,omitempty"`
}

// GenerateContentResponse is the Gemini-format answer.
type GenerateContentResponse struct {
	Candidates     []GeminiCandidate `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback,omitempty"`
	UsageMetadata *GeminiUsage `json:"usageMetadata,omitempty"`
	ModelVersion  string       `json:"modelVersion,omitempty"`
}

// GeminiCandidate is one answer.
type GeminiCandidate struct {
	Content      GeminiContent `json:"content"`
	FinishReason string        `json:"finishReason"`
	Index        int           `json:"index"`
}

// GeminiUsage is the token count (the gateway adds its own fields, ignored).
type GeminiUsage struct {
	PromptTokenCount     int `json:"promptTokenCount"`
	CandidatesTokenCount int `json:"candidatesTokenCount"`
	TotalTokenCount      int `json:"totalTokenCount"`
	ThoughtsTokenCount   int `json:"thoughtsTokenCount"`
}

// Text joins the text parts of the first candidate, thoughts left out.
func (r *GenerateContentResponse) Text() string {
	if len(r.Candidates) == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range r.Candidates[0].Content.Parts {
		if !p.Thought {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Blobs returns the inline data parts of every candidate, in order.
func (r *GenerateContentResponse) Blobs() []GeminiBlob {
	var out []GeminiBlob
	for _, c := range r.Candidates {
		for _, p := range c.Content.Parts {
			if p.InlineData != nil && p.InlineData.Data != "" && !p.Thought {
				out = append(out, *p.InlineData)
			}
		}
	}
	return out
}

// ErrPromptBlocked is wrapped by errors for Gemini answers that refused the
// prompt itself (promptFeedback.blockReason).
var ErrPromptBlocked = errors.New("the prompt was blocked by the model's safety filters")

// GenerateContent sends a Gemini-format request:
// POST /v1beta/models/{model}:generateContent, with the key in
// x-goog-api-key (never in the URL). Sent once, never retried. A prompt
// blocked by safety filters gives an error naming the reason (wrapping
// ErrPromptBlocked); an answer without candidates wraps ErrMalformedResponse.
func (c *Client) GenerateContent(ctx context.Context, model string, req *GenerateContentRequest) (*GenerateContentResponse, error) {
	if model == "" || strings.ContainsAny(model, "/?#:% \t\r\n") {
		return nil, fmt.Errorf("generate content: invalid model name %q", model)
	}
	r, err := jsonRequest(http.MethodPost, "/v1beta/models/"+model+":generateContent", req)
	if err != nil {
		return nil, err
	}
	r.auth = authGoogKey
	var out GenerateContentResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("generate content: %w", err)
	}
	if fb := out.PromptFeedback; fb != nil && fb.BlockReason != "" && len(out.Candidates) == 0 {
		return nil, fmt.Errorf("generate content: %w (%s): rephrase the prompt", ErrPromptBlocked, fb.BlockReason)
	}
	if len(out.Candidates) == 0 {
		return nil, fmt.Errorf("generate content: the answer has no candidates: %w", ErrMalformedResponse)
	}
	return &out, nil
}
