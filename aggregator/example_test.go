package aggregator_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
)

// An aggregator over a local ledger: it reads the committee and blob
// statuses from the ledger, slivers from the committee's nodes, and keeps
// what it reads in memory and under DiskCacheDir.
func Example() {
	dir, _ := os.MkdirTemp("", "aggregator-example")
	defer os.RemoveAll(dir)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	node := chain.NodeInfo{ID: chaintest.NodeID(0), Name: "node-0", RESTURL: "http://127.0.0.1:9185", Shards: []uint16{0, 1, 2, 3}}
	ledger, err := local.Open(ctx, local.Config{
		Path:    filepath.Join(dir, "ledger.log"),
		Genesis: []chain.NodeRegistration{chain.NewNodeRegistration(chaintest.NodeKey(0), node, 0)},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer ledger.Close()

	agg, err := aggregator.New(aggregator.Config{
		Ledger:       ledger,
		DiskCacheDir: filepath.Join(dir, "cache"),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer agg.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- agg.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	for _, path := range []string{"/status", "/v1/blobs/" + codec.BlobID{1}.String(), "/v1/blobs/not-an-id"} {
		resp, err := http.Get(base + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %.60s\n", resp.StatusCode, body)
	}
	stop()
	<-done
	// Output:
	// 200 OK
	// 404 {"error":{"status":"NOT_FOUND","code":404,"message":"the req
	// 400 Invalid URL: invalid blob ID: "not-an-id": want 43 URL-safe
}
