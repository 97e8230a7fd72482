package aggregator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
)

// Benchmarks of a 64 MiB blob read through the aggregator over loopback,
// beside baselines in the same run: Go's file server sending the same
// bytes from a file (what a warm read should approach) and the codec
// decoding the same blob from its slivers in memory (what a cold read, which
// also fetches every sliver over HTTP from real storage nodes, should
// approach). Run:
//
//	go test -run '^$' -bench Read64MiB -benchtime 5x ./aggregator
//
// Each read reports MB/s and its median time to first byte (ttfb-ms);
// ratio-warm and ratio-cold time each side and its baseline back to back
// in every iteration (the load of a shared machine changes between
// sub-benchmarks) and report the throughput ratios against the goals:
// warm >= 0.8 of the file server, cold >= 0.5 of the codec's decoding.

const benchSize = 64 << 20

// benchShards is Walrus Mainnet's shard count, on benchNodes nodes.
const (
	benchShards = 1000
	benchNodes  = 10
)

var (
	benchOnce sync.Once
	benchEnv  *benchSetup
)

type benchSetup struct {
	tn   *testNet
	blob *storedBlob
	file string // the same bytes, for the file server
}

// benchTB lets the shared network outlive the sub-benchmark that built it:
// its cleanups run when the process ends, not with the first
// sub-benchmark.
type benchTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
	dirs     []string
}

func (b *benchTB) Cleanup(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cleanups = append(b.cleanups, f)
}

func (b *benchTB) TempDir() string {
	d, err := os.MkdirTemp("", "aggregator-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.mu.Lock()
	b.dirs = append(b.dirs, d)
	b.mu.Unlock()
	return d
}

func setupBench(b *testing.B) *benchSetup {
	benchOnce.Do(func() {
		tb := &benchTB{TB: b}
		shards := make([]int, benchNodes)
		for i := range shards {
			shards[i] = benchShards / benchNodes
		}
		start := time.Now()
		tn := newTestNet(tb, shards...)
		data := randomBytes(b, benchSize)
		blob := tn.store(data, 5, false)
		file := filepath.Join(tb.TempDir(), "blob")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("setup: %d MiB on %d nodes, %d shards, in %v", benchSize>>20, benchNodes, benchShards, time.Since(start))
		benchEnv = &benchSetup{tn: tn, blob: blob, file: file}
		benchCleanup = func() {
			for i := len(tb.cleanups) - 1; i >= 0; i-- {
				tb.cleanups[i]()
			}
			for _, d := range tb.dirs {
				os.RemoveAll(d)
			}
		}
	})
	if benchEnv == nil {
		b.Fatal("benchmark setup failed")
	}
	return benchEnv
}

// benchCleanup stops the shared network (TestMain calls it).
var benchCleanup = func() {}

func TestMain(m *testing.M) {
	code := m.Run()
	benchCleanup()
	os.Exit(code)
}

var benchClient = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}}

// fetchTimed GETs u, reads the whole body and returns the time to its first
// byte.
func fetchTimed(b *testing.B, u string, want int64) time.Duration {
	start := time.Now()
	resp, err := benchClient.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		b.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	var one [1]byte
	if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
		b.Fatal(err)
	}
	ttfb := time.Since(start)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n+1 != want {
		b.Fatalf("GET %s: %d bytes, %v", u, n+1, err)
	}
	return ttfb
}

// runRead benchmarks GETs of u, reporting the median time to first byte.
func runRead(b *testing.B, u string) {
	b.SetBytes(benchSize)
	var ttfb []time.Duration
	for b.Loop() {
		ttfb = append(ttfb, fetchTimed(b, u, benchSize))
	}
	slices.Sort(ttfb)
	b.ReportMetric(float64(ttfb[len(ttfb)/2].Microseconds())/1000, "ttfb-ms")
}

func BenchmarkRead64MiB(b *testing.B) {
	env := setupBench(b)
	id := env.blob.id
	path := "/v1/blobs/" + id.String()

	b.Run("fileserver", func(b *testing.B) {
		srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(env.file))))
		defer srv.Close()
		runRead(b, srv.URL+"/blob")
	})
	b.Run("warm-disk", func(b *testing.B) {
		agg := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize = -1
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		fetchTimed(b, agg.url+path, benchSize)
		agg.flush()
		b.ResetTimer()
		runRead(b, agg.url+path)
		b.StopTimer()
		if v := value(agg.metrics.cacheLookups.WithLabelValues("disk")); v < 1 {
			b.Fatal("not served from the disk cache")
		}
		agg.stop()
	})
	b.Run("warm-memory", func(b *testing.B) {
		agg := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.MemoryCacheMaxEntry, c.DiskCacheDir = 256<<20, 128<<20, ""
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		fetchTimed(b, agg.url+path, benchSize)
		agg.flush()
		b.ResetTimer()
		runRead(b, agg.url+path)
		b.StopTimer()
		agg.stop()
	})
	b.Run("cold", func(b *testing.B) {
		agg := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.DiskCacheDir = -1, ""
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		runRead(b, agg.url+path)
		b.StopTimer()
		if v := value(agg.metrics.reconstructions.WithLabelValues("systematic")); v < 1 {
			b.Fatal("no reconstruction from the rows")
		}
		agg.stop()
	})
	b.Run("cold-degraded", func(b *testing.B) {
		// The node holding the first row is down: hedged requests fetch
		// other primary slivers and the blob is decoded.
		agg := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.DiskCacheDir = -1, ""
			c.Logger, c.Dial = discardLogger(), env.tn.directDial(env.tn.ownerOfPrimary(id, 0))
		})
		runRead(b, agg.url+path)
		b.StopTimer()
		if v := value(agg.metrics.reconstructions.WithLabelValues("decoded")); v < 1 {
			b.Fatal("not decoded")
		}
		agg.stop()
	})

	b.Run("nodes-fetch", func(b *testing.B) {
		// The rows alone, fetched from the nodes as a cold read fetches
		// them (same client, same concurrency) and not checked: the share
		// of a cold read that the nodes and HTTP take on this machine.
		dial := env.tn.directDial()
		cv := &committeeView{Committee: env.tn.committee, owners: env.tn.committee.ShardOwners()}
		k1 := env.tn.code.PrimarySourceSymbols()
		b.SetBytes(benchSize)
		for b.Loop() {
			sem := make(chan struct{}, DefaultMaxSliverFetches)
			var wg sync.WaitGroup
			for i := range k1 {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					node, _ := cv.nodeOfShard(codec.ShardForPair(id, i, env.tn.nShards))
					c, err := dial(node)
					if err == nil {
						_, err = c.GetSliver(context.Background(), id, uint16(i), codec.Primary)
					}
					if err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})

	// The codec alone, on the slivers a cold read uses: every one checked
	// against the metadata, then the default consistency check.
	c := env.tn.code
	md := &env.blob.enc.Metadata.BlobMetadata
	k1 := c.PrimarySourceSymbols()
	rows := make([]*codec.Sliver, k1)
	mixed := make([]*codec.Sliver, k1)
	for i := range k1 {
		rows[i] = &env.blob.enc.Primary[i]
		mixed[i] = rows[i]
		if i == 0 {
			mixed[i] = &env.blob.enc.Primary[k1] // the degraded read's set
		}
	}
	for _, tc := range []struct {
		name    string
		slivers []*codec.Sliver
	}{{"codec-decode", rows}, {"codec-decode-degraded", mixed}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			for b.Loop() {
				out, err := c.Decode(md, tc.slivers, nil, codec.ConsistencyDefault)
				if err != nil || len(out) != benchSize {
					b.Fatal(err)
				}
			}
		})
	}

	// Ratios from interleaved runs: on a shared machine the load changes
	// between sub-benchmarks, so each iteration times both sides back to
	// back.
	b.Run("ratio-warm", func(b *testing.B) {
		fs := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(env.file))))
		defer fs.Close()
		disk := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize = -1
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		defer disk.stop()
		mem := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.MemoryCacheMaxEntry, c.DiskCacheDir = 256<<20, 128<<20, ""
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		defer mem.stop()
		for _, a := range []*testAggregator{disk, mem} {
			fetchTimed(b, a.url+path, benchSize)
			a.flush()
		}
		var tfs, tdisk, tmem time.Duration
		for b.Loop() {
			tfs += timed(func() { fetchTimed(b, fs.URL+"/blob", benchSize) })
			tdisk += timed(func() { fetchTimed(b, disk.url+path, benchSize) })
			tmem += timed(func() { fetchTimed(b, mem.url+path, benchSize) })
		}
		report(b, "warm-disk/fileserver", tfs, tdisk, 0.8)
		report(b, "warm-memory/fileserver", tfs, tmem, 0.8)
	})
	b.Run("ratio-cold", func(b *testing.B) {
		cold := env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.DiskCacheDir = -1, ""
			c.Logger, c.Dial = discardLogger(), env.tn.directDial()
		})
		defer cold.stop()
		var tcold, tcodec time.Duration
		for b.Loop() {
			tcold += timed(func() { fetchTimed(b, cold.url+path, benchSize) })
			tcodec += timed(func() {
				if _, err := c.Decode(md, rows, nil, codec.ConsistencyDefault); err != nil {
					b.Fatal(err)
				}
			})
		}
		report(b, "cold/codec-decode", tcodec, tcold, 0.5)
	})
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// report logs and reports the throughput of a side against a baseline
// (the ratio of their times, inverted) and whether it meets its goal.
func report(b *testing.B, name string, baseline, side time.Duration, goal float64) {
	r := baseline.Seconds() / side.Seconds()
	b.ReportMetric(r, name)
	verdict := "met"
	if r < goal {
		verdict = "NOT met"
	}
	b.Logf("%s = %.2f (goal >= %.1f: %s)", name, r, goal, verdict)
}
