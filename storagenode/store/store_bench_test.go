package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchPerBlob is how many values make a blob in BenchmarkReclaim and in
// the store candidate's keys.
const benchPerBlob = 4

var benchSizes = []struct {
	name string
	size int
}{
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
	{"4MiB", 4 << 20},
}

// BenchmarkPut compares durable commits (fsync before return) of the
// candidate engines: one value per commit, ten per commit, and ten per commit
// from four goroutines at once. Bytes/op counts the values committed.
func BenchmarkPut(b *testing.B) {
	modes := []struct {
		name     string
		batch    int
		parallel int
	}{
		{"single", 1, 1},
		{"batch10", 10, 1},
		{"batch10par4", 10, 4},
	}
	for _, e := range engines {
		for _, sz := range benchSizes {
			for _, m := range modes {
				b.Run(fmt.Sprintf("%s/%s/%s", e.name, sz.name, m.name), func(b *testing.B) {
					c, err := e.open(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					defer c.close()
					val := benchValue(0, sz.size)
					var next atomic.Int64
					b.SetBytes(int64(sz.size * m.batch))
					b.ResetTimer()
					if m.parallel == 1 {
						for i := 0; i < b.N; i++ {
							if err := c.put(makeBatch(&next, m.batch, val)); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					// m.parallel writers share the b.N commits.
					var wg sync.WaitGroup
					var ops atomic.Int64
					for range m.parallel {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for ops.Add(1) <= int64(b.N) {
								if err := c.put(makeBatch(&next, m.batch, val)); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
				})
			}
		}
	}
}

func makeBatch(next *atomic.Int64, n int, val []byte) []kv {
	kvs := make([]kv, n)
	for i := range kvs {
		kvs[i] = kv{int(next.Add(1)), val}
	}
	return kvs
}

// BenchmarkGet reads back values written in batches of ten beforehand and
// copies each once into a caller buffer, as a server writing it to a socket
// would. The data set (128 MiB) fits in the page cache: this is the hot path.
func BenchmarkGet(b *testing.B) {
	for _, e := range engines {
		for _, sz := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", e.name, sz.name), func(b *testing.B) {
				c, err := e.open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer c.close()
				n := (128 << 20) / sz.size
				for i := 0; i < n; i += 10 {
					kvs := make([]kv, 0, 10)
					for j := i; j < i+10 && j < n; j++ {
						kvs = append(kvs, kv{j, benchValue(j, sz.size)})
					}
					if err := c.put(kvs); err != nil {
						b.Fatal(err)
					}
				}
				sink := make([]byte, sz.size)
				b.SetBytes(int64(sz.size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := (i * 7919) % n
					err := c.view(k, func(v []byte) error {
						if len(v) != sz.size {
							return fmt.Errorf("key %d: %d bytes, want %d", k, len(v), sz.size)
						}
						copy(sink, v)
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReclaim writes 64 blobs of four 1 MiB values (256 MiB), deletes
// three blobs in four, runs the engine's reclamation (pebble: flush and
// manual compaction; badger: flatten and value-log GC; bbolt: nothing short
// of an offline copy; files: nothing needed; store: Store.Reclaim) and
// reports the space allocated on disk after writing, after deleting, and once
// reclamation has settled. Run with -benchtime 1x.
func BenchmarkReclaim(b *testing.B) {
	const blobs, perBlob, size = 64, benchPerBlob, 1 << 20
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				c, err := e.open(dir)
				if err != nil {
					b.Fatal(err)
				}
				for blob := 0; blob < blobs; blob++ {
					kvs := make([]kv, perBlob)
					for j := range kvs {
						k := blob*perBlob + j
						kvs[j] = kv{k, benchValue(k, size)}
					}
					if err := c.put(kvs); err != nil {
						b.Fatal(err)
					}
				}
				written := mustUsage(b, dir)
				for blob := 0; blob < blobs; blob++ {
					if blob%4 == 0 {
						continue
					}
					keys := make([]int, perBlob)
					for j := range keys {
						keys[j] = blob*perBlob + j
					}
					if err := c.del(keys); err != nil {
						b.Fatal(err)
					}
				}
				deleted := mustUsage(b, dir)
				b.StartTimer()
				if err := c.reclaim(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				reclaimed := settledUsage(b, dir)
				wal := walUsage(b, dir)
				if err := c.close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(written)/(1<<20), "MiB-written")
				b.ReportMetric(float64(deleted)/(1<<20), "MiB-deleted")
				b.ReportMetric(float64(reclaimed)/(1<<20), "MiB-reclaimed")
				b.ReportMetric(float64(blobs/4*perBlob*size)/(1<<20), "MiB-live")
				b.ReportMetric(float64(wal)/(1<<20), "MiB-wal-of-reclaimed")
			}
		})
	}
}

// settledUsage waits for background file deletions (pebble paces them) to
// finish: until usage has not changed for a second, at most ten seconds.
func settledUsage(b *testing.B, dir string) int64 {
	b.Helper()
	last, stable := mustUsage(b, dir), 0
	for i := 0; i < 40 && stable < 4; i++ {
		time.Sleep(250 * time.Millisecond)
		n := mustUsage(b, dir)
		if n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	return last
}

// walUsage is the space of pebble's write-ahead logs (*.log) under dir:
// a fixed cost of about four times MemTableSize, not garbage.
func walUsage(b *testing.B, dir string) int64 {
	b.Helper()
	var total int64
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range logs {
		n, err := diskUsage(l)
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return total
}

func mustUsage(b *testing.B, dir string) int64 {
	b.Helper()
	n, err := diskUsage(dir)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
