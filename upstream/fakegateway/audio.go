package fakegateway

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// Route keys of the audio APIs.
const (
	RouteSpeech         = "POST /v1/audio/speech"
	RouteTranscriptions = "POST /v1/audio/transcriptions"
)

// speechVoices are the voices OpenAI's speech models accept.
var speechVoices = []string{"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}

// speech serves POST /v1/audio/speech: Bearer auth, a JSON body {model,
// input, voice, response_format}, and real audio bytes back: a PCM WAV for
// wav, MPEG-1 Layer III frames for mp3 (the default), a stream with the right
// magic for opus, aac and flac, raw samples for pcm. Faults: the shared ones;
// fault-cut drops the connection mid-body; fault-badjson answers 200
// audio/mpeg with a body that is not audio.
func (g *Gateway) speech(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "badkey-audio-transcriptions") {
		return
	}
	var req struct {
		Model          string   `json:"model"`
		Input          *string  `json:"input"`
		Voice          string   `json:"voice"`
		ResponseFormat string   `json:"response_format"`
		Speed          *float64 `json:"speed"`
	}
	if !ReadJSON(w, r, &req) {
		return
	}
	if !g.CheckModel(w, req.Model) {
		return
	}
	if g.ReplayFault(w, req.Model, false) {
		return
	}
	switch {
	case req.Input == nil || *req.Input == "":
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input", "missing_required_parameter", "Missing required parameter: 'input'.")
		return
	case len([]rune(*req.Input)) > 4096:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "input", "string_above_max_length",
			"Invalid 'input': string too long. Expected a string with maximum length 4096.")
		return
	case !slices.Contains(speechVoices, req.Voice):
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "voice", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: '%s'.", req.Voice, strings.Join(speechVoices, "', '")))
		return
	case req.Speed != nil && (*req.Speed < 0.25 || *req.Speed > 4):
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "speed", "invalid_value", "Invalid 'speed': must be between 0.25 and 4.")
		return
	}
	if !strings.Contains(req.Model, "tts") && !strings.HasPrefix(req.Model, "fault-") {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "model", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. This model does not support speech synthesis.", req.Model))
		return
	}
	if req.Model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}
	format := req.ResponseFormat
	if format == "" {
		format = "mp3"
	}
	seconds := max(0.5, 0.3*float64(len(strings.Fields(*req.Input))))
	var body []byte
	var ct string
	switch format {
	case "wav":
		body, ct = WAV(seconds, 24000), "audio/wav"
	case "mp3":
		body, ct = MP3(seconds), "audio/mpeg"
	case "flac":
		body, ct = append([]byte("fLaC\x80\x00\x00\x22"), make([]byte, 34)...), "audio/flac"
	case "opus":
		body, ct = append([]byte("OggS\x00\x02"), make([]byte, 64)...), "audio/ogg"
	case "aac":
		body, ct = append([]byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, make([]byte, 9)...), "audio/aac"
	case "pcm":
		body, ct = WAV(seconds, 24000)[44:], "audio/pcm"
	default:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "response_format", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.", format))
		return
	}
	w.Header().Set("Content-Type", ct)
	switch req.Model {
	case ModelFaultBadJSON:
		w.Header().Set("Content-Type", "audio/mpeg")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"object":"not audio at all"`))
		return
	case ModelFaultCut:
		writeCut(w, ct, body)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// transcriptionFormats are the file extensions OpenAI's transcription accepts.
var transcriptionFormats = []string{"flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"}

// transcriptions serves POST /v1/audio/transcriptions: Bearer auth
// (badkey-audio-transcriptions), a multipart/form-data body with the audio in
// the field "file" (with a filename) and "model". Like new-api it decodes the
// audio for its duration before relaying: a WAV or MP3 that does not parse
// gets audio-transcriptions-invalid-wav (500 count_token_failed). Answers
// {"text"} (response_format json, the default), plain text, or verbose_json.
func (g *Gateway) transcriptions(w http.ResponseWriter, r *http.Request) {
	if !g.CheckKey(w, BearerKey(r), "badkey-audio-transcriptions") {
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeOwnError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("Invalid request: Content-Type must be multipart/form-data, got %q", r.Header.Get("Content-Type")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseMultipartForm(MaxBodyBytes); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeOwnError(w, http.StatusRequestEntityTooLarge, "read_request_body_failed", "request body too large")
			return
		}
		writeOwnError(w, http.StatusBadRequest, "invalid_request", "Invalid request: "+err.Error())
		return
	}
	model := r.FormValue("model")
	if !g.CheckModel(w, model) {
		return
	}
	if g.ReplayFault(w, model, false) {
		return
	}
	files := r.MultipartForm.File["file"]
	if len(files) != 1 {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "file", "missing_required_parameter",
			"Missing required parameter: 'file' (one audio file in the form field named file).")
		return
	}
	fh := files[0]
	f, err := fh.Open()
	if err != nil {
		writeOwnError(w, http.StatusBadRequest, "invalid_request", "Invalid request: "+err.Error())
		return
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(f)
	f.Close()
	data := buf.Bytes()

	ext := strings.TrimPrefix(strings.ToLower(path.Ext(fh.Filename)), ".")
	if !slices.Contains(transcriptionFormats, ext) {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "file", "invalid_value",
			fmt.Sprintf("Invalid file format. Supported formats: ['%s']", strings.Join(transcriptionFormats, "', '")))
		return
	}
	var seconds float64
	switch ext {
	case "wav":
		info, err := ParseWAV(data)
		if err != nil {
			g.Replay(w, "audio-transcriptions-invalid-wav")
			return
		}
		seconds = info.Duration.Seconds()
	case "mp3", "mpeg", "mpga":
		frames, err := MP3Frames(data)
		if err != nil {
			g.WriteGatewayError(w, http.StatusInternalServerError, "count_token_failed", "error getting audio duration: invalid mp3 file")
			return
		}
		seconds = float64(frames) * 1152 / 44100
	default:
		if len(data) < 16 {
			g.WriteGatewayError(w, http.StatusInternalServerError, "count_token_failed", "error getting audio duration: invalid "+ext+" file")
			return
		}
		seconds = 1
	}
	lang := r.FormValue("language")
	if lang != "" && (len(lang) != 2 || strings.ToLower(lang) != lang) {
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "language", "invalid_value",
			fmt.Sprintf("Invalid language '%s'. Language parameter must be specified in ISO-639-1 format.", lang))
		return
	}
	if model == ModelFaultSlow && !g.SlowWait(r.Context()) {
		return
	}
	text := fmt.Sprintf("Fake transcript of %.1f seconds of audio.", seconds)
	if p := r.FormValue("prompt"); p != "" {
		text += " Context: " + p
	}
	if lang != "" {
		text += " [" + lang + "]"
	}
	switch rf := r.FormValue("response_format"); rf {
	case "", "json":
		WriteUpstreamJSON(w, http.StatusOK, map[string]string{"text": text})
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(text + "\n"))
	case "verbose_json":
		WriteUpstreamJSON(w, http.StatusOK, map[string]any{"task": "transcribe", "language": "english", "duration": seconds, "text": text})
	default:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "response_format", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.", rf))
	}
}

// chatAudioOption is the "audio" parameter of a chat request.
type chatAudioOption struct {
	Voice  string `json:"voice"`
	Format string `json:"format"`
}

// wantsAudio reports whether a chat request asks for spoken output.
func (req *chatRequest) wantsAudio() bool {
	return req.Audio != nil || slices.Contains(req.Modalities, "audio")
}

// chatAudio answers a chat request that asks for spoken output, as
// gpt-4o-audio-preview does (§3.2.7): content null, message.audio with a
// base64 WAV (or MP3) and its transcript, audio_tokens in the usage.
// Audio needs modalities ["text","audio"] plus audio {voice, format}, a
// model with "audio" in its name, and no stream (only pcm16 streams).
func (g *Gateway) chatAudio(w http.ResponseWriter, req *chatRequest) {
	switch {
	case !slices.Contains(req.Modalities, "audio") || req.Audio == nil:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "audio", "missing_required_parameter",
			"Audio output needs both modalities [\"text\",\"audio\"] and the audio parameter {voice, format}.")
		return
	case !strings.Contains(req.Model, "audio") && !strings.HasPrefix(req.Model, "fault-"):
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "modalities", "invalid_value",
			fmt.Sprintf("This model does not support audio output: %s", req.Model))
		return
	case !slices.Contains(speechVoices, req.Audio.Voice):
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "audio.voice", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: '%s'.", req.Audio.Voice, strings.Join(speechVoices, "', '")))
		return
	case req.Stream && req.Audio.Format != "pcm16":
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "audio.format", "invalid_value",
			"Audio output with stream=true requires audio.format 'pcm16'.")
		return
	}
	lastUser := ""
	for _, m := range req.Messages {
		if m.Role == "user" {
			lastUser = messageText(m)
		}
	}
	transcript := fmt.Sprintf("Hello from fakegateway. You said: %s", lastUser)
	seconds := max(0.5, 0.3*float64(len(strings.Fields(transcript))))
	var audio []byte
	switch req.Audio.Format {
	case "wav":
		audio = WAV(seconds, 24000)
	case "mp3":
		audio = MP3(seconds)
	default:
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_request_error", "audio.format", "invalid_value",
			fmt.Sprintf("Invalid value: '%s'. Supported values are: 'wav', 'mp3', 'flac', 'opus', and 'pcm16'.", req.Audio.Format))
		return
	}
	seq := g.nextSeq()
	created := time.Now().Unix()
	audioTokens := int(seconds * 10)
	prompt := max(1, len(strings.Fields(lastUser)))
	WriteUpstreamJSON(w, http.StatusOK, map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d%06d", created, seq), "object": "chat.completion", "created": created, "model": req.Model,
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": nil, "refusal": nil, "annotations": []any{},
				"audio": map[string]any{"id": fmt.Sprintf("audio_%06d", seq), "data": base64.StdEncoding.EncodeToString(audio),
					"expires_at": created + 3600, "transcript": transcript}},
		}},
		"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": audioTokens + 5, "total_tokens": prompt + audioTokens + 5,
			"completion_tokens_details": map[string]int{"audio_tokens": audioTokens, "reasoning_tokens": 0, "text_tokens": 5}},
	})
}

// WAV returns a real 16-bit mono PCM WAV file: a 440 Hz tone of the given
// length at the given sample rate.
func WAV(seconds float64, rate int) []byte {
	n := int(seconds * float64(rate))
	le := binary.LittleEndian
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)             // fmt chunk size
	le.PutUint16(b[20:], 1)              // PCM
	le.PutUint16(b[22:], 1)              // mono
	le.PutUint32(b[24:], uint32(rate))   // sample rate
	le.PutUint32(b[28:], uint32(2*rate)) // byte rate
	le.PutUint16(b[32:], 2)              // block align
	le.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		le.PutUint16(b[44+2*i:], uint16(int16(8000*math.Sin(2*math.Pi*440*float64(i)/float64(rate)))))
	}
	return b
}

// WAVInfo is what ParseWAV found.
type WAVInfo struct {
	Channels, SampleRate, BitsPerSample int
	Duration                            time.Duration
}

// ParseWAV checks a RIFF/WAVE file: its header, a PCM or float fmt chunk,
// and a data chunk that fits in the file.
func ParseWAV(b []byte) (WAVInfo, error) {
	var info WAVInfo
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return info, errors.New("invalid wav file: no RIFF/WAVE header")
	}
	le := binary.LittleEndian
	var byteRate uint32
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(le.Uint32(b[p+4:p+8]))
		body := p + 8
		if size < 0 || body+size > len(b) {
			if id == "data" && haveFmt && size > 0 {
				break // the data chunk runs past the end: a cut file
			}
			return info, fmt.Errorf("invalid wav file: chunk %q runs past the end", id)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return info, errors.New("invalid wav file: short fmt chunk")
			}
			format := le.Uint16(b[body:])
			if format != 1 && format != 3 && format != 0xFFFE {
				return info, fmt.Errorf("invalid wav file: format %d", format)
			}
			info.Channels = int(le.Uint16(b[body+2:]))
			info.SampleRate = int(le.Uint32(b[body+4:]))
			byteRate = le.Uint32(b[body+8:])
			info.BitsPerSample = int(le.Uint16(b[body+14:]))
			if info.Channels == 0 || info.SampleRate == 0 || byteRate == 0 {
				return info, errors.New("invalid wav file: zero channels, rate or byte rate")
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, errors.New("invalid wav file: data before fmt")
			}
			info.Duration = time.Duration(float64(size) / float64(byteRate) * float64(time.Second))
			return info, nil
		}
		p = body + size + size%2
	}
	return info, errors.New("invalid wav file: no complete fmt and data chunks")
}

// mp3FrameLen is the length of an MPEG-1 Layer III frame at 128 kbit/s and
// 44.1 kHz without padding.
const mp3FrameLen = 417

// MP3 returns a real MP3 stream: silent MPEG-1 Layer III frames (128 kbit/s,
// 44.1 kHz, mono) for about the given length.
func MP3(seconds float64) []byte {
	frames := max(1, int(seconds*44100/1152))
	frame := make([]byte, mp3FrameLen)
	copy(frame, []byte{0xFF, 0xFB, 0x90, 0xC0})
	return bytes.Repeat(frame, frames)
}

// MP3Frames counts the MPEG-1 Layer III frames of b (after an optional ID3v2
// tag), checking that each frame header is where the previous frame ends.
func MP3Frames(b []byte) (int, error) {
	if len(b) >= 10 && string(b[:3]) == "ID3" {
		size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
		if 10+size > len(b) {
			return 0, errors.New("invalid mp3 file: ID3 tag runs past the end")
		}
		b = b[10+size:]
	}
	bitrates := [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	rates := [4]int{44100, 48000, 32000, 0}
	frames := 0
	for len(b) >= 4 {
		if b[0] != 0xFF || b[1]&0xFE != 0xFA {
			return frames, fmt.Errorf("invalid mp3 file: no MPEG-1 Layer III frame header after %d frames", frames)
		}
		br, sr, pad := bitrates[b[2]>>4], rates[b[2]>>2&3], int(b[2]>>1&1)
		if br == 0 || sr == 0 {
			return frames, errors.New("invalid mp3 file: bad bitrate or sample rate")
		}
		n := 144*br*1000/sr + pad
		if n > len(b) {
			break // a cut last frame, as decoders tolerate
		}
		b = b[n:]
		frames++
	}
	if frames == 0 {
		return 0, errors.New("invalid mp3 file: no complete frame")
	}
	return frames, nil
}
