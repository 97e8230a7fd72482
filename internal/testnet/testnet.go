// Package testnet runs a whole haulout network inside a test process, every
// part the real one on loopback: a local ledger served over HTTP, storage
// nodes, a publisher with an embedded job store and an aggregator. Client
// tests (package client, cmd/haulout) use it; the devnet tests run the same
// services as separate processes instead.
package testnet

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/storagenode"
)

// Net is a running network; it stops when the test ends.
type Net struct {
	// Ledger is the ledger itself; LedgerURL serves it over HTTP.
	Ledger    *local.Ledger
	LedgerURL string
	// PublisherURL and AggregatorURL are the services' roots.
	PublisherURL, AggregatorURL string
	// Nodes are the storage nodes' REST URLs, in committee order.
	Nodes []string
	// Publisher, Aggregator and LedgerClient are clients of the above.
	Publisher    *client.Publisher
	Aggregator   *client.Aggregator
	LedgerClient *client.Ledger
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve runs serve(ctx, ln) until the test ends.
func serve(t testing.TB, ln net.Listener, serve func(context.Context, net.Listener) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve %s: %v", ln.Addr(), err)
		}
	})
}

// Start starts len(shardsPerNode) storage nodes, node i holding
// shardsPerNode[i] consecutive shards, and the services in front of them.
func Start(t testing.TB, shardsPerNode ...int) *Net {
	t.Helper()
	ctx := context.Background()
	log := testLogger(t)
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	tn := &Net{}
	var regs []chain.NodeRegistration
	var lns []net.Listener
	next := 0
	for i, count := range shardsPerNode {
		ln := listen(t)
		lns = append(lns, ln)
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: "http://" + ln.Addr().String()}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		regs = append(regs, chain.NewNodeRegistration(chaintest.NodeKey(i), info, 0))
		tn.Nodes = append(tn.Nodes, info.RESTURL)
	}
	var err error
	tn.Ledger, err = local.Open(ctx, local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: regs, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.Ledger.Close() })
	ledgerSrv := httptest.NewServer((&ledgerhttp.Server{Ledger: tn.Ledger, Logger: log}).Handler())
	t.Cleanup(ledgerSrv.Close)
	tn.LedgerURL = ledgerSrv.URL
	tn.LedgerClient = client.NewLedger(ledgerSrv.URL, nil)

	for i, ln := range lns {
		node, err := storagenode.New(ctx, storagenode.Config{
			Dir: t.TempDir(), Ledger: tn.Ledger, NodeID: chaintest.NodeID(i), Key: chaintest.NodeKey(i),
			PeerClient: hc, Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		serve(t, ln, node.Serve)
	}

	store, err := jobs.Open(ctx, jobs.Config{Path: filepath.Join(t.TempDir(), "jobs.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub, err := publisher.New(publisher.Config{Ledger: tn.Ledger, Jobs: store, SpoolDir: t.TempDir(), Logger: log, NodeHTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	ln := listen(t)
	serve(t, ln, pub.Serve)
	tn.PublisherURL = "http://" + ln.Addr().String()
	tn.Publisher = &client.Publisher{URL: tn.PublisherURL}

	agg, err := aggregator.New(aggregator.Config{Ledger: tn.Ledger, NodeHTTPClient: hc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agg.Close() })
	ln = listen(t)
	serve(t, ln, agg.Serve)
	tn.AggregatorURL = "http://" + ln.Addr().String()
	tn.Aggregator = &client.Aggregator{URL: tn.AggregatorURL}
	return tn
}
