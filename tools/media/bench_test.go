package media

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// zeroReader yields n bytes: an MP4 header, then zeros.
type zeroReader struct{ left, off int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	const head = "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
	n := int(min(int64(len(p)), z.left))
	clear(p[:n])
	if z.off < int64(len(head)) {
		copy(p[:n], head[z.off:])
	}
	z.left -= int64(n)
	z.off += int64(n)
	return n, nil
}

// BenchmarkSaveURL100MB saves a 100 MB download and reports the memory it
// used: peak heap growth while saving (sampled every millisecond), bytes
// allocated per save, and the growth of the process's peak RSS. A streamed
// download keeps all three far below the file size.
func BenchmarkSaveURL100MB(b *testing.B) {
	const size = 100 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("Content-Type", "video/mp4")
		io.Copy(w, &zeroReader{left: size})
	}))
	defer srv.Close()
	s := newStore(b, Options{Save: true})

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	hwmBefore := procStatusKB("VmHWM")

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	})

	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		got, err := s.SaveURL(b.Context(), srv.URL+"/v.mp4", SaveOptions{Kind: "video"})
		if err != nil {
			b.Fatal(err)
		}
		if got.Bytes != size {
			b.Fatalf("saved %d bytes; want %d", got.Bytes, size)
		}
		b.StopTimer()
		os.Remove(got.Path)
		b.StartTimer()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := float64(0)
	if p := peak.Load(); p > before.HeapInuse {
		growth = float64(p - before.HeapInuse)
	}
	b.ReportMetric(growth/(1<<20), "peak-heap-growth-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
	if hwmBefore > 0 {
		b.ReportMetric(float64(procStatusKB("VmHWM")-hwmBefore)/1024, "peak-rss-growth-MiB")
	}
}

// procStatusKB reads a "Name: N kB" line of /proc/self/status (Linux); 0
// elsewhere.
func procStatusKB(name string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
