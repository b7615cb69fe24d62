package tools

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/wenwen-ai/wenwen-mcp/tools/media"
	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Defaults of the audio tools.
const (
	defaultSpeechModel     = "tts-1"
	defaultVoice           = "alloy"
	defaultVoiceReplyModel = "gpt-4o-audio-preview"
	defaultTranscribeModel = "whisper-1"
	maxSpeechChars         = 4096
)

// voices are the voices of OpenAI's speech models.
var voices = [...]string{"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}

// transcribableExts are the file types the transcription API takes.
var transcribableExts = [...]string{".flac", ".m4a", ".mp3", ".mp4", ".mpeg", ".mpga", ".oga", ".ogg", ".wav", ".webm"}

var reLanguage = regexp.MustCompile(`^[a-z]{2}$`)

func checkVoice(v string) error {
	if v != "" && !slices.Contains(voices[:], v) {
		return userErrorf("unknown voice %q: use one of %s", v, strings.Join(voices[:], ", "))
	}
	return nil
}

type textToSpeechInput struct {
	Text   string `json:"text" jsonschema_description:"At most 4096 characters."`
	Voice  string `json:"voice,omitempty" jsonschema:"enum=alloy,enum=ash,enum=ballad,enum=coral,enum=echo,enum=fable,enum=nova,enum=onyx,enum=sage,enum=shimmer,enum=verse"`
	Model  string `json:"model,omitempty" jsonschema_description:"Default tts-1."`
	Format string `json:"format,omitempty" jsonschema:"enum=mp3,enum=wav,enum=opus,enum=aac,enum=flac"`
}

func (in *textToSpeechInput) validate() error {
	switch n := len([]rune(in.Text)); {
	case strings.TrimSpace(in.Text) == "":
		return userErrorf("text is empty: give what to say")
	case n > maxSpeechChars:
		return userErrorf("text has %d characters: at most %d per call; split it and call once per part", n, maxSpeechChars)
	}
	switch in.Format {
	case "", "mp3", "wav", "opus", "aac", "flac":
	default:
		return userErrorf("unknown format %q: use mp3, wav, opus, aac or flac", in.Format)
	}
	return checkVoice(in.Voice)
}

type savedAudioOutput struct {
	Path  string `json:"path"`
	MIME  string `json:"mime"`
	Bytes int64  `json:"bytes"`
}

func textToSpeechTool(d *Deps) Tool {
	t := define("text_to_speech",
		"Speak text with an OpenAI voice (default alloy, mp3) and save the audio file. Billed per character.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in textToSpeechInput) (Result[savedAudioOutput], error) {
			if !d.Media.Saving() {
				return Result[savedAudioOutput]{}, userErrorf("speech comes back as a file, and saving is off: set WENWEN_SAVE_MEDIA=true (files go to %s)", d.Media.Dir())
			}
			req := &upstream.SpeechRequest{Model: in.Model, Input: in.Text, Voice: in.Voice, ResponseFormat: in.Format}
			if req.Model == "" {
				req.Model = defaultSpeechModel
			}
			if req.Voice == "" {
				req.Voice = defaultVoice
			}
			if req.ResponseFormat == "" {
				req.ResponseFormat = "mp3"
			}
			audio, err := d.Client.Speech(ctx, req)
			if err != nil {
				return Result[savedAudioOutput]{}, err
			}
			defer audio.Close()
			saved, err := d.Media.SaveReader(ctx, audio, media.SaveOptions{Kind: "audio"})
			if err != nil {
				return Result[savedAudioOutput]{}, err
			}
			out := savedAudioOutput{Path: saved.Path, MIME: saved.MIME, Bytes: saved.Bytes}
			return Result[savedAudioOutput]{Value: out, Text: fmt.Sprintf("saved %s (%s, %d bytes) [%s, voice %s]", out.Path, out.MIME, out.Bytes, req.Model, req.Voice)}, nil
		})
	t.Toolset = "audio"
	return t
}

type voiceReplyInput struct {
	Prompt string `json:"prompt"`
	Voice  string `json:"voice,omitempty" jsonschema:"enum=alloy,enum=ash,enum=ballad,enum=coral,enum=echo,enum=fable,enum=nova,enum=onyx,enum=sage,enum=shimmer,enum=verse"`
	Model  string `json:"model,omitempty" jsonschema_description:"Default gpt-4o-audio-preview."`
}

func (in *voiceReplyInput) validate() error {
	if strings.TrimSpace(in.Prompt) == "" {
		return userErrorf("prompt is empty")
	}
	return checkVoice(in.Voice)
}

type voiceReplyOutput struct {
	Transcript string    `json:"transcript"`
	Path       string    `json:"path,omitempty" jsonschema_description:"The WAV file (absent when saving is off)."`
	Bytes      int64     `json:"bytes"`
	Model      string    `json:"model"`
	Usage      tokensOut `json:"usage"`
}

func voiceReplyTool(d *Deps) Tool {
	t := define("voice_reply",
		"Spoken answer from an audio chat model: a saved WAV and its transcript (speech input: transcribe_audio first). Costs tokens.",
		hints{openWorld: true},
		func(ctx context.Context, call *Call, in voiceReplyInput) (Result[voiceReplyOutput], error) {
			req := &upstream.ChatRequest{
				Model:      in.Model,
				Modalities: []string{"text", "audio"},
				Audio:      &upstream.ChatAudio{Voice: in.Voice, Format: "wav"},
				Messages:   []upstream.ChatMessage{{Role: "user", Content: in.Prompt}},
			}
			if req.Model == "" {
				req.Model = defaultVoiceReplyModel
			}
			if req.Audio.Voice == "" {
				req.Audio.Voice = defaultVoice
			}
			resp, err := d.Client.Chat(ctx, req)
			if err != nil {
				return Result[voiceReplyOutput]{}, err
			}
			choice, err := resp.First()
			if err != nil {
				return Result[voiceReplyOutput]{}, err
			}
			a := choice.Message.Audio
			if a == nil || a.Data == "" {
				return Result[voiceReplyOutput]{}, userErrorf("%s answered without audio (text: %q): use an audio chat model such as %s", req.Model, truncate(choice.Message.Text(), 200), defaultVoiceReplyModel)
			}
			wav, err := base64.StdEncoding.DecodeString(a.Data)
			if err != nil {
				return Result[voiceReplyOutput]{}, fmt.Errorf("the audio in the answer is not base64: %w", upstream.ErrMalformedResponse)
			}
			saved, err := d.Media.SaveBytes(ctx, wav, media.SaveOptions{Kind: "audio"})
			if err != nil {
				return Result[voiceReplyOutput]{}, err
			}
			out := voiceReplyOutput{Transcript: a.Transcript, Path: saved.Path, Bytes: saved.Bytes, Model: resp.Model}
			if out.Model == "" {
				out.Model = req.Model
			}
			if u := resp.Usage; u != nil {
				out.Usage = tokensOut{u.PromptTokens, u.CompletionTokens}
			}
			where := "not saved (WENWEN_SAVE_MEDIA=false)"
			if out.Path != "" {
				where = "saved " + out.Path
			}
			return Result[voiceReplyOutput]{Value: out, Text: fmt.Sprintf("%s\n[audio %s, %d bytes; %s, %d in / %d out tokens]", out.Transcript, where, out.Bytes, out.Model, out.Usage.InputTokens, out.Usage.OutputTokens)}, nil
		})
	t.Toolset = "audio"
	return t
}

type transcribeAudioInput struct {
	Audio    string `json:"audio" jsonschema_description:"Path or URL: wav, mp3, m4a, ogg, flac, webm; max 20 MiB."`
	Model    string `json:"model,omitempty" jsonschema_description:"Default whisper-1."`
	Language string `json:"language,omitempty" jsonschema_description:"ISO-639-1 code (en, zh...)."`
	Prompt   string `json:"prompt,omitempty" jsonschema_description:"Context or name spellings."`
}

func (in *transcribeAudioInput) validate() error {
	if strings.TrimSpace(in.Audio) == "" {
		return userErrorf("audio is empty: give a local path or an http(s) URL")
	}
	if in.Language != "" && !reLanguage.MatchString(in.Language) {
		return userErrorf("language %q: use a two-letter ISO-639-1 code such as en, zh or de", in.Language)
	}
	return nil
}

type transcribeAudioOutput struct {
	Text  string `json:"text"`
	Model string `json:"model"`
}

func transcribeAudioTool(d *Deps) Tool {
	t := define("transcribe_audio",
		"Transcribe an audio file (path or URL) to text with Whisper. Billed per minute.",
		hints{readOnly: true, openWorld: true},
		func(ctx context.Context, call *Call, in transcribeAudioInput) (Result[transcribeAudioOutput], error) {
			audio, err := d.Media.LoadAudio(ctx, in.Audio)
			if err == nil {
				err = d.Media.Fetch(ctx, &audio)
			}
			if err != nil {
				return Result[transcribeAudioOutput]{}, err
			}
			// The gateway and its upstream read the format from the file
			// name: name the upload after what the bytes are.
			ext := media.Sniff(audio.Data).Ext
			if !slices.Contains(transcribableExts[:], ext) {
				return Result[transcribeAudioOutput]{}, userErrorf("%s is %s, which transcription does not take: convert it to mp3 or wav", audio, audio.MIME)
			}
			name := strings.TrimSuffix(audio.Name(), filepath.Ext(audio.Name())) + ext
			model := in.Model
			if model == "" {
				model = defaultTranscribeModel
			}
			tr, err := d.Client.Transcribe(ctx, &upstream.TranscriptionRequest{
				Model: model, Filename: name, ContentType: audio.MIME, Data: audio.Data,
				Language: in.Language, Prompt: in.Prompt,
			})
			if err != nil {
				return Result[transcribeAudioOutput]{}, err
			}
			out := transcribeAudioOutput{Text: tr.Text, Model: model}
			return Result[transcribeAudioOutput]{Value: out, Text: out.Text}, nil
		})
	t.Toolset = "audio"
	return t
}
