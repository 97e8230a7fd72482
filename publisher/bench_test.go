package publisher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haulout/haulout/publisher/jobs"
)

// Benchmarks of the whole store path: HTTP upload, spool, job store
// (SQLite), encode, register on the local ledger, send to a local network of
// 7 storage nodes in this process (each verifying and storing its slivers
// durably), collect confirmations, certify. Each reports the publisher's
// throughput beside the codec's own Encode on the same blobs in the same run
// (the baseline), and their ratio:
//
//	go test -run '^$' -bench Store -benchtime 1x ./publisher
//
// "ratio" counts until the answers (what a client waits for); "done-ratio"
// until every node holds its slivers. The nodes share the machine's cores
// with the publisher, and verifying slivers costs them about two thirds of
// what encoding costs the publisher.
//
// BenchmarkPeakMemory1GiB runs the publisher alone in a child process and
// uploads 1 GiB to it, reporting the child's memory peaks.

// benchShards is Walrus's mainnet shard count.
const benchShards = 1000

// spread gives n shards to k nodes, as evenly as possible.
func spread(n, k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
		if i < n%k {
			out[i]++
		}
	}
	return out
}

// randomBlobs returns count blobs of size pseudo-random bytes.
func randomBlobs(seed uint64, count, size int) [][]byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	r := rand.NewChaCha8(s)
	out := make([][]byte, count)
	for i := range out {
		out[i] = make([]byte, size)
		r.Read(out[i])
	}
	return out
}

func BenchmarkStore(b *testing.B) {
	tn := newTestNet(b, netOptions{}, spread(benchShards, 7)...)
	st := openStore(b, newStoreSpec(b, "sqlite"))
	cfg := testConfig(b, tn, st, b.TempDir())
	cfg.MaxBodySize = 128 << 20
	cfg.NodeAttempts = 5
	cfg.NodeRequestTimeout = 5 * time.Minute
	cfg.QuorumTimeout = 10 * time.Minute
	tp := startPublisher(b, cfg)
	seed := uint64(0)
	for _, w := range []struct {
		name        string
		count, size int
	}{
		{"100x1MiB", 100, 1 << 20},
		{"1x64MiB", 1, 64 << 20},
	} {
		b.Run(fmt.Sprintf("n=%d/%s", benchShards, w.name), func(b *testing.B) {
			total := int64(w.count) * int64(w.size)
			var codecTime, answerTime, doneTime time.Duration
			b.SetBytes(total)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				seed++
				blobs := randomBlobs(seed, w.count, w.size)
				runtime.GC()
				start := time.Now()
				for _, bl := range blobs {
					if _, err := tn.code.Encode(bl); err != nil {
						b.Fatal(err)
					}
				}
				codecTime += time.Since(start)
				runtime.GC()
				b.StartTimer()

				start = time.Now()
				ids := storeAll(b, tp.url, blobs, cfg.MaxConcurrentUploads)
				answerTime += time.Since(start)
				b.StopTimer()
				for _, id := range ids {
					waitJob(b, st, id, 10*time.Minute, "done", func(j jobs.Job) bool { return j.State.Terminal() })
				}
				doneTime += time.Since(start)
				b.StartTimer()
			}
			b.StopTimer()
			mbps := func(d time.Duration) float64 { return float64(total) * float64(b.N) / d.Seconds() / 1e6 }
			b.ReportMetric(mbps(codecTime), "codec-MB/s")
			b.ReportMetric(mbps(answerTime), "publisher-MB/s")
			b.ReportMetric(codecTime.Seconds()/answerTime.Seconds(), "ratio")
			b.ReportMetric(codecTime.Seconds()/doneTime.Seconds(), "done-ratio")
		})
	}
}

// storeAll uploads blobs through the publisher, conc at a time, and returns
// their job IDs; every answer must be newlyCreated.
func storeAll(b *testing.B, url string, blobs [][]byte, conc int) []string {
	ids := make([]string, len(blobs))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i, bl := range blobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			req, _ := http.NewRequest(http.MethodPut, url+"/v1/blobs?epochs=2", bytes.NewReader(bl))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				failed.Store(err.Error())
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"newlyCreated"`)) {
				failed.Store(fmt.Sprintf("%d %s", resp.StatusCode, body))
				return
			}
			ids[i] = resp.Header.Get(jobHeader)
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("upload: %v", f)
	}
	return ids
}

// blobReader streams size pseudo-random bytes without holding them.
type blobReader struct {
	r    *rand.ChaCha8
	left int64
}

func (br *blobReader) Read(p []byte) (int, error) {
	if br.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > br.left {
		p = p[:br.left]
	}
	n, _ := br.r.Read(p)
	br.left -= int64(n)
	return n, nil
}

// BenchmarkPeakMemory1GiB uploads a 1 GiB blob to a publisher in a child
// process (so that its memory is the publisher's alone) and reports the
// child's peaks: Go heap, anonymous and file-backed resident memory, and
// the kernel's high-water mark, as multiples of the blob and of the blob
// plus its slivers.
func BenchmarkPeakMemory1GiB(b *testing.B) {
	if os.Getenv("HAULOUT_BENCH_1GIB") == "" && !testing.Verbose() {
		b.Skip("set HAULOUT_BENCH_1GIB=1 (or -v) to upload 1 GiB: it needs about 6 GiB of memory and 12 GiB of disk")
	}
	const size = 1 << 30
	tn := newTestNet(b, netOptions{}, spread(benchShards, 7)...)
	spec := newStoreSpec(b, "sqlite")
	st := openStore(b, spec)
	spool := b.TempDir()
	for i := range b.N {
		c := startChild(b, childSpec{Store: spec, LedgerURL: tn.ledgerURL, Spool: spool, Owner: fmt.Sprintf("big-%d", i),
			Lease: 30 * time.Second, MaxBodySize: 2 << 30, Probe: true})
		var seed [32]byte
		seed[0] = byte(i)
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPut, c.url+"/v1/blobs", &blobReader{r: rand.NewChaCha8(seed), left: size})
		req.ContentLength = size
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		answered := time.Since(start)
		waitJob(b, st, resp.Header.Get(jobHeader), 30*time.Minute, "done", func(j jobs.Job) bool { return j.State.Terminal() })
		done := time.Since(start)
		resp, err = http.Get(c.url + "/test/memory")
		if err != nil {
			b.Fatal(err)
		}
		var peaks memoryPeaks
		json.NewDecoder(resp.Body).Decode(&peaks)
		resp.Body.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()

		enc, _ := tn.code.EncodedLength(size)
		slivers := encodeMemory(tn.code, size)
		b.ReportMetric(float64(peaks.Heap)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(peaks.RSSAnon)/(1<<20), "rss-anon-MiB")
		b.ReportMetric(float64(peaks.RSSFile)/(1<<20), "rss-file-MiB")
		b.ReportMetric(float64(peaks.VmHWM)/(1<<20), "vmhwm-MiB")
		b.ReportMetric(float64(peaks.Heap)/size, "heap/blob")
		b.ReportMetric(float64(peaks.Heap)/float64(slivers), "heap/estimate")
		b.ReportMetric(answered.Seconds(), "answer-s")
		b.ReportMetric(done.Seconds(), "done-s")
		b.Logf("1 GiB at %d shards: encoded length %d, encode estimate %d; peaks %+v; answered in %s, done in %s",
			benchShards, enc, slivers, peaks, answered, done)
	}
}
