package fakegateway

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// TestRestRoutesAreStrict: each route of the Responses, Anthropic,
// embeddings and audio families takes only its own auth style and body
// shape, and answers errors in the envelope the real gateway uses.
func TestRestRoutesAreStrict(t *testing.T) {
	g := New(t)
	tests := []struct {
		name, path, body string
		hdr              map[string]string
		status           int
		bodyHas          []string
	}{
		{"messages ok with x-api-key", "/v1/messages", `{"model":"claude-sonnet-4-20250514","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"Authorization": "", "X-Api-Key": Key}, 200, []string{`"type":"message"`, `"stop_reason":"end_turn"`}},
		{"messages refuses Bearer", "/v1/messages", `{"model":"claude-sonnet-4-20250514","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			nil, 401, []string{`"type":"new_api_error"`, "Invalid token"}},
		{"messages unknown model in the OpenAI envelope", "/v1/messages", `{"model":"claude-9","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"X-Api-Key": Key}, 503, []string{`{"error":{"code":"model_not_found"`}},
		{"messages relayed error in the Anthropic envelope", "/v1/messages", `{"model":"fault-429","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"X-Api-Key": Key}, 429, []string{`"type":"error"`, `"type":"rate_limit_exceeded"`}},
		{"messages without max_tokens", "/v1/messages", `{"model":"claude-sonnet-4-20250514","messages":[{"role":"user","content":"hi"}]}`,
			map[string]string{"X-Api-Key": Key}, 400, []string{`"type":"invalid_request_error"`, "max_tokens", "(request id: "}},
		{"messages image that is not one", "/v1/messages", `{"model":"claude-sonnet-4-20250514","max_tokens":64,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"aGVsbG8="}}]}]}`,
			map[string]string{"X-Api-Key": Key}, 400, []string{"does not match the media type"}},
		{"responses stream has no [DONE]", "/v1/responses", `{"model":"gpt-4o","input":"hi","stream":true}`,
			nil, 200, []string{"event: response.created", "event: response.completed"}},
		{"responses bad key", "/v1/responses", `{"model":"gpt-4o","input":"hi"}`,
			map[string]string{"Authorization": "Bearer sk-nope"}, 401, []string{"Invalid token"}},
		{"embeddings of a chat model", "/v1/embeddings", `{"model":"gpt-4o","input":"hi"}`,
			nil, 400, []string{"does not support embeddings"}},
		{"embeddings dimensions too large", "/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi","dimensions":5000}`,
			nil, 400, []string{"between 1 and 1536"}},
		{"speech bad voice", "/v1/audio/speech", `{"model":"tts-1","input":"hi","voice":"robot"}`,
			nil, 400, []string{"Supported values are: 'alloy'"}},
		{"speech as JSON only", "/v1/audio/speech", `model=tts-1`,
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, []string{"Content-Type must be application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(t.Context(), t, g, http.MethodPost, tt.path, tt.body, tt.hdr)
			if resp.status != tt.status {
				t.Fatalf("status %d; want %d (%s)", resp.status, tt.status, resp.body)
			}
			for _, w := range tt.bodyHas {
				if !bytes.Contains(resp.body, []byte(w)) {
					t.Errorf("body %s; want it to contain %s", resp.body, w)
				}
			}
			if strings.Contains(tt.name, "no [DONE]") && bytes.Contains(resp.body, []byte("[DONE]")) {
				t.Errorf("Responses stream carries [DONE]: %s", resp.body)
			}
		})
	}
}

func TestTranscriptionUploadIsChecked(t *testing.T) {
	g := New(t)
	form := func(field, filename string, data []byte, model string) (string, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if model != "" {
			w.WriteField("model", model)
		}
		part, _ := w.CreateFormFile(field, filename)
		part.Write(data)
		w.Close()
		return buf.String(), w.FormDataContentType()
	}
	tests := []struct {
		name, field, filename string
		data                  []byte
		model                 string
		status                int
		bodyHas               string
	}{
		{"real wav", "file", "a.wav", WAV(1.5, 8000), "whisper-1", 200, "1.5 seconds"},
		{"real mp3", "file", "a.mp3", MP3(2), "whisper-1", 200, "seconds of audio"},
		{"wrong field name", "audio", "a.wav", WAV(1, 8000), "whisper-1", 400, "'file'"},
		{"broken wav", "file", "a.wav", []byte("RIFF$\x00\x00\x00WAVEfmt "), "whisper-1", 500, "count_token_failed"},
		{"broken mp3", "file", "a.mp3", []byte("ID3 nonsense"), "whisper-1", 500, "invalid mp3 file"},
		{"unknown format", "file", "a.txt", []byte("hello"), "whisper-1", 400, "Invalid file format"},
		{"no model", "file", "a.wav", WAV(1, 8000), "", 400, "Model name not specified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := form(tt.field, tt.filename, tt.data, tt.model)
			resp := send(t.Context(), t, g, http.MethodPost, "/v1/audio/transcriptions", body, map[string]string{"Content-Type": ct})
			if resp.status != tt.status || !bytes.Contains(resp.body, []byte(tt.bodyHas)) {
				t.Errorf("status %d body %s; want %d containing %q", resp.status, resp.body, tt.status, tt.bodyHas)
			}
		})
	}
	resp := send(t.Context(), t, g, http.MethodPost, "/v1/audio/transcriptions", `{"model":"whisper-1"}`, nil)
	if resp.status != 400 || !bytes.Contains(resp.body, []byte("multipart/form-data")) {
		t.Errorf("JSON body: status %d %s; want 400 asking for multipart", resp.status, resp.body)
	}
}

func TestAudioHelpersRoundTrip(t *testing.T) {
	info, err := ParseWAV(WAV(2, 16000))
	if err != nil || info.SampleRate != 16000 || info.Channels != 1 || info.BitsPerSample != 16 || info.Duration.Seconds() != 2 {
		t.Errorf("ParseWAV(WAV(2 s)) = %+v, %v", info, err)
	}
	if _, err := ParseWAV([]byte("RIFF\x10\x00\x00\x00WAVEdata\xff\xff\x00\x00")); err == nil {
		t.Error("ParseWAV accepted a data chunk before fmt")
	}
	if n, err := MP3Frames(MP3(1)); err != nil || n != 38 {
		t.Errorf("MP3Frames(MP3(1 s)) = %d, %v; want 38 frames", n, err)
	}
	if _, err := MP3Frames([]byte("not an mp3 at all")); err == nil {
		t.Error("MP3Frames accepted text")
	}
}
