package fakegateway

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	t0 := time.Now()
	b := ImagePNG(2048, 2048, 1)
	t.Logf("gen+encode %v (%d bytes)", time.Since(t0), len(b))
	t0 = time.Now()
	image.Decode(bytes.NewReader(b))
	t.Logf("decode %v", time.Since(t0))
}
