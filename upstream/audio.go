package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// MaxSpeechBytes caps a speech answer: minutes of audio are a few MiB.
const MaxSpeechBytes = 64 << 20

// SpeechRequest is the body of POST /v1/audio/speech.
type SpeechRequest struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	Voice          string `json:"voice"`
	ResponseFormat string `json:"response_format,omitempty"` // mp3, wav, opus, aac, flac, pcm
}

// AudioStream is a binary audio answer being received. Read it to the end
// (reads past MaxSpeechBytes fail) and Close it.
type AudioStream struct {
	ContentType string
	body        io.Reader
	closeFn     func()
	c           *Client
}

// Read reads audio bytes; errors carry no secret.
func (a *AudioStream) Read(p []byte) (int, error) {
	n, err := a.body.Read(p)
	if err != nil && err != io.EOF {
		err = a.c.scrub(fmt.Errorf("read audio: %w", err))
	}
	return n, err
}

// Close releases the connection.
func (a *AudioStream) Close() error {
	a.closeFn()
	return nil
}

// Speech turns text into speech: POST /v1/audio/speech. The answer is binary
// audio, returned as a stream to save; an error envelope (even on HTTP 200)
// is an *APIError. The request is sent once, never retried.
func (c *Client) Speech(ctx context.Context, req *SpeechRequest) (*AudioStream, error) {
	r, err := jsonRequest(http.MethodPost, "/v1/audio/speech", req)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	r.accept = "audio/*"
	resp, cancel, err := c.send(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	closeFn := func() { resp.Body.Close(); cancel() }
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" || strings.HasPrefix(mt, "text/") {
		defer closeFn()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if apiErr := errorInBody(resp.StatusCode, resp.Header, body); apiErr != nil {
			apiErr.Message = c.scrubString(apiErr.Message)
			return nil, fmt.Errorf("speech: %w", apiErr)
		}
		return nil, fmt.Errorf("speech: the gateway sent %s instead of audio (body starts %q): %w", mt, c.scrubString(snippet(body, 80)), ErrMalformedResponse)
	}
	return &AudioStream{ContentType: ct, body: &capReader{r: resp.Body, left: MaxSpeechBytes}, closeFn: closeFn, c: c}, nil
}

// capReader fails once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, fmt.Errorf("answer larger than %d MiB: %w", MaxSpeechBytes>>20, ErrMalformedResponse)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, fmt.Errorf("answer larger than %d MiB: %w", MaxSpeechBytes>>20, ErrMalformedResponse)
	}
	return n, err
}

// TranscriptionRequest is a file to transcribe with its form fields.
type TranscriptionRequest struct {
	Model       string
	Filename    string // sent as the file part's filename; the gateway reads the format from it
	ContentType string // the file part's Content-Type, e.g. audio/wav
	Data        []byte
	Language    string // ISO-639-1, optional
	Prompt      string // optional context or spelling hints
}

// Transcription is the answer of POST /v1/audio/transcriptions.
type Transcription struct {
	Text     string  `json:"text"`
	Language string  `json:"language,omitempty"`
	Duration float64 `json:"duration,omitempty"`
}

// Transcribe turns speech into text: POST /v1/audio/transcriptions, a
// multipart upload with the audio in the field "file". The request is sent
// once, never retried.
func (c *Client) Transcribe(ctx context.Context, req *TranscriptionRequest) (*Transcription, error) {
	body, contentType, err := transcriptionForm(req)
	if err != nil {
		return nil, fmt.Errorf("transcription: %w", err)
	}
	r := &request{method: http.MethodPost, path: "/v1/audio/transcriptions", auth: authBearer, body: body, contentType: contentType}
	var out Transcription
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("transcription: %w", err)
	}
	return &out, nil
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

func transcriptionForm(req *TranscriptionRequest) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{{"model", req.Model}, {"response_format", "json"}, {"language", req.Language}, {"prompt", req.Prompt}}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(req.Filename)))
	ct := req.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(req.Data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}
