package aggregator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode"
)

// testNet is a committee of real storage nodes on loopback following one
// local ledger. Every node is reached through a proxy (its REST URL in the
// committee) that can play it down, slow or lying.
type testNet struct {
	t         testing.TB
	ledger    *local.Ledger
	nodes     []*testNode
	nShards   int
	code      codec.Config
	committee chain.Committee
	hc        *http.Client
}

type testNode struct {
	index  int
	key    *bls.PrivateKey
	direct string // the node's own URL, without the proxy
	proxy  *faultProxy
	client *nodeclient.Client // through the proxy
	cancel context.CancelFunc
	done   chan error
	node   *storagenode.Node
}

// Fault modes of a proxy.
const (
	modeOK int32 = iota
	modeDown
	modeCorruptSlivers
	modeBadMetadata
	modeSlowSlivers
)

// faultProxy forwards to a node, or plays one of the fault modes.
type faultProxy struct {
	srv     *httptest.Server
	rp      *httputil.ReverseProxy
	mode    atomic.Int32
	delay   time.Duration
	slivers atomic.Int64 // sliver GETs seen
	meta    atomic.Int64 // metadata GETs seen
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	u, _ := url.Parse(target)
	p := &faultProxy{rp: httputil.NewSingleHostReverseProxy(u), delay: time.Second}
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	p.rp.ModifyResponse = p.rewrite
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

func isSliverGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/slivers/") && !strings.HasSuffix(r.URL.Path, "/status")
}

func isMetadataGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/metadata")
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isSliverGet(r) {
		p.slivers.Add(1)
	}
	if isMetadataGet(r) {
		p.meta.Add(1)
	}
	switch p.mode.Load() {
	case modeDown:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	case modeSlowSlivers:
		if isSliverGet(r) {
			select {
			case <-time.After(p.delay):
			case <-r.Context().Done():
				return
			}
		}
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite corrupts successful sliver or metadata answers in the lying
// modes: a flipped byte in a sliver's symbols, a flipped byte in one of
// the metadata's hashes (the metadata no longer commits to the blob ID).
func (p *faultProxy) rewrite(resp *http.Response) error {
	mode := p.mode.Load()
	if resp.StatusCode != http.StatusOK || (mode != modeCorruptSlivers && mode != modeBadMetadata) {
		return nil
	}
	r := resp.Request
	switch {
	case mode == modeCorruptSlivers && isSliverGet(r):
	case mode == modeBadMetadata && isMetadataGet(r):
	default:
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if mode == modeBadMetadata {
		if md, err := codec.UnmarshalMetadataWithIDBCS(body); err == nil {
			md.Hashes[len(md.Hashes)/2].Primary.Digest[3] ^= 0x40
			body = md.MarshalBCS()
		}
	} else if len(body) > 16 {
		body[len(body)/2] ^= 0x01
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return nil
}

func (p *faultProxy) set(mode int32) { p.mode.Store(mode) }

// newTestNet starts len(shardsPerNode) storage nodes, node i holding
// shardsPerNode[i] consecutive shards.
func newTestNet(t testing.TB, shardsPerNode ...int) *testNet {
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
		lns = append(lns, ln)
		n := &testNode{index: i, key: chaintest.NodeKey(i), direct: "http://" + ln.Addr().String()}
		n.proxy = newFaultProxy(t, n.direct)
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: n.proxy.srv.URL}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		regs = append(regs, chain.NewNodeRegistration(n.key, info, 0))
		tn.nodes = append(tn.nodes, n)
	}
	tn.nShards = next
	var err error
	if tn.code, err = codec.NewConfig(next); err != nil {
		t.Fatal(err)
	}
	tn.ledger, err = local.Open(context.Background(), local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: regs, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.ledger.Close() })
	if tn.committee, err = tn.ledger.CurrentCommittee(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, n := range tn.nodes {
		if n.client, err = nodeclient.New(n.proxy.srv.URL, nodeclient.WithHTTPClient(tn.hc)); err != nil {
			t.Fatal(err)
		}
		node, err := storagenode.New(context.Background(), storagenode.Config{
			Dir: t.TempDir(), Ledger: tn.ledger, NodeID: chaintest.NodeID(i), Key: n.key,
			PeerClient: tn.hc, Logger: testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n.node, n.cancel, n.done = node, cancel, make(chan error, 1)
		ln := lns[i]
		go func() { n.done <- node.Serve(ctx, ln) }()
		t.Cleanup(func() {
			n.cancel()
			if err := <-n.done; err != nil {
				t.Errorf("node %d: %v", n.index, err)
			}
			n.node.Close()
		})
	}
	return tn
}

// storedBlob is a blob stored on the test net and certified.
type storedBlob struct {
	data []byte
	id   codec.BlobID
	enc  *codec.Encoded
	rec  chain.BlobRecord
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// store encodes data, registers it for epochs epochs, uploads it to every
// node and certifies it with their confirmations.
func (tn *testNet) store(data []byte, epochs chain.Epoch, deletable bool) *storedBlob {
	tn.t.Helper()
	enc, err := tn.code.Encode(data)
	if err != nil {
		tn.t.Fatal(err)
	}
	return tn.storeEncoded(data, enc, epochs, deletable)
}

// storeEncoded stores slivers and metadata as given, consistent or not.
func (tn *testNet) storeEncoded(data []byte, enc *codec.Encoded, epochs chain.Epoch, deletable bool) *storedBlob {
	t := tn.t
	t.Helper()
	ctx := context.Background()
	md := &enc.Metadata.BlobMetadata
	id := md.BlobID()
	epoch, err := tn.ledger.CurrentEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size, err := chain.EncodedBlobLength(md.UnencodedLength, uint16(tn.nShards))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tn.ledger.Register(ctx, chain.RegisterRequest{
		BlobID: id, RootHash: chain.Hash(md.RootHash()), UnencodedSize: md.UnencodedLength,
		EncodingType: chain.EncodingRS2, EncodedSize: size, EndEpoch: epoch + epochs, Deletable: deletable,
	})
	if err != nil {
		t.Fatal(err)
	}
	var signers []uint16
	var sigs []bls.Signature
	var msg []byte
	for i, n := range tn.nodes {
		if err := n.client.PutMetadata(ctx, id, md); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		for _, s := range tn.committee.Nodes[i].Shards {
			p := codec.PairForShard(id, int(s), tn.nShards)
			pr, sc := enc.Pair(p)
			for _, sl := range []*codec.Sliver{pr, sc} {
				if err := n.client.PutSliver(ctx, id, uint16(p), sl); err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
			}
		}
		signed, err := n.client.Confirmation(ctx, id, rec.Persistence())
		if err != nil {
			t.Fatalf("node %d: confirmation: %v", i, err)
		}
		msg = signed.SerializedMessage
		signers = append(signers, uint16(i))
		sigs = append(sigs, signed.Signature)
	}
	cert, err := chain.NewCertificate(signers, msg, sigs)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err = tn.ledger.Certify(ctx, rec.ObjectID, cert); err != nil {
		t.Fatal(err)
	}
	return &storedBlob{data: data, id: id, enc: enc, rec: rec}
}

// ownerOfPrimary returns the node holding primary sliver i of the blob.
func (tn *testNet) ownerOfPrimary(id codec.BlobID, i int) int {
	n, _ := tn.committee.NodeForShard(uint16(codec.ShardForPair(id, i, tn.nShards)))
	return n
}

// directDial is a Config.Dial that reaches the nodes without their proxies
// (benchmarks: the proxies would double the bytes copied), except the
// nodes in down, which refuse connections.
func (tn *testNet) directDial(down ...int) func(chain.NodeInfo) (SliverSource, error) {
	urls := map[string]string{}
	for _, n := range tn.nodes {
		urls[n.proxy.srv.URL] = n.direct
	}
	for _, i := range down {
		urls[tn.nodes[i].proxy.srv.URL] = "http://127.0.0.1:1"
	}
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	return func(node chain.NodeInfo) (SliverSource, error) {
		return nodeclient.New(urls[node.RESTURL], nodeclient.WithHTTPClient(hc))
	}
}

// setAll puts every proxy in mode.
func (tn *testNet) setAll(mode int32) {
	for _, n := range tn.nodes {
		n.proxy.set(mode)
	}
}

func (tn *testNet) sliverRequests() int64 {
	var s int64
	for _, n := range tn.nodes {
		s += n.proxy.slivers.Load()
	}
	return s
}

// testAggregator is an aggregator serving on loopback.
type testAggregator struct {
	*Aggregator
	url    string
	cancel context.CancelFunc
	done   chan error
}

// newAggregator serves an aggregator for the net until the test ends.
func (tn *testNet) newAggregator(tune func(*Config)) *testAggregator {
	t := tn.t
	t.Helper()
	cfg := Config{Ledger: tn.ledger, Logger: testLogger(t), HedgeDelay: 300 * time.Millisecond, DiskCacheDir: t.TempDir()}
	if tune != nil {
		tune(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testAggregator{Aggregator: a, url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Serve(ctx, ln) }()
	t.Cleanup(ta.stop)
	return ta
}

func (ta *testAggregator) stop() {
	if ta.cancel == nil {
		return
	}
	ta.cancel()
	<-ta.done
	ta.Close()
	ta.cancel = nil
}

// flush waits for the reconstructions and cache writes under way.
func (a *Aggregator) flush() {
	for {
		a.flightsMu.Lock()
		n := len(a.flights)
		a.flightsMu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range maxPendingDiskWrites {
		a.diskWrites <- struct{}{}
	}
	for range maxPendingDiskWrites {
		<-a.diskWrites
	}
}

// dropCaches empties both caches (cold reads in tests and benchmarks).
func (a *Aggregator) dropCaches() {
	a.flush()
	a.mem.clear()
	if a.disk != nil {
		a.disk.mu.Lock()
		var ids []codec.BlobID
		for id := range a.disk.items {
			ids = append(ids, id)
		}
		a.disk.mu.Unlock()
		for _, id := range ids {
			a.disk.remove(id, "test")
		}
	}
}

// get sends a request and returns the answer with its body read.
func get(t testing.TB, method, u string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, u, err)
	}
	return resp, body
}

// envelope is Walrus's error body.
type envelope struct {
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

// wantError checks an answer's status and error envelope.
func wantError(t testing.TB, resp *http.Response, body []byte, code int, reason string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d (body %.300s)", resp.StatusCode, code, body)
	}
	if reason == "" {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("body %.300q is not the error envelope: %v", body, err)
	}
	if env.Error.Code != code || len(env.Error.Details) == 0 || env.Error.Details[0].Reason != reason ||
		env.Error.Details[0].Domain != "daemon.walrus.space" {
		t.Fatalf("envelope %+v, want code %d reason %s in daemon.walrus.space", env.Error, code, reason)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q", ct)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
