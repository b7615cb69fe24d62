package upstream

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// ImageRequest is the body of POST /v1/images/generations. Empty fields
// are left out, so each model gets only what it understands.
type ImageRequest struct {
	Model          string `json:"model"`
	Prompt         string `json:"prompt"`
	N              int    `json:"n,omitempty"`
	Size           string `json:"size,omitempty"`
	Quality        string `json:"quality,omitempty"`
	Style          string `json:"style,omitempty"`
	ResponseFormat string `json:"response_format,omitempty"` // "url" or "b64_json"; most callers leave it to the model
}

// ImageResponse is the answer of the images endpoints.
type ImageResponse struct {
	Created int64       `json:"created"`
	Data    []ImageData `json:"data"`
	Usage   *ImageUsage `json:"usage,omitempty"`
}

// ImageData is one image: a URL or base64 bytes. new-api re-serialises
// unused fields as empty strings, which mean absent.
type ImageData struct {
	URL           string `json:"url"`
	B64JSON       string `json:"b64_json"`
	RevisedPrompt string `json:"revised_prompt"`
}

// ImageUsage is the token count gpt-image models report.
type ImageUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// GenerateImage creates images from a prompt: POST /v1/images/generations.
// The request is sent once, never retried (it is paid). Entries with neither
// a URL nor base64 are dropped; an answer left with none is an error
// wrapping ErrMalformedResponse.
func (c *Client) GenerateImage(ctx context.Context, req *ImageRequest) (*ImageResponse, error) {
	r, err := jsonRequest(http.MethodPost, "/v1/images/generations", req)
	if err != nil {
		return nil, err
	}
	r.auth = authBearer
	var out ImageResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("generate image: %w", err)
	}
	if err := out.clean(); err != nil {
		return nil, fmt.Errorf("generate image: %w", err)
	}
	return &out, nil
}

// ImageFile is an image uploaded in a multipart request.
type ImageFile struct {
	Name string // file name sent in the part, e.g. "cat.png"
	MIME string // e.g. "image/png"
	Data []byte
}

// ImageEditRequest is the multipart body of POST /v1/images/edits.
type ImageEditRequest struct {
	Model   string // gpt-image-1, dall-e-2...; "" lets the gateway pick dall-e-2
	Prompt  string
	Images  []ImageFile // sent as repeated "image[]" fields, wenwen's name for them
	Mask    *ImageFile  // optional PNG whose transparent areas are edited
	N       int
	Size    string
	Quality string
}

// EditImage edits images from a prompt: POST /v1/images/edits, as
// multipart/form-data with one "image[]" part per image. Sent once, never
// retried.
func (c *Client) EditImage(ctx context.Context, req *ImageEditRequest) (*ImageResponse, error) {
	if len(req.Images) == 0 {
		return nil, fmt.Errorf("edit image: no image to edit")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fields := [][2]string{{"model", req.Model}, {"prompt", req.Prompt}, {"size", req.Size}, {"quality", req.Quality}}
	if req.N > 0 {
		fields = append(fields, [2]string{"n", strconv.Itoa(req.N)})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, fmt.Errorf("edit image: build form: %w", err)
		}
	}
	for _, img := range req.Images {
		if err := writeFilePart(mw, "image[]", img); err != nil {
			return nil, fmt.Errorf("edit image: build form: %w", err)
		}
	}
	if req.Mask != nil {
		if err := writeFilePart(mw, "mask", *req.Mask); err != nil {
			return nil, fmt.Errorf("edit image: build form: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("edit image: build form: %w", err)
	}
	r := &request{method: http.MethodPost, path: "/v1/images/edits", auth: authBearer, body: body.Bytes(), contentType: mw.FormDataContentType()}
	var out ImageResponse
	if err := c.do(ctx, r, &out); err != nil {
		return nil, fmt.Errorf("edit image: %w", err)
	}
	if err := out.clean(); err != nil {
		return nil, fmt.Errorf("edit image: %w", err)
	}
	return &out, nil
}

// partNameEscaper escapes a file name for a Content-Disposition parameter.
var partNameEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

func writeFilePart(mw *multipart.Writer, field string, f ImageFile) error {
	h := make(textproto.MIMEHeader)
	name := f.Name
	if name == "" {
		name = "image"
	}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, partNameEscaper.Replace(field), partNameEscaper.Replace(name)))
	ct := f.MIME
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = w.Write(f.Data)
	return err
}

// clean drops entries without an image and fails when none is left.
func (r *ImageResponse) clean() error {
	kept := r.Data[:0]
	for _, d := range r.Data {
		d.URL, d.B64JSON = strings.TrimSpace(d.URL), strings.TrimSpace(d.B64JSON)
		if d.URL != "" || d.B64JSON != "" {
			kept = append(kept, d)
		}
	}
	r.Data = kept
	if len(kept) == 0 {
		return fmt.Errorf("the answer has no image (no url and no b64_json): %w", ErrMalformedResponse)
	}
	return nil
}
