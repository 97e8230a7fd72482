package client_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/internal/testnet"
)

// The client's throughput on an in-process network of 4 nodes and 100
// shards, each figure beside its baseline from the same run: a plain HTTP
// PUT of the same bytes to a server that discards them, and a plain GET of
// the same bytes from memory. Their ratio is what erasure coding,
// distribution, certification and verified reads cost over moving the
// bytes once.
//
//	go test -run '^$' -bench . -benchtime 5x ./client

const benchSize = 4 << 20

func BenchmarkStore(b *testing.B) {
	tn := testnet.Start(b, 25, 25, 25, 25)
	ctx := context.Background()
	data := randomBlob(1, benchSize)
	b.Run("baseline-put", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
		defer srv.Close()
		b.SetBytes(benchSize)
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL, bytes.NewReader(data))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("publisher", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), benchSize, client.StoreOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		d := &client.Direct{Ledger: tn.LedgerClient}
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := d.StoreBlob(ctx, data, client.StoreOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	tn := testnet.Start(b, 25, 25, 25, 25)
	ctx := context.Background()
	data := randomBlob(2, benchSize)
	b.Run("baseline-get", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(data)
		}))
		defer srv.Close()
		b.SetBytes(benchSize)
		for b.Loop() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	res, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), benchSize, client.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("aggregator-warm", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			if err := tn.Aggregator.ReadBlob(ctx, res.BlobID(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A blob the aggregator has not seen each time: the first bytes
	// differ, so the blob IDs do (i outlives the calls the benchmark
	// framework makes of the function).
	i := uint64(0)
	b.Run("aggregator-cold", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			b.StopTimer()
			i++
			binary.LittleEndian.PutUint64(data, i)
			r, err := tn.Publisher.StoreBlob(ctx, bytes.NewReader(data), benchSize, client.StoreOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := tn.Aggregator.ReadBlob(ctx, r.BlobID(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
