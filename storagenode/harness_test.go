package storagenode

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/chain/local"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
)

// testNet is a committee of nodes on loopback, following one local ledger.
type testNet struct {
	t         testing.TB
	ledger    *local.Ledger
	regs      []chain.NodeRegistration
	nodes     []*testNode
	nShards   int
	code      codec.Config
	committee chain.Committee
	hc        *http.Client
}

type testNode struct {
	index  int
	key    *bls.PrivateKey
	dir    string
	url    string // as the committee lists it (a proxy's for a liar)
	ln     net.Listener
	node   *Node
	client *nodeclient.Client
	cancel context.CancelFunc
	done   chan error

	lastAddr string // the API's address while stopped
}

type netOptions struct {
	// liars are nodes reached (by peers and clients) through a proxy that
	// corrupts every recovery symbol they serve.
	liars map[int]bool
	// slow are nodes reached through a proxy that answers recovery-symbol
	// requests late (so that a liar answers first).
	slow map[int]bool
	// down are nodes not started.
	down map[int]bool
	tune func(*Config)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newTestNet starts len(shardsPerNode) nodes, node i holding
// shardsPerNode[i] consecutive shards.
func newTestNet(t testing.TB, opts netOptions, shardsPerNode ...int) *testNet {
	t.Helper()
	tn := &testNet{t: t, hc: nodeclient.NewHTTPClient(nodeclient.TransportOptions{})}
	next := 0
	for i, count := range shardsPerNode {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tnode := &testNode{index: i, key: chaintest.NodeKey(i), dir: t.TempDir(), ln: ln, url: "http://" + ln.Addr().String()}
		switch {
		case opts.liars[i]:
			tnode.url = lyingProxy(t, tnode.url)
		case opts.slow[i]:
			tnode.url = slowProxy(t, tnode.url)
		}
		info := chain.NodeInfo{ID: chaintest.NodeID(i), Name: fmt.Sprintf("node-%d", i), RESTURL: tnode.url}
		for range count {
			info.Shards = append(info.Shards, uint16(next))
			next++
		}
		tn.regs = append(tn.regs, chain.NewNodeRegistration(tnode.key, info, 0))
		tn.nodes = append(tn.nodes, tnode)
	}
	tn.nShards = next
	var err error
	if tn.code, err = codec.NewConfig(next); err != nil {
		t.Fatal(err)
	}
	tn.ledger, err = local.Open(t.Context(), local.Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: tn.regs, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.ledger.Close() })
	if tn.committee, err = tn.ledger.CurrentCommittee(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, n := range tn.nodes {
		if n.client, err = nodeclient.New(n.url, nodeclient.WithHTTPClient(tn.hc)); err != nil {
			t.Fatal(err)
		}
		if opts.down[n.index] {
			continue
		}
		tn.start(n, opts.tune)
	}
	return tn
}

func (tn *testNet) config(n *testNode, tune func(*Config)) Config {
	cfg := Config{
		Dir: n.dir, Ledger: tn.ledger, NodeID: chaintest.NodeID(n.index), Key: n.key,
		RecoveryDelay: 50 * time.Millisecond, RecoveryBackoff: 50 * time.Millisecond, RecoveryMaxBackoff: 500 * time.Millisecond,
		SweepInterval: time.Second, PeerClient: tn.hc, Logger: testLogger(tn.t),
	}
	if tune != nil {
		tune(&cfg)
	}
	return cfg
}

// start opens and serves node n (again, after stop).
func (tn *testNet) start(n *testNode, tune func(*Config)) {
	t := tn.t
	t.Helper()
	if n.ln == nil { // restarting: the same address again
		var err error
		if n.ln, err = net.Listen("tcp", n.lastAddr); err != nil {
			t.Fatal(err)
		}
	}
	node, err := New(t.Context(), tn.config(n, tune))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.node, n.cancel, n.done = node, cancel, make(chan error, 1)
	ln := n.ln
	go func() { n.done <- node.Serve(ctx, ln) }()
	t.Cleanup(func() { tn.stop(n) })
}

// stop stops node n and closes its store.
func (tn *testNet) stop(n *testNode) {
	if n.node == nil {
		return
	}
	n.lastAddr = n.ln.Addr().String()
	n.cancel()
	if err := <-n.done; err != nil {
		tn.t.Errorf("node %d: serve: %v", n.index, err)
	}
	if err := n.node.Close(); err != nil {
		tn.t.Errorf("node %d: close: %v", n.index, err)
	}
	n.node, n.ln = nil, nil
}

// pairsOf returns the sliver pairs node i holds for the blob.
func (tn *testNet) pairsOf(i int, id codec.BlobID) []uint16 {
	var out []uint16
	for _, s := range tn.committee.Nodes[i].Shards {
		out = append(out, uint16(codec.PairForShard(id, int(s), tn.nShards)))
	}
	return out
}

// ownerOf returns the node holding pair p of the blob.
func (tn *testNet) ownerOf(id codec.BlobID, p uint16) int {
	i, _ := tn.committee.NodeForShard(uint16(codec.ShardForPair(id, int(p), tn.nShards)))
	return i
}

// blob is a blob encoded for the test net and registered on its ledger.
type blob struct {
	data []byte
	enc  *codec.Encoded
	id   codec.BlobID
	rec  chain.BlobRecord
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// register encodes data and registers it for epochs epochs.
func (tn *testNet) register(data []byte, epochs chain.Epoch, deletable bool) *blob {
	t := tn.t
	t.Helper()
	enc, err := tn.code.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	epoch, err := tn.ledger.CurrentEpoch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// chain.EncodedBlobLength, not codec's EncodedLength: Walrus (and the
	// ledger) count the metadata once per shard.
	size, err := chain.EncodedBlobLength(uint64(len(data)), uint16(tn.nShards))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tn.ledger.Register(t.Context(), chain.RegisterRequest{
		BlobID: enc.Metadata.ID, RootHash: chain.Hash(enc.Metadata.RootHash()), UnencodedSize: uint64(len(data)),
		EncodingType: chain.EncodingRS2, EncodedSize: size, EndEpoch: epoch + epochs, Deletable: deletable,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &blob{data: data, enc: enc, id: enc.Metadata.ID, rec: rec}
}

// slivers returns the batch of node i's slivers of b.
func (tn *testNet) slivers(i int, b *blob) []nodeclient.BatchSliver {
	var out []nodeclient.BatchSliver
	for _, p := range tn.pairsOf(i, b.id) {
		pr, sc := b.enc.Pair(int(p))
		out = append(out, nodeclient.BatchSliver{Pair: p, Sliver: pr}, nodeclient.BatchSliver{Pair: p, Sliver: sc})
	}
	return out
}

// upload sends metadata and slivers of b to node i, by the batch route or
// one sliver at a time.
func (tn *testNet) upload(i int, b *blob, batch bool) {
	t := tn.t
	t.Helper()
	c := tn.nodes[i].client
	if err := c.PutMetadata(t.Context(), b.id, &b.enc.Metadata.BlobMetadata); err != nil {
		t.Fatalf("node %d: %v", i, err)
	}
	sl := tn.slivers(i, b)
	if batch {
		res, err := c.PutSlivers(t.Context(), b.id, sl)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if res.Stored+res.AlreadyStored != len(sl) {
			t.Fatalf("node %d: batch result %+v for %d slivers", i, res, len(sl))
		}
		return
	}
	for _, s := range sl {
		if err := c.PutSliver(t.Context(), b.id, s.Pair, s.Sliver); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
}

// confirm collects node i's confirmation of b and checks it.
func (tn *testNet) confirm(i int, b *blob) chain.SignedMessage {
	t := tn.t
	t.Helper()
	signed, err := tn.nodes[i].client.Confirmation(t.Context(), b.id, b.rec.Persistence())
	if err != nil {
		t.Fatalf("node %d: %v", i, err)
	}
	if err := signed.Verify(tn.committee.Nodes[i].PublicKey); err != nil {
		t.Fatalf("node %d: confirmation signature: %v", i, err)
	}
	conf, err := chain.ParseStorageConfirmation(signed.SerializedMessage)
	if err != nil {
		t.Fatal(err)
	}
	epoch, _ := tn.ledger.CurrentEpoch(t.Context())
	if conf.BlobID != b.id || conf.Epoch != epoch || conf.Persistence != b.rec.Persistence() {
		t.Fatalf("node %d: confirmation %+v, want blob %s epoch %d %s", i, conf, b.id, epoch, b.rec.Persistence())
	}
	return signed
}

// certify builds a certificate from the confirmations of nodes and
// certifies b on the ledger.
func (tn *testNet) certify(b *blob, nodes ...int) error {
	tn.t.Helper()
	nodes = slices.Sorted(slices.Values(nodes))
	var signers []uint16
	var sigs []bls.Signature
	var msg []byte
	for _, i := range nodes {
		s := tn.confirm(i, b)
		if msg == nil {
			msg = s.SerializedMessage
		}
		signers = append(signers, uint16(i))
		sigs = append(sigs, s.Signature)
	}
	cert, err := chain.NewCertificate(signers, msg, sigs)
	if err != nil {
		return err
	}
	rec, err := tn.ledger.Certify(tn.t.Context(), b.rec.ObjectID, cert)
	if err == nil {
		b.rec = rec
	}
	return err
}

// store registers, uploads to the nodes not in skip, and certifies with
// their confirmations.
func (tn *testNet) store(data []byte, epochs chain.Epoch, deletable bool, skip ...int) *blob {
	tn.t.Helper()
	b := tn.register(data, epochs, deletable)
	var signers []int
	for i := range tn.nodes {
		if slices.Contains(skip, i) {
			continue
		}
		tn.upload(i, b, i%2 == 0)
		signers = append(signers, i)
	}
	if err := tn.certify(b, signers...); err != nil {
		tn.t.Fatal(err)
	}
	return b
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantReason checks that err is the node's error envelope with the reason
// and HTTP status.
func wantReason(t *testing.T, err error, reason string, code int) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v: want reason %s", err, reason)
	}
	if ae.Reason != reason || ae.Code() != code {
		t.Fatalf("error %v: reason %s (%d), want %s (%d)", err, ae.Reason, ae.Code(), reason, code)
	}
	if reason != reasonUnavailable && ae.Domain != apierr.DomainStorage {
		t.Fatalf("error %v: domain %q", err, ae.Domain)
	}
}

// lyingProxy serves target's API, but corrupts every recovery symbol and
// every metadata it serves.
func lyingProxy(t testing.TB, target string) string {
	return proxy(t, target, 0, func(path string, body []byte) []byte {
		switch {
		case strings.HasSuffix(path, "/recoverySymbols"):
			syms, err := nodeclient.UnmarshalRecoverySymbols(body)
			if err != nil {
				return body
			}
			for i := range syms {
				syms[i].Data[0] ^= 0xff
			}
			return nodeclient.MarshalRecoverySymbols(syms)
		case strings.HasSuffix(path, "/metadata"):
			md, err := codec.UnmarshalMetadataWithIDBCS(body)
			if err != nil {
				return body
			}
			md.Hashes[0].Primary.Digest[0] ^= 0xff
			return md.MarshalBCS()
		}
		return body
	})
}

// slowProxy serves target's API, answering recovery-symbol requests late.
func slowProxy(t testing.TB, target string) string {
	return proxy(t, target, 300*time.Millisecond, nil)
}

// proxy forwards to target; recovery-symbol answers wait delay, and
// rewrite (if set) changes successful bodies.
func proxy(t testing.TB, target string, delay time.Duration, rewrite func(path string, body []byte) []byte) string {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rp.ModifyResponse = func(resp *http.Response) error {
		if delay > 0 && strings.HasSuffix(resp.Request.URL.Path, "/recoverySymbols") {
			time.Sleep(delay)
		}
		if resp.StatusCode != http.StatusOK || rewrite == nil {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		out := rewrite(resp.Request.URL.Path, body)
		resp.Body = io.NopCloser(bytes.NewReader(out))
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}
