package publisher

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher/jobs"
	"github.com/haulout/haulout/storagenode"
)

// testShards is the committee the tests use: 7 nodes, 10 shards (f = 3,
// quorum 7). Node 2 holds one shard and node 6 two: with node 2 down and
// node 6 lying, exactly a quorum is left.
var testShards = []int{2, 2, 1, 1, 1, 1, 2}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testNet is a committee of storage nodes on loopback following one local
// ledger, which is also served over HTTP for publishers in child processes.
type testNet struct {
	t         testing.TB
	ledger    *local.Ledger
	ledgerURL string
	nodes     []*testNode
	nShards   int
	code      codec.Config
	committee chain.Committee
	hc        *http.Client
}

type testNode struct {
	index  int
	url    string // as the committee lists it (a proxy's for a liar)
	client *nodeclient.Client
}

type netOptions struct {
	// down nodes are registered but never started: connections to them
	// are refused.
	down map[int]bool
	// liars are reached through a proxy that signs their storage
	// confirmations with another key.
	liars map[int]bool
}

func newTestNet(t testing.TB, opts netOptions, shardsPerNode ...int) *testNet {
	t.Helper()
	tn := &testNet{t: t, hc: nodeclient.NewHTTPClient(nodeclient.TransportOptions{})}
	var regs []chain.NodeRegistration
	var lns []net.Listener
	next := 0
	for i, count := range shardsPerNode {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tnode := &testNode{index: i, url: "http://" + ln.Addr().String()}
		if opts.down[i] {
			ln.Close() // the address stays, refusing connections
			ln = nil
		}
		if opts.liars[i] {
			tnode.url = lyingProxy(t, tnode.url)
		}
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: tnode.url}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		regs = append(regs, chain.NewNodeRegistration(chaintest.NodeKey(i), info, 0))
		tn.nodes = append(tn.nodes, tnode)
		lns = append(lns, ln)
	}
	tn.nShards = next
	var err error
	if tn.code, err = codec.NewConfig(next); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tn.ledger, err = local.Open(ctx, local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: regs, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if tn.committee, err = tn.ledger.CurrentCommittee(ctx); err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(ctx)
	lln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tn.ledgerURL = "http://" + lln.Addr().String()
	ldone := make(chan error, 1)
	srv := &ledgerhttp.Server{Ledger: tn.ledger, Logger: testLogger(t), MaxWait: time.Second}
	go func() { ldone <- srv.Serve(lctx, lln) }()
	// Cleanups run last-in first-out: nodes stop, then the ledger server,
	// then the ledger.
	t.Cleanup(func() { tn.ledger.Close() })
	t.Cleanup(func() { lcancel(); <-ldone })
	for i, n := range tn.nodes {
		if n.client, err = nodeclient.New(n.url, nodeclient.WithHTTPClient(tn.hc)); err != nil {
			t.Fatal(err)
		}
		if lns[i] != nil {
			tn.startNode(i, lns[i])
		}
	}
	return tn
}

func (tn *testNet) startNode(i int, ln net.Listener) {
	t := tn.t
	node, err := storagenode.New(context.Background(), storagenode.Config{
		Dir: t.TempDir(), Ledger: tn.ledger, NodeID: chaintest.NodeID(i), Key: chaintest.NodeKey(i),
		SweepInterval: time.Second, PeerClient: tn.hc, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %d: serve: %v", i, err)
		}
		if err := node.Close(); err != nil {
			t.Errorf("node %d: close: %v", i, err)
		}
	})
}

// lyingProxy serves target's API but signs storage confirmations with a
// key that is not the node's.
func lyingProxy(t testing.TB, target string) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	wrong := chaintest.NodeKey(99)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/confirmation/") {
			return nil
		}
		var env nodeclient.Success[nodeclient.Confirmation]
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			return err
		}
		resp.Body.Close()
		if env.Success.Data.Signed != nil {
			forged := chain.Sign(wrong, env.Success.Data.Signed.SerializedMessage)
			env.Success.Data.Signed = &forged
		}
		out, _ := json.Marshal(env)
		resp.Body = io.NopCloser(bytes.NewReader(out))
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// readBlob reads a blob back from the nodes as a reader would: metadata
// from any node that verifies, primary slivers from their holders, decoded
// with the codec's consistency check.
func (tn *testNet) readBlob(ctx context.Context, id codec.BlobID) ([]byte, error) {
	var md *codec.Metadata
	for _, n := range tn.nodes {
		m, err := n.client.GetMetadata(ctx, id)
		if err != nil {
			continue
		}
		if _, err := m.Verify(id); err == nil {
			md = m
			break
		}
	}
	if md == nil {
		return nil, errors.New("no node has verifiable metadata")
	}
	var slivers []*codec.Sliver
	for i, node := range tn.committee.Nodes {
		for _, s := range node.Shards {
			pair := codec.PairForShard(id, int(s), tn.nShards)
			sl, err := tn.nodes[i].client.GetSliver(ctx, id, uint16(pair), codec.Primary)
			if err == nil {
				slivers = append(slivers, sl)
			}
		}
	}
	return tn.code.Decode(&md.BlobMetadata, slivers, nil, codec.ConsistencyDefault)
}

// storeKinds are the job stores every end-to-end test runs against.
var storeKinds = []string{"sqlite", "postgres"}

// storeSpec says how to open one test's job store, in this process or in a
// child.
type storeSpec struct {
	Kind        string `json:"kind"`
	Path        string `json:"path,omitempty"`
	DatabaseURL string `json:"databaseUrl,omitempty"`
}

func (s storeSpec) open(ctx context.Context) (*jobs.Store, error) {
	if s.Kind == "postgres" {
		return jobs.Open(ctx, jobs.Config{DatabaseURL: s.DatabaseURL})
	}
	return jobs.Open(ctx, jobs.Config{Path: s.Path})
}

// newStoreSpec prepares an empty job store of the kind: a SQLite file in a
// temporary folder, or a fresh database on the Postgres of DATABASE_URL,
// dropped at the end. Without a reachable Postgres the test is skipped with
// a message, except in CI (CI=true), where it fails.
func newStoreSpec(t testing.TB, kind string) storeSpec {
	t.Helper()
	if kind == "sqlite" {
		return storeSpec{Kind: kind, Path: filepath.Join(t.TempDir(), "jobs.db")}
	}
	base := os.Getenv("DATABASE_URL")
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required in CI: %s", msg)
		}
		t.Skipf("skipping the Postgres job store: %s", msg)
	}
	if base == "" {
		unavailable("DATABASE_URL is not set (e.g. postgres://user:pass@127.0.0.1:5432/db?sslmode=disable)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable("cannot connect to DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "haulout_publisher_test_" + hex.EncodeToString(rnd[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		unavailable("cannot create a test database (the role needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return storeSpec{Kind: kind, DatabaseURL: u.String()}
}

func openStore(t testing.TB, spec storeSpec) *jobs.Store {
	t.Helper()
	st, err := spec.open(context.Background())
	if err != nil {
		t.Fatalf("open %s job store: %v", spec.Kind, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testPublisher is a publisher serving on loopback.
type testPublisher struct {
	*Publisher
	url    string
	cfg    Config
	cancel context.CancelFunc
	done   chan error
}

// testConfig is a publisher configuration with short retries and leases.
func testConfig(t testing.TB, tn *testNet, st JobStore, spool string) Config {
	return Config{
		Ledger:             tn.ledger,
		Jobs:               st,
		SpoolDir:           spool,
		Owner:              "test-publisher",
		LeaseDuration:      5 * time.Second,
		PollInterval:       100 * time.Millisecond,
		NodeAttempts:       3,
		RetryBackoff:       20 * time.Millisecond,
		MaxRetryBackoff:    100 * time.Millisecond,
		NodeRequestTimeout: 20 * time.Second,
		QuorumTimeout:      60 * time.Second,
		NodeHTTPClient:     tn.hc,
		Logger:             testLogger(t),
	}
}

func startPublisher(t testing.TB, cfg Config) *testPublisher {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp := &testPublisher{Publisher: p, url: "http://" + ln.Addr().String(), cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { tp.done <- p.Serve(ctx, ln) }()
	t.Cleanup(tp.stop)
	return tp
}

func (tp *testPublisher) stop() {
	if tp.cancel == nil {
		return
	}
	tp.cancel()
	<-tp.done
	tp.cancel = nil
}

// put sends a PUT with body to the publisher and returns the status and
// the response body.
func put(t testing.TB, base, path string, body io.Reader, header http.Header) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func get(t testing.TB, base, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitJob polls the store until the job satisfies ok, or fails the test
// after timeout.
func waitJob(t testing.TB, st JobStore, id string, timeout time.Duration, what string, ok func(jobs.Job) bool) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, err := st.Get(context.Background(), id)
		if err == nil && ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: waited %s for %s; last: %+v (err %v)", id, timeout, what, j, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func randomBlob(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// errorEnvelope is Walrus's JSON error, as tests read it.
type errorEnvelope struct {
	Error struct {
		Status  string `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
			Domain string `json:"domain"`
		} `json:"details"`
	} `json:"error"`
}

// checkError checks that body is Walrus's error envelope with the given
// status code, reason and domain.
func checkError(t testing.TB, code int, body []byte, wantCode int, reason, domain string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("status %d, want %d; body %s", code, wantCode, body)
	}
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body is not the error envelope: %v: %s", err, body)
	}
	if env.Error.Code != wantCode || len(env.Error.Details) == 0 || env.Error.Details[0].Reason != reason || env.Error.Details[0].Domain != domain {
		t.Fatalf("error %+v, want code %d reason %s domain %s", env.Error, wantCode, reason, domain)
	}
}
