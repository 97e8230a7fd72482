package publisher

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
)

// TestStreamedUpload: a blob above StreamThreshold is encoded into a sliver
// file and sent from it; it certifies with a node down, reads back, and the
// sliver file is gone once the down node is given up on; the memory budget
// is all given back.
func TestStreamedUpload(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tn := newTestNet(t, netOptions{down: map[int]bool{3: true}}, testShards...)
			st := openStore(t, newStoreSpec(t, kind))
			spool := t.TempDir()
			cfg := testConfig(t, tn, st, spool)
			cfg.StreamThreshold = 200_000
			cfg.StreamBuffer = 64 << 10 // several blocks per pass
			cfg.BatchBytes = 50_000     // several batches per node
			cfg.RetryBackoff, cfg.MaxRetryBackoff = 300*time.Millisecond, 300*time.Millisecond
			tp := startPublisher(t, cfg)
			ctx := context.Background()

			blob := randomBlob(t, 900_001)
			id, _ := codec.ComputeBlobID(blob, tn.nShards)
			code, body, hdr := put(t, tp.url, "/v1/blobs?epochs=2", bytes.NewReader(blob), nil)
			if code != http.StatusOK || decodeResult(t, body).NewlyCreated == nil {
				t.Fatalf("PUT: %d %s", code, body)
			}
			if got := decodeResult(t, body).NewlyCreated.BlobObject.BlobID; got != id.String() {
				t.Fatalf("blob ID %s, want %s", got, id)
			}
			got, err := tn.readBlob(ctx, id)
			if err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("read back: %v", err)
			}
			// The down node is still being retried: its slivers are on disk.
			if _, err := os.Stat(tp.spool.sliverPath(hdr.Get(jobHeader))); err != nil {
				t.Errorf("sliver file while a node waits: %v", err)
			}
			j := waitJob(t, st, hdr.Get(jobHeader), 30*time.Second, "done", func(j jobs.Job) bool { return j.State.Terminal() })
			if j.State != jobs.StateDone {
				t.Fatalf("job %s: %s", j.State, j.Failure)
			}
			down := 0
			for _, n := range j.Nodes {
				if n.State == jobs.NodeGivenUp {
					down++
				}
			}
			if down != 1 {
				t.Errorf("nodes %+v", j.Nodes)
			}
			spoolEmpty(t, spool)
			if used := tp.mem.used.Load() + tp.sendMem.used.Load(); used != 0 {
				t.Errorf("%d bytes of the memory budgets still held", used)
			}

			// Below the threshold, in memory: the same blob ID either way.
			small := blob[:150_000]
			code, body, _ = put(t, tp.url, "/v1/blobs", bytes.NewReader(small), nil)
			sid, _ := codec.ComputeBlobID(small, tn.nShards)
			if code != http.StatusOK || !strings.Contains(string(body), sid.String()) {
				t.Fatalf("PUT small: %d %s", code, body)
			}
			noJobLeft(t, st, spool)
		})
	}
}

// TestStreamedSpoolGone: a streamed job whose spool file is gone fails with
// the reason and leaves no sliver file.
func TestStreamedSpoolGone(t *testing.T) {
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	spool := t.TempDir()
	ctx := context.Background()
	path := spool + "/x" + spoolExt
	if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	// The job says 2000 bytes: the spool file does not hold the upload.
	j, err := st.Create(ctx, jobs.NewJob{Size: 2000, SpoolPath: path, Options: jobs.Options{Epochs: 1}}, "gone", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, tn, st, spool)
	cfg.StreamThreshold = 100
	startPublisher(t, cfg)
	j = waitJob(t, st, j.ID, 10*time.Second, "failed", func(j jobs.Job) bool { return j.State.Terminal() })
	if j.State != jobs.StateFailed || !strings.Contains(j.Failure, "spool") {
		t.Errorf("job %+v", j)
	}
	spoolEmpty(t, spool)
}
