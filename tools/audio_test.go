package tools

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

func TestTextToSpeechSavesRealAudio(t *testing.T) {
	env := newTestEnv(t)
	for _, format := range []string{"", "wav", "flac"} {
		t.Run("format "+format, func(t *testing.T) {
			args := map[string]any{"text": "hello from the speech test", "voice": "nova"}
			if format != "" {
				args["format"] = format
			}
			res := env.call(t, "text_to_speech", args)
			var out savedAudioOutput
			decode(t, res, &out)
			data, err := os.ReadFile(out.Path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != out.Bytes || !strings.HasPrefix(out.Path, env.Deps.Config.OutputDir) {
				t.Errorf("file %s has %d bytes; want %d under the output dir", out.Path, len(data), out.Bytes)
			}
			switch format {
			case "":
				if n, err := fakegateway.MP3Frames(data); err != nil || n == 0 || out.MIME != "audio/mpeg" || filepath.Ext(out.Path) != ".mp3" {
					t.Errorf("mp3 %s (%s): %d frames, %v; want real MP3 frames", out.Path, out.MIME, n, err)
				}
			case "wav":
				if info, err := fakegateway.ParseWAV(data); err != nil || info.Duration <= 0 || out.MIME != "audio/wav" {
					t.Errorf("wav %s (%s): %+v, %v; want a WAV that parses", out.Path, out.MIME, info, err)
				}
			case "flac":
				if out.MIME != "audio/flac" || filepath.Ext(out.Path) != ".flac" {
					t.Errorf("flac saved as %s (%s)", out.Path, out.MIME)
				}
			}
		})
	}
	var body map[string]any
	_ = json.Unmarshal(env.G.Last(fakegateway.RouteSpeech).Body, &body)
	if body["voice"] != "nova" || body["model"] != defaultSpeechModel || body["input"] != "hello from the speech test" {
		t.Errorf("request %v; want voice, default model and input", body)
	}
}

func TestTextToSpeechFailures(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"empty", map[string]any{"text": " "}, "text is empty"},
		{"too long", map[string]any{"text": strings.Repeat("a", 4097)}, "at most 4096"},
		{"voice", map[string]any{"text": "hi", "voice": "robot"}, "unknown voice"},
		{"not audio", map[string]any{"text": "hi", "model": fakegateway.ModelFaultBadJSON}, "not an audio"},
		{"cut", map[string]any{"text": "hi", "model": fakegateway.ModelFaultCut, "format": "wav"}, "cut"},
		{"not a tts model", map[string]any{"text": "hi", "model": "gpt-4o"}, "does not support speech"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "text_to_speech", tt.args)
			if !res.IsError || !strings.Contains(textOf(res), tt.want) {
				t.Errorf("result %q (isError %v); want an error containing %q", textOf(res), res.IsError, tt.want)
			}
		})
	}
	// Nothing half-written is left behind.
	entries, _ := os.ReadDir(env.Deps.Config.OutputDir)
	if len(entries) != 0 {
		t.Errorf("output dir holds %d entries after failures; want none", len(entries))
	}

	off := newTestEnv(t, withEnv("WENWEN_SAVE_MEDIA", "false"))
	res := off.call(t, "text_to_speech", map[string]any{"text": "hi"})
	if !res.IsError || !strings.Contains(textOf(res), "WENWEN_SAVE_MEDIA=true") || off.G.Count(fakegateway.RouteSpeech) != 0 {
		t.Errorf("saving off: %q; want a refusal before any paid call", textOf(res))
	}
}

func TestVoiceReply(t *testing.T) {
	env := newTestEnv(t)
	res := env.call(t, "voice_reply", map[string]any{"prompt": "can you hear me", "voice": "echo"})
	var out voiceReplyOutput
	decode(t, res, &out)
	if !strings.Contains(out.Transcript, "can you hear me") || out.Model != defaultVoiceReplyModel || out.Usage.OutputTokens == 0 {
		t.Errorf("result %+v; want the transcript, the default model and usage", out)
	}
	data, err := os.ReadFile(out.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fakegateway.ParseWAV(data); err != nil || filepath.Ext(out.Path) != ".wav" {
		t.Errorf("saved %s: %v; want a real WAV", out.Path, err)
	}
	var body struct {
		Modalities []string
		Audio      struct{ Voice, Format string }
		Stream     bool
	}
	_ = json.Unmarshal(env.G.Last(fakegateway.RouteChatCompletions).Body, &body)
	if strings.Join(body.Modalities, ",") != "text,audio" || body.Audio.Voice != "echo" || body.Audio.Format != "wav" || body.Stream {
		t.Errorf("request %+v; want modalities text+audio, voice echo, wav, no stream", body)
	}

	res = env.call(t, "voice_reply", map[string]any{"prompt": "hi", "model": "gpt-4o"})
	if !res.IsError || !strings.Contains(textOf(res), "does not support audio output") {
		t.Errorf("text model: %q; want the gateway's refusal", textOf(res))
	}
	off := newTestEnv(t, withEnv("WENWEN_SAVE_MEDIA", "false"))
	res = off.call(t, "voice_reply", map[string]any{"prompt": "hi"})
	var unsaved voiceReplyOutput
	decode(t, res, &unsaved)
	if unsaved.Path != "" || unsaved.Transcript == "" || !strings.Contains(textOf(res), "not saved") {
		t.Errorf("saving off: %+v %q; want the transcript without a file", unsaved, textOf(res))
	}
}

func TestTranscribeAudio(t *testing.T) {
	env := newTestEnv(t)
	dir := t.TempDir()
	// A WAV under a misleading name: the upload is named after its bytes.
	wav := filepath.Join(dir, "meeting.bin")
	if err := os.WriteFile(wav, fakegateway.WAV(3, 16000), 0o644); err != nil {
		t.Fatal(err)
	}
	res := env.call(t, "transcribe_audio", map[string]any{"audio": wav, "language": "en", "prompt": "Ada"})
	var out transcribeAudioOutput
	decode(t, res, &out)
	if !strings.Contains(out.Text, "3.0 seconds") || !strings.Contains(out.Text, "Ada") || out.Model != defaultTranscribeModel {
		t.Errorf("result %+v; want the transcript of 3 s with the prompt", out)
	}
	last := env.G.Last(fakegateway.RouteTranscriptions)
	if !strings.Contains(string(last.Body), `name="file"; filename="meeting.wav"`) || !strings.Contains(last.Header.Get("Content-Type"), "multipart/form-data") {
		t.Errorf("upload %q; want a multipart file named meeting.wav", last.Header.Get("Content-Type"))
	}

	broken := filepath.Join(dir, "broken.wav")
	os.WriteFile(broken, []byte("RIFF$\x00\x00\x00WAVEfmt "), 0o644)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not audio at all"), 0o644)
	big := filepath.Join(dir, "big.wav")
	os.WriteFile(big, fakegateway.WAV(700, 16000), 0o644) // ~21 MiB
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"gateway cannot decode", map[string]any{"audio": broken}, "count_token_failed"},
		{"not audio", map[string]any{"audio": text}, "not a supported audio file"},
		{"too large", map[string]any{"audio": big}, "limit"},
		{"missing", map[string]any{"audio": filepath.Join(dir, "nope.wav")}, "not found"},
		{"language", map[string]any{"audio": wav, "language": "English"}, "ISO-639-1"},
	}
	before := env.G.Count(fakegateway.RouteTranscriptions)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := env.call(t, "transcribe_audio", tt.args)
			if !res.IsError || !strings.Contains(textOf(res), tt.want) {
				t.Errorf("result %q; want an error containing %q", textOf(res), tt.want)
			}
		})
	}
	if n := env.G.Count(fakegateway.RouteTranscriptions) - before; n != 1 {
		t.Errorf("%d uploads for the failures; want 1 (only the broken WAV reaches the gateway)", n)
	}
}
