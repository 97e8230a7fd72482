package aggregator

import (
	"bytes"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
)

// The figure of issue 9: what one 10 KiB patch of a ~100 MiB quilt costs
// in bytes fetched from the storage nodes (metadata and slivers, as HTTP
// bodies) against reading the whole quilt, at Walrus Mainnet's 1000
// shards on 10 nodes. Each iteration reads the patch through a cold
// aggregator (by identifier: index columns, then the patch's) and then the
// whole quilt through another (and, for patch-id-node-bytes, the patch by
// its patch ID: its columns only). Run:
//
//	go test -run '^$' -bench QuiltPatch100MiB -benchtime 3x ./aggregator
//
// bytes-ratio is whole/patch node bytes (deterministic); time-ratio is
// whole/patch read time (noisy on a shared machine).

var (
	quiltBenchOnce sync.Once
	quiltBench     *quiltBenchSetup
)

type quiltBenchSetup struct {
	tn    *testNet
	quilt *storedQuilt
}

const quiltBenchPatch = "small.bin"

func setupQuiltBench(b *testing.B) *quiltBenchSetup {
	quiltBenchOnce.Do(func() {
		tb := &benchTB{TB: b}
		shards := make([]int, benchNodes)
		for i := range shards {
			shards[i] = benchShards / benchNodes
		}
		start := time.Now()
		tn := newTestNet(tb, shards...)
		files := []codec.QuiltFile{{Identifier: quiltBenchPatch, Data: randomBytes(b, 10<<10)}}
		for i := range 10 {
			files = append(files, codec.QuiltFile{Identifier: "large-" + itoa(i), Data: randomBytes(b, 10<<20)})
		}
		sq := tn.storeQuilt(files)
		b.Logf("setup: quilt of %d bytes (%d files) on %d nodes, %d shards, in %v", len(sq.quilt.Blob), len(files), benchNodes, benchShards, time.Since(start))
		quiltBench = &quiltBenchSetup{tn: tn, quilt: sq}
		prev := benchCleanup
		benchCleanup = func() {
			for i := len(tb.cleanups) - 1; i >= 0; i-- {
				tb.cleanups[i]()
			}
			for _, d := range tb.dirs {
				os.RemoveAll(d)
			}
			prev()
		}
	})
	if quiltBench == nil {
		b.Fatal("benchmark setup failed")
	}
	return quiltBench
}

func BenchmarkQuiltPatch100MiB(b *testing.B) {
	env := setupQuiltBench(b)
	sq := env.quilt
	want := sq.files[quiltBenchPatch].Data
	p := sq.patch(b, quiltBenchPatch)
	var log sliverLog
	cold := func() *testAggregator {
		log.reset()
		return env.tn.newAggregator(func(c *Config) {
			c.MemoryCacheSize, c.DiskCacheDir = -1, ""
			c.Logger, c.Dial = discardLogger(), countingDial(&log)
		})
	}
	read := func(u string, want []byte) time.Duration {
		start := time.Now()
		resp, body := get(b, http.MethodGet, u)
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			b.Fatalf("GET %s: %d, %d bytes", u, resp.StatusCode, len(body))
		}
		return took
	}
	var patchBytes, byIDBytes, wholeBytes int64
	var patchTime, wholeTime time.Duration
	for b.Loop() {
		agg := cold()
		patchTime += read(agg.url+"/v1/blobs/by-quilt-id/"+sq.id.String()+"/"+quiltBenchPatch, want)
		agg.stop()
		_, primary, total, _ := log.counts()
		if len(primary) != 0 {
			b.Fatalf("the patch read fetched primary slivers %v", primary)
		}
		patchBytes = total
		agg = cold()
		read(agg.url+"/v1/blobs/by-quilt-patch-id/"+p.ID(sq.id).String(), want)
		agg.stop()
		_, _, byIDBytes, _ = log.counts()
		agg = cold()
		wholeTime += read(agg.url+"/v1/blobs/"+sq.id.String(), sq.quilt.Blob)
		agg.stop()
		_, _, wholeBytes, _ = log.counts()
	}
	n := float64(b.N)
	b.ReportMetric(float64(patchBytes), "patch-node-bytes")
	b.ReportMetric(float64(wholeBytes), "whole-node-bytes")
	b.ReportMetric(float64(byIDBytes), "patch-id-node-bytes")
	b.ReportMetric(float64(wholeBytes)/float64(patchBytes), "bytes-ratio")
	b.ReportMetric(patchTime.Seconds()*1000/n, "patch-ms")
	b.ReportMetric(wholeTime.Seconds()*1000/n, "whole-ms")
	b.ReportMetric(wholeTime.Seconds()/patchTime.Seconds(), "time-ratio")
	cost, err := env.tn.code.QuiltReadCost(uint64(len(sq.quilt.Blob)), sq.quilt.Index.Columns, p.InternalID())
	if err == nil {
		b.Logf("codec.QuiltReadCost: column %d B, index %d B, patch %d B, whole (k1 primary slivers) %d B", cost.ColumnSize, cost.Index, cost.Patch, cost.Whole)
	}
}
