package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"

	"golang.org/x/image/draw"
)

// Preview limits.
const (
	PreviewMaxSide     = 768       // pixels, long side
	DefaultPreviewSize = 200 << 10 // bytes of JPEG when Preview is given maxBytes <= 0
	maxPreviewPixels   = 80 << 20  // larger images are not decoded (memory)
	maxPreviewFile     = 256 << 20 // PreviewFile reads at most this much
)

// Preview returns a JPEG of the image in data, scaled so that its long side
// is at most PreviewMaxSide pixels, transparent areas on white, and at most
// maxBytes long (DefaultPreviewSize when maxBytes <= 0): quality, then size,
// is lowered until it fits. It also returns the preview's width and height.
func Preview(data []byte, maxBytes int) (jpg []byte, width, height int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, errorf(ErrNotMedia, err, "cannot preview: not a decodable image (%s)", describe(data[:min(len(data), sniffLen)]))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPreviewPixels {
		return nil, 0, 0, errorf(ErrTooLarge, nil, "cannot preview a %d×%d %s image: too many pixels", cfg.Width, cfg.Height, format)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, errorf(ErrNotMedia, err, "cannot preview the %s image: %v", format, err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultPreviewSize
	}
	side := PreviewMaxSide
	for {
		dst := scale(src, side)
		for _, q := range []int{82, 70, 55, 40} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
				return nil, 0, 0, fmt.Errorf("encode preview: %w", err)
			}
			if buf.Len() <= maxBytes || side <= 64 && q == 40 {
				b := dst.Bounds()
				return buf.Bytes(), b.Dx(), b.Dy(), nil
			}
		}
		side = side * 2 / 3
	}
}

// PreviewFile is Preview for an image file.
func PreviewFile(path string, maxBytes int) ([]byte, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, errorf(ErrNotFound, err, "cannot preview %s: %v", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPreviewFile+1))
	if err != nil {
		return nil, 0, 0, errorf(ErrNotFound, err, "cannot preview %s: %v", path, err)
	}
	if len(data) > maxPreviewFile {
		return nil, 0, 0, errorf(ErrTooLarge, nil, "cannot preview %s: over %s", path, humanBytes(maxPreviewFile))
	}
	return Preview(data, maxBytes)
}

// scale draws src onto a white canvas whose long side is at most side
// pixels (never enlarging), with bilinear resampling (anti-aliased; Catmull-
// Rom looks no better at preview size and costs twice as much).
func scale(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > side || h > side {
		if w >= h {
			h = max(1, (h*side+w/2)/w)
			w = side
		} else {
			w = max(1, (w*side+h/2)/h)
			h = side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over)
	} else {
		draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	}
	return dst
}
