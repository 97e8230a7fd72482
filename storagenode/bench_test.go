package storagenode

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
)

// The sliver benchmarks measure one node over loopback against a baseline
// in the same run: a plain Go file server (net/http.FileServer over a temp
// directory for GET; for PUT, a plain handler that writes the body to a
// file and fsyncs it, since FileServer has no PUT) moving the same bytes
// through the same HTTP client. Slivers are primary slivers of 1 MiB (a
// blob of 14.7 MB on 40 shards: 27 symbols of 38,836 bytes). The node
// also verifies each sliver against the metadata (Reed-Solomon expansion
// and Merkle root) and commits it durably to its store; the file server
// only writes. Reported: MB/s of each and their ratio (node/files).

const benchShards = 40

type benchEnv struct {
	tn      *testNet
	c       *nodeclient.Client
	b       *blob
	slivers []*codec.Sliver // the 40 primary slivers, 1 MiB each
	files   string          // the file server's URL
	dir     string
	hc      *http.Client
}

func newBenchEnv(b *testing.B) *benchEnv {
	tn := newTestNet(b, netOptions{tune: func(c *Config) { c.Logger = testLogger(b) }}, benchShards)
	code := tn.code
	// The blob whose primary slivers are 1 MiB.
	k := code.PrimarySourceSymbols() * code.SecondarySourceSymbols()
	data := randomBytes(b, k*38836)
	blob := tn.register(data, 10, false)
	e := &benchEnv{tn: tn, c: tn.nodes[0].client, b: blob, hc: tn.hc, dir: b.TempDir()}
	for p := range benchShards {
		pr, _ := blob.enc.Pair(p)
		e.slivers = append(e.slivers, pr)
	}
	if got := len(e.slivers[0].Data); got < 1<<20-64 || got > 1<<20 {
		b.Fatalf("primary sliver of %d bytes", got)
	}
	if err := e.c.PutMetadata(b.Context(), blob.id, &blob.enc.Metadata.BlobMetadata); err != nil {
		b.Fatal(err)
	}
	// The baseline: the same BCS bytes as files.
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(e.dir)))
	mux.HandleFunc("PUT /{name}", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.OpenFile(filepath.Join(e.dir, "put-"+r.PathValue("name")), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, err = io.Copy(f, r.Body)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	for i, s := range e.slivers {
		if err := os.WriteFile(filepath.Join(e.dir, fmt.Sprint(i)), s.MarshalBCS(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	e.files = srv.URL
	return e
}

// round runs op(i) for i in [0, n) on conc workers and returns the time
// it took.
func round(b *testing.B, n, conc int, op func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var fail atomic.Value
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					fail.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err, ok := fail.Load().(error); ok {
		b.Fatal(err)
	}
	return d
}

// resetSlivers drops the blob's slivers from the node's store (keeping
// its metadata and record) so that they can be uploaded again.
func (e *benchEnv) resetSlivers(ctx context.Context) error {
	n := e.tn.nodes[0].node
	bt := n.store.NewBatch()
	bt.DeleteBlob(e.b.id)
	m, _ := n.metadata(ctx, e.b.id)
	bt.PutMetadata(e.b.id, m.bcs)
	bt.PutBlobInfo(e.b.id, n.blob(e.b.id).marshal())
	return bt.Commit(ctx)
}

func (e *benchEnv) filePut(ctx context.Context, i int) error {
	body := e.slivers[i].MarshalBCS()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/%d", e.files, i), bytesReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("file PUT: %s", resp.Status)
	}
	return nil
}

func (e *benchEnv) fileGet(ctx context.Context, i int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/%d", e.files, i), nil)
	if err != nil {
		return err
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := readLimitedBody(resp); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("file GET: %s", resp.Status)
	}
	return nil
}

func reportRatio(b *testing.B, bytes int64, node, files time.Duration) {
	nodeMBps := float64(bytes) / node.Seconds() / 1e6
	filesMBps := float64(bytes) / files.Seconds() / 1e6
	b.ReportMetric(nodeMBps, "node-MB/s")
	b.ReportMetric(filesMBps, "files-MB/s")
	b.ReportMetric(nodeMBps/filesMBps, "node/files")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkSliverPut(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			var nodeTime, fileTime time.Duration
			var moved int64
			for done := 0; done < b.N; {
				n := min(b.N-done, len(e.slivers))
				if err := e.resetSlivers(ctx); err != nil {
					b.Fatal(err)
				}
				nodeTime += round(b, n, conc, func(i int) error { return e.c.PutSliver(ctx, e.b.id, uint16(i), e.slivers[i]) })
				fileTime += round(b, n, conc, func(i int) error { return e.filePut(ctx, i) })
				for i := range n {
					moved += int64(len(e.slivers[i].Data))
				}
				done += n
			}
			reportRatio(b, moved, nodeTime, fileTime)
		})
	}
}

func BenchmarkSliverGet(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	if err := e.resetSlivers(ctx); err != nil {
		b.Fatal(err)
	}
	for i, s := range e.slivers {
		if err := e.c.PutSliver(ctx, e.b.id, uint16(i), s); err != nil {
			b.Fatal(err)
		}
	}
	for _, conc := range []int{1, 8} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			var nodeTime, fileTime time.Duration
			var moved int64
			for done := 0; done < b.N; {
				n := min(b.N-done, len(e.slivers))
				nodeTime += round(b, n, conc, func(i int) error {
					_, err := e.c.GetSliver(ctx, e.b.id, uint16(i), codec.Primary)
					return err
				})
				fileTime += round(b, n, conc, func(i int) error { return e.fileGet(ctx, i) })
				for i := range n {
					moved += int64(len(e.slivers[i].Data))
				}
				done += n
			}
			reportRatio(b, moved, nodeTime, fileTime)
		})
	}
}
