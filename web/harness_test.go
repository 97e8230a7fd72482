package web_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/storagenode"
	"github.com/haulout/haulout/web"
)

// The codec is built once per test binary into a temporary directory,
// removed by TestMain.
var (
	codecOnce sync.Once
	codecDir  string
	codecErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if codecDir != "" {
		os.RemoveAll(codecDir)
	}
	os.Exit(code)
}

// builtCodec returns a directory holding web.CodecFiles, built from this
// tree as `go generate ./web` builds them.
func builtCodec(t testing.TB) string {
	t.Helper()
	codecOnce.Do(func() {
		dir, err := os.MkdirTemp("", "haulout-web-codec-")
		if err != nil {
			codecErr = err
			return
		}
		codecDir = dir
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		cmd := exec.Command(goTool, "run", "./internal/gencodec", dir)
		if os.Getenv("GOROOT") == "" && runtime.GOROOT() != "" {
			// gencodec runs the same toolchain's go and copies its wasm_exec.js.
			cmd.Env = append(os.Environ(), "GOROOT="+runtime.GOROOT())
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			codecErr = fmt.Errorf("go run ./internal/gencodec: %v\n%s", err, out)
		}
	})
	if codecErr != nil {
		t.Fatal(codecErr)
	}
	return codecDir
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testNet is a whole network in this process: a local ledger served over
// HTTP, storage nodes, a publisher and an aggregator serving the pages.
type testNet struct {
	t            testing.TB
	singlePuts   atomic.Int64 // single-sliver PUTs through walrusLike proxies
	hc           *http.Client
	ledger       *local.Ledger
	ledgerURL    string
	publisherURL string
	aggURL       string
	nShards      int
	nodeURLs     []string
}

// serve runs serve(ctx, ln) on a fresh loopback listener until the test
// ends, and returns the listener's URL.
func serve(t testing.TB, name string, run func(ctx context.Context, ln net.Listener) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("%s: %v", name, err)
		}
	})
	return "http://" + ln.Addr().String()
}

func newTestNet(t testing.TB, shardsPerNode ...int) *testNet {
	t.Helper()
	return newTestNetOpts(t, netOptions{}, shardsPerNode...)
}

type netOptions struct {
	// down nodes are registered but not started: connections to them are
	// refused until startNode.
	down map[int]bool
	// walrusLike nodes are reached through a proxy that answers haulout's
	// batch route (PUT /v1/blobs/{id}/slivers) 404, as Walrus's nodes do.
	walrusLike map[int]bool
}

func newTestNetOpts(t testing.TB, opts netOptions, shardsPerNode ...int) *testNet {
	t.Helper()
	down := opts.down
	ctx := context.Background()
	tn := &testNet{t: t}
	var regs []chain.NodeRegistration
	var lns []net.Listener
	next := 0
	for i, count := range shardsPerNode {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		url := "http://" + ln.Addr().String()
		tn.nodeURLs = append(tn.nodeURLs, url)
		if opts.walrusLike[i] {
			url = tn.noBatchProxy(t, url)
		}
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: url}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		regs = append(regs, chain.NewNodeRegistration(chaintest.NodeKey(i), info, 0))
	}
	tn.nShards = next
	var err error
	tn.ledger, err = local.Open(ctx, local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: regs, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the services stop before the ledger
	// closes.
	t.Cleanup(func() { tn.ledger.Close() })
	lsrv := &ledgerhttp.Server{Ledger: tn.ledger, Logger: testLogger(t), MaxWait: time.Second}
	tn.ledgerURL = serve(t, "ledger", lsrv.Serve)

	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	tn.hc = hc
	for i, ln := range lns {
		if down[i] {
			ln.Close() // the address stays in the committee, refusing connections
			continue
		}
		tn.serveNode(i, ln)
	}

	store, err := jobs.Open(ctx, jobs.Config{Path: filepath.Join(t.TempDir(), "jobs.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub, err := publisher.New(publisher.Config{
		Ledger: tn.ledger, Jobs: store, SpoolDir: t.TempDir(), NodeHTTPClient: hc,
		QuorumTimeout: 30 * time.Second, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.publisherURL = serve(t, "publisher", pub.Serve)

	// The aggregator's URL must be known before it is made (the pages'
	// settings), so its listener comes first.
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tn.aggURL = "http://" + aln.Addr().String()
	agg, err := aggregator.New(aggregator.Config{
		Ledger: tn.ledger, NodeHTTPClient: hc, Logger: testLogger(t),
		UI: web.Handler(web.Config{PublisherURL: tn.publisherURL, LedgerURL: tn.ledgerURL, Codec: os.DirFS(builtCodec(t))}),
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(ctx)
	adone := make(chan error, 1)
	go func() { adone <- agg.Serve(actx, aln) }()
	t.Cleanup(func() {
		acancel()
		if err := <-adone; err != nil {
			t.Errorf("aggregator: %v", err)
		}
		agg.Close()
	})
	waitUp(t, tn.aggURL+"/status", tn.publisherURL+"/status", tn.ledgerURL+"/status")
	return tn
}

func waitUp(t testing.TB, urls ...string) {
	t.Helper()
	for _, u := range urls {
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err := http.Get(u)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not up: %v", u, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// startNode starts node i of a newTestNetDown on its registered address.
func (tn *testNet) startNode(i int) {
	tn.t.Helper()
	ln, err := net.Listen("tcp", strings.TrimPrefix(tn.nodeURLs[i], "http://"))
	if err != nil {
		tn.t.Fatalf("node %d: listen again on its address: %v", i, err)
	}
	tn.serveNode(i, ln)
}

func (tn *testNet) serveNode(i int, ln net.Listener) {
	t := tn.t
	t.Helper()
	node, err := storagenode.New(context.Background(), storagenode.Config{
		Dir: t.TempDir(), Ledger: tn.ledger, NodeID: chaintest.NodeID(i), Key: chaintest.NodeKey(i),
		PeerClient: tn.hc, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	nctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Serve(nctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %d: %v", i, err)
		}
		node.Close()
	})
}

// noBatchProxy forwards to a node but refuses haulout's batch route, as a
// node of Walrus's (which has no such route) would, and counts the
// single-sliver PUTs it forwards.
func (tn *testNet) noBatchProxy(t testing.TB, target string) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/slivers") {
			// As a router without the route answers: with CORS, or the
			// browser could not read the status.
			w.Header().Set("Access-Control-Allow-Origin", "*")
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/slivers/") {
			tn.singlePuts.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
