package upstream

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestSpeechRealAudio(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	for _, format := range []string{"wav", "mp3"} {
		t.Run(format, func(t *testing.T) {
			a, err := c.Speech(t.Context(), &SpeechRequest{Model: "tts-1", Input: "hello there world", Voice: "alloy", ResponseFormat: format})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			data, err := io.ReadAll(a)
			if err != nil {
				t.Fatal(err)
			}
			switch format {
			case "wav":
				info, err := fakegateway.ParseWAV(data)
				if err != nil || info.Duration <= 0 || a.ContentType != "audio/wav" {
					t.Errorf("wav: %+v, %v, content type %q; want a parsable WAV", info, err, a.ContentType)
				}
			case "mp3":
				if n, err := fakegateway.MP3Frames(data); err != nil || n == 0 || a.ContentType != "audio/mpeg" {
					t.Errorf("mp3: %d frames, %v, content type %q; want MP3 frames", n, err, a.ContentType)
				}
			}
		})
	}
}

func TestSpeechFailures(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	// Errors before the audio, also an error body on HTTP 200.
	for _, tt := range []struct {
		model, voice string
		kind         Kind
	}{
		{fakegateway.ModelFaultError200, "alloy", KindModelNotFound},
		{fakegateway.ModelFault429, "alloy", KindRateLimited},
		{"tts-1", "robot", KindBadRequest},
	} {
		_, err := c.Speech(t.Context(), &SpeechRequest{Model: tt.model, Input: "hi", Voice: tt.voice})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Kind() != tt.kind {
			t.Errorf("%s/%s: err = %v; want an *APIError of kind %v", tt.model, tt.voice, err, tt.kind)
		}
	}
	// A body cut short is a read error, never a short file.
	a, err := c.Speech(t.Context(), &SpeechRequest{Model: fakegateway.ModelFaultCut, Input: "hi", Voice: "alloy", ResponseFormat: "wav"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := io.ReadAll(a); err == nil {
		t.Error("cut body read without error")
	}
}

func TestTranscribeMultipart(t *testing.T) {
	g := fakegateway.New(t)
	c := newClient(t, g.URL)
	wav := fakegateway.WAV(2, 16000)
	out, err := c.Transcribe(t.Context(), &TranscriptionRequest{Model: "whisper-1", Filename: "my \"talk\".wav", ContentType: "audio/wav", Data: wav, Language: "en", Prompt: "names: Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Text, "2.0 seconds") || !strings.Contains(out.Text, "Ada") || !strings.Contains(out.Text, "[en]") {
		t.Errorf("text %q; want the duration, prompt and language reflected", out.Text)
	}
	last := g.Last(fakegateway.RouteTranscriptions)
	mt, params, err := mime.ParseMediaType(last.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q; want multipart/form-data", last.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(bytes.NewReader(last.Body), params["boundary"])
	fields := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.FormName() == "file" {
			if p.FileName() != `my "talk".wav` || p.Header.Get("Content-Type") != "audio/wav" || !bytes.Equal(b, wav) {
				t.Errorf("file part %q %q, %d bytes; want the WAV as sent", p.FileName(), p.Header.Get("Content-Type"), len(b))
			}
		}
		fields[p.FormName()] = string(b)
	}
	if fields["model"] != "whisper-1" || fields["language"] != "en" || fields["response_format"] != "json" {
		t.Errorf("fields %v; want model, language and response_format", fields)
	}

	// new-api decodes the audio itself: a broken WAV is its 500 count_token_failed.
	_, err = c.Transcribe(t.Context(), &TranscriptionRequest{Model: "whisper-1", Filename: "a.wav", Data: []byte("RIFF$\x00\x00\x00WAVEfmt ")})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Code != "count_token_failed" {
		t.Errorf("broken wav: err = %v; want 500 count_token_failed", err)
	}
	c = newClient(t, g.URL, WithAPIKey("sk-wrong000000000"))
	_, err = c.Transcribe(t.Context(), &TranscriptionRequest{Model: "whisper-1", Filename: "a.wav", Data: wav})
	if !errors.As(err, &apiErr) || apiErr.Kind() != KindBadKey {
		t.Errorf("bad key: err = %v; want KindBadKey", err)
	}
}
