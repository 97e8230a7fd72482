package codec

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkEncodeStream compares, in one run on the same blob, the
// streaming encoder (blob read from a file, slivers written to a file, as
// the publisher does for large blobs) with the in-memory Encode (the
// baseline): "ratio" is the streaming throughput over Encode's, and each
// one's peak heap is reported as a multiple of the blob.
//
//	go test -run '^$' -bench EncodeStream -benchtime 1x ./codec
func BenchmarkEncodeStream(b *testing.B) {
	for _, sz := range benchSizes[1:] {
		n := 1000
		b.Run(fmt.Sprintf("n=%d/%s", n, sz.name), func(b *testing.B) {
			c := mustConfig(b, n)
			blob := benchBlob(sz.size)
			dir := b.TempDir()
			blobPath := filepath.Join(dir, "blob")
			if err := os.WriteFile(blobPath, blob, 0o600); err != nil {
				b.Fatal(err)
			}
			var memTime, streamTime time.Duration
			var memPeak, streamPeak uint64
			// One untimed run of each first: both then work on a heap
			// the process already has.
			mustEncode(b, c, blob)
			warm, err := os.Create(filepath.Join(dir, "warm"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.EncodeStream(context.Background(), bytes.NewReader(blob), int64(len(blob)), warm); err != nil {
				b.Fatal(err)
			}
			warm.Close()
			os.Remove(warm.Name())
			b.SetBytes(int64(sz.size))
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				start := time.Now()
				memPeak = max(memPeak, peakHeap(func() { mustEncode(b, c, blob) }))
				memTime += time.Since(start)
				in, err := os.Open(blobPath)
				if err != nil {
					b.Fatal(err)
				}
				out, err := os.Create(filepath.Join(dir, "slivers"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start = time.Now()
				var md *Metadata
				streamPeak = max(streamPeak, peakHeapOutside(blob, func() {
					md, err = c.EncodeStream(context.Background(), in, int64(len(blob)), out)
				}))
				streamTime += time.Since(start)
				b.StopTimer()
				in.Close()
				out.Close()
				os.Remove(out.Name())
				if err != nil {
					b.Fatal(err)
				}
				if md == nil || bytes.Equal(md.ID[:], make([]byte, 32)) {
					b.Fatal("no metadata")
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(sz.size)*float64(b.N)/memTime.Seconds()/1e6, "encode-MB/s")
			b.ReportMetric(float64(sz.size)*float64(b.N)/streamTime.Seconds()/1e6, "stream-MB/s")
			b.ReportMetric(memTime.Seconds()/streamTime.Seconds(), "ratio")
			b.ReportMetric(float64(memPeak)/float64(sz.size), "encode-heap/blob")
			b.ReportMetric(float64(streamPeak)/float64(sz.size), "stream-heap/blob")
			b.ReportMetric(float64(streamPeak)/(1<<20), "stream-heap-MiB")
		})
	}
}

// peakHeapOutside is peakHeap less the blob the benchmark keeps in the heap
// (the streaming encoder reads its own copy from the file).
func peakHeapOutside(blob []byte, fn func()) uint64 {
	p := peakHeap(fn)
	return p - min(p, uint64(len(blob)))
}
