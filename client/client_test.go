package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/testnet"
)

func randomBlob(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func readAll(t *testing.T, a *client.Aggregator, id codec.BlobID) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := a.ReadBlob(context.Background(), id, &buf); err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return buf.Bytes()
}

// TestClient runs the client against one in-process network: stores
// through the publisher and directly, reads back byte for byte, and the
// ledger calls of the CLI.
func TestClient(t *testing.T) {
	tn := testnet.Start(t, 3, 3, 4)
	ctx := context.Background()
	sizes := []int{0, 1, 1000, 300_000}

	t.Run("PublisherAndAggregator", func(t *testing.T) {
		for i, n := range sizes {
			data := randomBlob(uint64(i), n)
			var last int64
			calls := 0
			res, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), int64(n), client.StoreOptions{Epochs: 2, Progress: func(s int64) {
				if s < last {
					t.Errorf("progress went back from %d to %d", last, s)
				}
				last = s
				calls++
			}})
			if err != nil {
				t.Fatalf("store %d bytes: %v", n, err)
			}
			want, _ := codec.ComputeBlobID(data, 10)
			if res.BlobID() != want || res.NewlyCreated == nil || res.JobID == "" || len(res.Raw) == 0 {
				t.Fatalf("store %d bytes: %+v, want blob %s", n, res, want)
			}
			if last != int64(n) || (n > 0 && calls == 0) {
				t.Errorf("progress ended at %d after %d calls, want %d", last, calls, n)
			}
			if got := readAll(t, tn.Aggregator, want); !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes back, want %d", len(got), n)
			}
			// The same blob again: already certified.
			again, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), -1, client.StoreOptions{Epochs: 1})
			if err != nil || again.AlreadyCertified == nil || again.BlobID() != want {
				t.Fatalf("store again: %+v, %v", again, err)
			}
		}
	})

	t.Run("Resumable", func(t *testing.T) {
		data := randomBlob(11, 70_000)
		res, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), int64(len(data)), client.StoreOptions{Resumable: true})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := codec.ComputeBlobID(data, 10)
		if res.NewlyCreated == nil || res.BlobID() != want || res.JobID == "" || !bytes.Contains(res.Raw, []byte(want.String())) {
			t.Fatalf("resumable store: %+v", res)
		}
		if got := readAll(t, tn.Aggregator, want); !bytes.Equal(got, data) {
			t.Fatal("read back differs")
		}
	})

	t.Run("Range", func(t *testing.T) {
		data := randomBlob(7, 5000)
		res, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), int64(len(data)), client.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := tn.Aggregator.OpenRange(ctx, res.BlobID(), 100, 50)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, data[100:150]) || b.Size != 50 {
			t.Fatalf("range: %d bytes (size %d), %v", len(got), b.Size, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		var unknown codec.BlobID
		unknown[0] = 1
		err := tn.Aggregator.ReadBlob(ctx, unknown, io.Discard)
		var apiErr *client.APIError
		if !client.IsNotFound(err) || !errors.As(err, &apiErr) || apiErr.Reason != "BLOB_NOT_FOUND" {
			t.Fatalf("read unknown blob: %v", err)
		}
		_, err = tn.Publisher.StoreBlob(ctx, strings.NewReader("x"), 1, client.StoreOptions{Permanent: true, Deletable: true})
		if !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest || apiErr.Reason != "INVALID_BLOB_PERSISTENCE" {
			t.Fatalf("permanent and deletable: %v", err)
		}
		// A body shorter than announced never becomes a blob.
		_, err = tn.Publisher.StoreBlob(ctx, strings.NewReader("short"), 100, client.StoreOptions{})
		if err == nil {
			t.Fatal("a short body was stored")
		}
		if _, err := tn.Publisher.Job(ctx, "no-such-job"); !client.IsNotFound(err) {
			t.Fatalf("unknown job: %v", err)
		}
		dead := &client.Publisher{URL: "http://127.0.0.1:1"}
		if _, err := dead.StoreBlob(ctx, strings.NewReader("x"), 1, client.StoreOptions{}); err == nil || errors.As(err, &apiErr) {
			t.Fatalf("refused connection: %v", err)
		}
	})

	t.Run("client.Direct", func(t *testing.T) {
		d := &client.Direct{Ledger: tn.LedgerClient, Linger: time.Second}
		for i, n := range []int{0, 20_000} {
			data := randomBlob(uint64(100+i), n)
			var last int64
			res, err := d.StoreBlob(ctx, data, client.StoreOptions{Epochs: 3, Progress: func(s int64) { last = s }})
			if err != nil {
				t.Fatalf("direct store %d bytes: %v", n, err)
			}
			want, _ := codec.ComputeBlobID(data, 10)
			if res.BlobID() != want || res.NewlyCreated == nil || res.NewlyCreated.BlobObject.CertifiedEpoch == nil {
				t.Fatalf("direct store: %+v", res)
			}
			if last != int64(n) {
				t.Errorf("progress ended at %d, want %d", last, n)
			}
			if got := readAll(t, tn.Aggregator, want); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, want %d", len(got), n)
			}
			again, err := d.StoreBlob(ctx, data, client.StoreOptions{Epochs: 1})
			if err != nil || again.AlreadyCertified == nil {
				t.Fatalf("direct store again: %+v %v", again, err)
			}
		}
		if _, err := d.StoreBlob(ctx, []byte("x"), client.StoreOptions{Share: true}); err == nil {
			t.Fatal("direct store with share: no error")
		}
		if _, err := d.StoreBlob(ctx, []byte("x"), client.StoreOptions{Epochs: 1 << 30}); !errors.Is(err, chain.ErrInvalidEpochs) {
			t.Fatalf("too many epochs: %v", err)
		}
	})

	t.Run("Ledger", func(t *testing.T) {
		info, err := tn.LedgerClient.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NShards != 10 || len(info.Nodes) != 3 || info.QuorumWeight != 7 || info.MaxBlobSize == 0 {
			t.Fatalf("info %+v", info)
		}
		data := randomBlob(42, 999)
		res, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), int64(len(data)), client.StoreOptions{Epochs: 2})
		if err != nil {
			t.Fatal(err)
		}
		oid, _ := res.ObjectID()
		blobs, err := tn.LedgerClient.ListBlobs(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range blobs {
			found = found || b.ObjectID == oid
		}
		if !found {
			t.Fatalf("list-blobs misses %s", oid)
		}
		rec, err := tn.LedgerClient.Extend(ctx, oid, 3)
		if err != nil || rec.EndEpoch != res.EndEpoch()+3 {
			t.Fatalf("extend: %+v %v", rec, err)
		}
		deleted, err := tn.LedgerClient.DeleteBlobID(ctx, res.BlobID())
		if err != nil || len(deleted) != 1 || !deleted[0].Deleted {
			t.Fatalf("delete: %+v %v", deleted, err)
		}
		if _, err := tn.LedgerClient.DeleteBlobID(ctx, res.BlobID()); !errors.Is(err, chain.ErrBlobNotFound) {
			t.Fatalf("delete again: %v", err)
		}
		// A deleted blob is gone for readers (the aggregator follows the
		// ledger's events, so give it a moment).
		deadline := time.Now().Add(10 * time.Second)
		for err := tn.Aggregator.ReadBlob(ctx, res.BlobID(), io.Discard); !client.IsNotFound(err); err = tn.Aggregator.ReadBlob(ctx, res.BlobID(), io.Discard) {
			if time.Now().After(deadline) {
				t.Fatalf("read after delete: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		perm, err := tn.Publisher.StoreBlob(ctx, strings.NewReader("permanent"), 9, client.StoreOptions{Permanent: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tn.LedgerClient.DeleteBlobID(ctx, perm.BlobID()); !errors.Is(err, chain.ErrNotDeletable) {
			t.Fatalf("delete a permanent blob: %v", err)
		}
	})
}
