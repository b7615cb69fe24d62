package media

import (
	"bytes"
	"net/http"
	"strings"
)

// sniffLen is how many leading bytes Sniff looks at.
const sniffLen = 512

// Type is a media type recognised from a file's first bytes.
type Type struct {
	MIME string // e.g. "image/png"; "" when unknown
	Ext  string // e.g. ".png"; ".bin" when unknown
}

// Kind is "image", "video", "audio", or "" for anything else.
func (t Type) Kind() string {
	k, _, _ := strings.Cut(t.MIME, "/")
	switch k {
	case "image", "video", "audio":
		return k
	}
	return ""
}

// Sniff recognises a media type from the first bytes of a file (at least a
// few dozen; 512 is plenty). Unknown data gives MIME "" (Describe names it).
func Sniff(b []byte) Type {
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\x89PNG\r\n\x1a\n"):
		return Type{"image/png", ".png"}
	case has(0, "\xff\xd8\xff"):
		return Type{"image/jpeg", ".jpg"}
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return Type{"image/gif", ".gif"}
	case has(0, "RIFF") && has(8, "WEBP"):
		return Type{"image/webp", ".webp"}
	case has(0, "RIFF") && has(8, "WAVE"):
		return Type{"audio/wav", ".wav"}
	case has(4, "ftyp"):
		return ftypType(b)
	case has(0, "\x1a\x45\xdf\xa3"):
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return Type{"video/webm", ".webm"}
		}
		return Type{"video/x-matroska", ".mkv"}
	case has(0, "OggS"):
		return Type{"audio/ogg", ".ogg"}
	case has(0, "fLaC"):
		return Type{"audio/flac", ".flac"}
	case has(0, "ID3"):
		return Type{"audio/mpeg", ".mp3"}
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xe0 == 0xe0 && b[1]&0x06 != 0:
		// MPEG audio frame sync with a layer (ADTS AAC has layer 00).
		return Type{"audio/mpeg", ".mp3"}
	case len(b) >= 2 && b[0] == 0xff && b[1]&0xf6 == 0xf0:
		return Type{"audio/aac", ".aac"}
	}
	return Type{"", ".bin"}
}

// ftypType tells ISO media files apart by their major brand.
func ftypType(b []byte) Type {
	brand := ""
	if len(b) >= 12 {
		brand = string(b[8:12])
	}
	switch brand {
	case "avif", "avis":
		return Type{"image/avif", ".avif"}
	case "heic", "heix", "mif1", "msf1":
		return Type{"image/heic", ".heic"}
	case "M4A ", "M4B ":
		return Type{"audio/mp4", ".m4a"}
	case "qt  ":
		return Type{"video/quicktime", ".mov"}
	}
	return Type{"video/mp4", ".mp4"}
}

// describe names what unrecognised data looks like, for messages: "text/html",
// "application/json", "application/octet-stream".
func describe(b []byte) string {
	if t := Sniff(b); t.MIME != "" {
		return t.MIME
	}
	ct := http.DetectContentType(b)
	ct, _, _ = strings.Cut(ct, ";")
	return ct
}

// knownExts are extensions of media files: a user file name ending in one
// that does not match the sniffed type gets the right one instead.
var knownExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".jpe": true, ".gif": true, ".webp": true, ".bmp": true,
	".tif": true, ".tiff": true, ".avif": true, ".heic": true, ".heif": true, ".svg": true,
	".mp4": true, ".m4v": true, ".mov": true, ".webm": true, ".mkv": true, ".avi": true, ".mpg": true, ".mpeg": true,
	".wav": true, ".mp3": true, ".m4a": true, ".ogg": true, ".oga": true, ".opus": true, ".flac": true, ".aac": true,
	".bin": true,
}

// sameExt reports whether a user's extension names the sniffed type.
func sameExt(userExt, sniffed string) bool {
	u := strings.ToLower(userExt)
	if u == sniffed {
		return true
	}
	switch sniffed {
	case ".jpg":
		return u == ".jpeg" || u == ".jpe"
	case ".ogg":
		return u == ".oga" || u == ".opus"
	case ".mp4":
		return u == ".m4v"
	case ".heic":
		return u == ".heif"
	}
	return false
}
