//go:build unix

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/haulout/haulout/publisher/jobs"
)

// Benchmarks of the whole store path: HTTP upload, spool, job store
// (SQLite), encode, register on the local ledger, send to a local network of
// 7 storage nodes (each verifying and storing its slivers durably), collect
// confirmations, certify. The publisher runs in a child process, the nodes
// and the ledger in this one. Each benchmark reports the publisher's
// throughput beside the codec's own Encode of the same blobs in the same run
// (the baseline), their ratio, and the CPU time of the publisher and of the
// nodes as multiples of the encode's:
//
//	go test -run '^$' -bench Store -benchtime 1x ./publisher
//	HAULOUT_BENCH_1GIB=1 go test -run '^$' -bench PeakMemory1GiB -benchtime 1x -timeout 60m ./publisher
//
// HAULOUT_BENCH_PUBLISHER_CPUPROFILE=FILE has the publisher (the child
// process) write its CPU profile to FILE; -cpuprofile profiles the nodes.
//
// "ratio" counts until the answers (what a client waits for); "done-ratio"
// until every node holds its slivers. On one machine the nodes share the
// cores with the publisher, and checking every sliver against the metadata
// costs them more than encoding costs the publisher: each of the 2n slivers
// is expanded to n symbols, hashed and Merkle-rooted (4n^2 Blake2b hashes
// against the encoder's 3n^2; about 1.2 times the encode's CPU in
// profiles), before pebble copies them into its log and memtable: the
// ratio measures the machine as much as the publisher (with the nodes at
// twice the encode's CPU, it cannot pass 1/(1+2) on cores they share).
// publisher-cpu/encode-cpu is the publisher's own overhead.
//
// BenchmarkPeakMemory1GiB uploads 256 MiB and 1 GiB to a publisher in a
// child process, with the streaming and the in-memory encoder, and reports
// its memory peaks.

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
	spec := newStoreSpec(b, "sqlite")
	st := openStore(b, spec)
	// The publisher runs in a child process, so that its CPU time is
	// measured apart from the nodes' (this process).
	c := startChild(b, childSpec{Store: spec, LedgerURL: tn.ledgerURL, Spool: b.TempDir(), Owner: "bench",
		Lease: 30 * time.Second, MaxBodySize: 128 << 20, CPUProfile: os.Getenv("HAULOUT_BENCH_PUBLISHER_CPUPROFILE")})
	defer func() {
		c.cmd.Process.Signal(syscall.SIGTERM) // writes the CPU profile, if asked for
		c.cmd.Wait()
	}()
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
			var codecTime, answerTime, doneTime, codecCPU, pubCPU, nodeCPU time.Duration
			b.SetBytes(total)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				seed++
				blobs := randomBlobs(seed, w.count, w.size)
				runtime.GC()
				cpu0, start := selfCPU(), time.Now()
				for _, bl := range blobs {
					if _, err := tn.code.Encode(bl); err != nil {
						b.Fatal(err)
					}
				}
				codecTime += time.Since(start)
				codecCPU += selfCPU() - cpu0
				runtime.GC()
				b.StartTimer()

				pub0, node0, start := processCPU(c.cmd.Process.Pid), selfCPU(), time.Now()
				ids := storeAll(b, c.url, blobs, DefaultMaxConcurrentUploads)
				answerTime += time.Since(start)
				b.StopTimer()
				for _, id := range ids {
					waitJob(b, st, id, 10*time.Minute, "done", func(j jobs.Job) bool { return j.State.Terminal() })
				}
				doneTime += time.Since(start)
				pubCPU += processCPU(c.cmd.Process.Pid) - pub0
				nodeCPU += selfCPU() - node0
				b.StartTimer()
			}
			b.StopTimer()
			mbps := func(d time.Duration) float64 { return float64(total) * float64(b.N) / d.Seconds() / 1e6 }
			b.ReportMetric(mbps(codecTime), "codec-MB/s")
			b.ReportMetric(mbps(answerTime), "publisher-MB/s")
			b.ReportMetric(codecTime.Seconds()/answerTime.Seconds(), "ratio")
			b.ReportMetric(codecTime.Seconds()/doneTime.Seconds(), "done-ratio")
			b.ReportMetric(pubCPU.Seconds()/codecCPU.Seconds(), "publisher-cpu/encode-cpu")
			b.ReportMetric(nodeCPU.Seconds()/codecCPU.Seconds(), "nodes-cpu/encode-cpu")
		})
	}
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the CPU time (user and system) process pid has used, from
// /proc/pid/stat (in clock ticks of 10 ms).
func processCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) start after ")".
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// storeAll uploads blobs through the publisher, conc at a time, and returns
// their job IDs; every answer must be newlyCreated.
func storeAll(b testing.TB, url string, blobs [][]byte, conc int) []string {
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

// BenchmarkPeakMemory1GiB uploads a 1 GiB (and a 256 MiB) blob to a
// publisher in a child process (so that its memory is the publisher's
// alone) and reports the child's peaks: Go heap, anonymous and file-backed
// resident memory, and the kernel's high-water mark, as multiples of the
// blob. "encoder=stream" is the default (blobs over StreamThreshold encoded
// into a sliver file), "encoder=memory" the in-memory encoder for every
// size (StreamThreshold -1), the baseline.
func BenchmarkPeakMemory1GiB(b *testing.B) {
	if os.Getenv("HAULOUT_BENCH_1GIB") == "" && !testing.Verbose() {
		b.Skip("set HAULOUT_BENCH_1GIB=1 (or -v) to upload 1 GiB: it needs about 6 GiB of memory (in-memory encoder) and 12 GiB of disk")
	}
	for _, size := range []int64{256 << 20, 1 << 30} {
		for _, mode := range []string{"stream", "memory"} {
			b.Run(fmt.Sprintf("size=%dMiB/encoder=%s", size>>20, mode), func(b *testing.B) {
				threshold := int64(0) // the default
				if mode == "memory" {
					threshold = -1
				}
				peakMemory(b, size, threshold)
			})
		}
	}
}

func peakMemory(b *testing.B, size, threshold int64) {
	tn := newTestNet(b, netOptions{}, spread(benchShards, 7)...)
	spec := newStoreSpec(b, "sqlite")
	st := openStore(b, spec)
	spool := b.TempDir()
	for i := range b.N {
		c := startChild(b, childSpec{Store: spec, LedgerURL: tn.ledgerURL, Spool: spool, Owner: fmt.Sprintf("big-%d", i),
			Lease: 30 * time.Second, MaxBodySize: 2 << 30, Probe: true, StreamThreshold: threshold,
			CPUProfile: os.Getenv("HAULOUT_BENCH_PUBLISHER_CPUPROFILE")})
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
		c.cmd.Process.Signal(syscall.SIGTERM) // writes the CPU profile, if asked for
		c.cmd.Wait()

		b.ReportMetric(float64(peaks.Heap)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(peaks.RSSAnon)/(1<<20), "rss-anon-MiB")
		b.ReportMetric(float64(peaks.RSSFile)/(1<<20), "rss-file-MiB")
		b.ReportMetric(float64(peaks.VmHWM)/(1<<20), "vmhwm-MiB")
		b.ReportMetric(float64(peaks.Heap)/float64(size), "heap/blob")
		b.ReportMetric(answered.Seconds(), "answer-s")
		b.ReportMetric(done.Seconds(), "done-s")
		b.Logf("%d MiB at %d shards (stream threshold %d): peaks %+v; answered in %s, done in %s",
			size>>20, benchShards, threshold, peaks, answered, done)
	}
}
