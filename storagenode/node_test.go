package storagenode

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode/store"
)

func TestStoreAndReadBack(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 3, 3, 2, 2)
	ctx := t.Context()
	data := randomBytes(t, 100_000)
	b := tn.store(data, 3, false)

	var primaries []*codec.Sliver
	for i, n := range tn.nodes {
		md, err := n.client.GetMetadata(ctx, b.id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := md.Verify(b.id); err != nil {
			t.Fatalf("node %d: metadata: %v", i, err)
		}
		if st, err := n.client.MetadataStatus(ctx, b.id); err != nil || st != nodeclient.Stored {
			t.Fatalf("node %d: metadata status %q, %v", i, st, err)
		}
		for _, p := range tn.pairsOf(i, b.id) {
			for _, a := range []codec.Axis{codec.Primary, codec.Secondary} {
				s, err := n.client.GetSliver(ctx, b.id, p, a)
				if err != nil {
					t.Fatal(err)
				}
				if err := tn.code.VerifySliver(&md.BlobMetadata, s); err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
				want, _ := b.enc.Pair(int(p))
				if a == codec.Secondary {
					_, want = b.enc.Pair(int(p))
				}
				if !bytes.Equal(s.Data, want.Data) || s.Index != want.Index {
					t.Fatalf("node %d: %s sliver %d differs", i, a, p)
				}
				if st, err := n.client.SliverStatus(ctx, b.id, p, a); err != nil || st != nodeclient.Stored {
					t.Fatalf("node %d: sliver status %q, %v", i, st, err)
				}
				if a == codec.Primary {
					primaries = append(primaries, s)
				}
			}
		}
	}
	got, err := tn.code.Decode(&b.enc.Metadata.BlobMetadata, primaries, nil, codec.ConsistencyStrict)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("decoded blob differs")
	}

	st, err := tn.nodes[0].client.BlobStatus(ctx, b.id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Kind != chain.StatusPermanent || !st.IsCertified || st.EndEpoch != b.rec.EndEpoch {
		t.Fatalf("blob status %+v", st)
	}
	h, err := tn.nodes[1].client.Health(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if h.PublicKey != tn.committee.Nodes[1].PublicKey || h.ShardSummary.Owned != 3 || h.ShardDetail == nil || len(h.ShardDetail.Owned) != 3 {
		t.Fatalf("health %+v", h)
	}
	// Storing again is idempotent: 200, nothing new.
	res, err := tn.nodes[0].client.PutSlivers(ctx, b.id, tn.slivers(0, b))
	if err != nil || res.Stored != 0 || res.AlreadyStored != 6 {
		t.Fatalf("batch again: %+v, %v", res, err)
	}
}

func TestRecoverySymbolsServed(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 2, 2, 2, 2)
	ctx := t.Context()
	b := tn.store(randomBytes(t, 20_000), 3, false)
	md := &b.enc.Metadata.BlobMetadata
	// Symbols towards primary sliver 5 from node 0's secondary slivers.
	syms, err := tn.nodes[0].client.RecoverySymbols(ctx, b.id, codec.Primary, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(syms) != 2 {
		t.Fatalf("%d symbols, want one per shard", len(syms))
	}
	for i := range syms {
		if err := tn.code.VerifyRecoverySymbol(md, &syms[i]); err != nil || syms[i].Target != codec.Primary || syms[i].TargetIndex != 5 {
			t.Fatalf("symbol %+v: %v", syms[i], err)
		}
	}
	// By ID: the symbol at primary p, secondary s, from whichever sliver
	// node 0 holds.
	p := tn.pairsOf(0, b.id)[0]
	ids := []nodeclient.SymbolID{{Primary: p, Secondary: 3}}
	syms, err = tn.nodes[0].client.RecoverySymbolsByID(ctx, b.id, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(syms) != 1 || syms[0].Source != p || syms[0].Target != codec.Secondary || syms[0].TargetIndex != 3 {
		t.Fatalf("symbols by ID: %+v", syms)
	}
	if err := tn.code.VerifyRecoverySymbol(md, &syms[0]); err != nil {
		t.Fatal(err)
	}
	// Every node's symbols together rebuild any sliver.
	var all []codec.RecoverySymbol
	for _, n := range tn.nodes {
		s, err := n.client.RecoverySymbols(ctx, b.id, codec.Secondary, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s...)
	}
	sl, err := tn.code.RecoverSliver(md, codec.Secondary, 2, all)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sl.Data, b.enc.Secondary[2].Data) {
		t.Fatal("recovered sliver differs")
	}
	// A proof axis that cannot serve the target is an invalid filter.
	pa := codec.Primary
	_, err = tn.nodes[0].client.RecoverySymbolsByID(ctx, b.id, []nodeclient.SymbolID{{Primary: 70, Secondary: 1}}, &pa)
	wantReason(t, err, reasonIndexOutOfRange, 400)
}

func TestConfirmationCertifiesBlob(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 3, 3, 2, 2)
	ctx := t.Context()
	for _, deletable := range []bool{false, true} {
		b := tn.register(randomBytes(t, 5000), 2, deletable)
		// Before the slivers: no confirmation.
		if err := tn.nodes[0].client.PutMetadata(ctx, b.id, &b.enc.Metadata.BlobMetadata); err != nil {
			t.Fatal(err)
		}
		_, err := tn.nodes[0].client.Confirmation(ctx, b.id, b.rec.Persistence())
		wantReason(t, err, reasonMissingSlivers, 400)
		// Half the slivers: still none.
		sl := tn.slivers(0, b)
		if _, err := tn.nodes[0].client.PutSlivers(ctx, b.id, sl[:len(sl)-1]); err != nil {
			t.Fatal(err)
		}
		_, err = tn.nodes[0].client.Confirmation(ctx, b.id, b.rec.Persistence())
		wantReason(t, err, reasonMissingSlivers, 400)
		// The wrong persistence type: not registered as such.
		other := chain.PersistencePermanent()
		if !deletable {
			other = chain.PersistenceDeletable(b.rec.ObjectID)
		}
		_, err = tn.nodes[0].client.Confirmation(ctx, b.id, other)
		wantReason(t, err, reasonNotRegistered, 400)

		for i := range tn.nodes {
			tn.upload(i, b, true)
		}
		// Too few signers: the ledger refuses.
		if err := tn.certify(b, 0, 1); !errors.Is(err, chain.ErrInsufficientSigners) {
			t.Fatalf("certify with nodes 0, 1: %v", err)
		}
		// Nodes 0, 1 and 2 hold 8 of 10 shards, a quorum of 7.
		if err := tn.certify(b, 0, 1, 2); err != nil {
			t.Fatal(err)
		}
		st, err := tn.ledger.BlobStatus(ctx, b.id)
		if err != nil {
			t.Fatal(err)
		}
		if !st.AnyCertified() {
			t.Fatalf("status after certification: %+v", st)
		}
	}
}

func TestExpiryAndDeletionDropBlobs(t *testing.T) {
	tn := newTestNet(t, netOptions{}, 8)
	ctx := t.Context()
	n := tn.nodes[0]
	// The store gives back whole blob files: flush the live blob's slivers
	// to their own before the ones to drop arrive.
	long := tn.store(randomBytes(t, 400_000), 3, false)
	if err := n.node.store.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	short := tn.store(randomBytes(t, 400_000), 1, false)
	del := tn.store(randomBytes(t, 400_000), 3, true)
	if err := n.node.store.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := n.node.store.Usage()
	if err != nil {
		t.Fatal(err)
	}

	if _, err := tn.ledger.Delete(ctx, del.rec.ObjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.ledger.AdvanceEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	gone := func(b *blob) bool {
		has, err := n.node.store.HasMetadata(ctx, b.id)
		return err == nil && !has
	}
	eventually(t, 5*time.Second, "expired and deleted blobs dropped", func() bool { return gone(short) && gone(del) })
	for _, b := range []*blob{short, del} {
		_, err := n.client.GetMetadata(ctx, b.id)
		wantReason(t, err, reasonMetadataNotFound, 404)
		_, err = n.client.GetSliver(ctx, b.id, tn.pairsOf(0, b.id)[0], codec.Primary)
		wantReason(t, err, reasonSliverNotFound, 404)
		if st, err := n.client.SliverStatus(ctx, b.id, 0, codec.Primary); err != nil || st != nodeclient.Nonexistent {
			t.Fatalf("sliver status %q, %v", st, err)
		}
		if have, err := n.node.store.ListSlivers(ctx, b.id); err != nil || len(have) != 0 {
			t.Fatalf("slivers left: %v, %v", have, err)
		}
		// An expired or deleted blob takes no more uploads.
		err = n.client.PutMetadata(ctx, b.id, &b.enc.Metadata.BlobMetadata)
		wantReason(t, err, reasonNotRegistered, 400)
	}
	if _, err := n.client.GetMetadata(ctx, long.id); err != nil {
		t.Fatalf("the live blob: %v", err)
	}
	// Pebble deletes obsolete files in the background after compacting.
	if err := n.node.store.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	var after store.Usage
	eventually(t, 10*time.Second, "space reclaimed", func() bool {
		after, err = n.node.store.Usage()
		return err == nil && after.BlobFileBytes < before.BlobFileBytes/2
	})
	t.Logf("blob files: %d bytes before, %d after", before.BlobFileBytes, after.BlobFileBytes)

	// After a restart the node still knows what it dropped and what it keeps.
	tn.stop(n)
	tn.start(n, nil)
	if _, err := n.client.GetMetadata(ctx, long.id); err != nil {
		t.Fatalf("the live blob after restart: %v", err)
	}
	_, err = n.client.GetMetadata(ctx, short.id)
	wantReason(t, err, reasonMetadataNotFound, 404)
}

func TestNodeThatMissedABlobHealsWhileAPeerLies(t *testing.T) {
	// Node 3 is down during the upload; node 1 (3 of 10 shards: f) serves
	// corrupt recovery symbols. Node 3 must rebuild its 4 slivers from the
	// honest 5 shards of nodes 0 and 2, then its own recovered ones.
	tn := newTestNet(t, netOptions{liars: map[int]bool{1: true}, slow: map[int]bool{0: true, 2: true}, down: map[int]bool{3: true}}, 3, 3, 2, 2)
	ctx := t.Context()
	b := tn.store(randomBytes(t, 300_000), 3, false, 3)
	n3 := tn.nodes[3]
	tn.start(n3, nil)
	eventually(t, 20*time.Second, "node 3 recovers its slivers", func() bool {
		_, err := n3.client.Confirmation(ctx, b.id, b.rec.Persistence())
		return err == nil
	})
	for _, p := range tn.pairsOf(3, b.id) {
		pr, sc := b.enc.Pair(int(p))
		for _, want := range []*codec.Sliver{pr, sc} {
			got, err := n3.client.GetSliver(ctx, b.id, p, want.Axis)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("recovered %s sliver of pair %d differs", want.Axis, p)
			}
		}
	}
	md, err := n3.client.GetMetadata(ctx, b.id)
	if err != nil || md.ID != b.id {
		t.Fatalf("recovered metadata: %v", err)
	}
	if got := counterValue(t, n3.node.metrics.lyingPeers.WithLabelValues("node-1")); got == 0 {
		t.Fatal("the lying peer was not noticed")
	}
	tn.confirm(3, b)
}

func TestTLSAndH2C(t *testing.T) {
	tn := newTestNet(t, netOptions{down: map[int]bool{0: true}}, 4)
	n := tn.nodes[0]
	tn.start(n, func(c *Config) { c.TLS.Enabled = true })
	cert := n.node.Certificate()
	if cert == nil {
		t.Fatal("no certificate")
	}
	pool := x509CertPool(cert)
	hc := nodeclient.NewHTTPClient(nodeclient.TransportOptions{TLSConfig: tlsConfig(pool)})
	resp, err := hc.Get("https://" + n.ln.Addr().String() + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("over TLS: %s %s", resp.Proto, resp.Status)
	}
	c, err := nodeclient.New("https://"+n.ln.Addr().String(), nodeclient.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Health(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	// The generated certificate survives a restart.
	tn.stop(n)
	tn.start(n, func(c *Config) { c.TLS.Enabled = true })
	if !n.node.Certificate().Equal(cert) {
		t.Fatal("a new certificate after restart")
	}

	// Plain text: HTTP/2 with prior knowledge.
	tn2 := newTestNet(t, netOptions{}, 4)
	h2c := nodeclient.NewHTTPClient(nodeclient.TransportOptions{H2C: true})
	resp, err = h2c.Get(tn2.nodes[0].url + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("h2c: %s", resp.Proto)
	}
	c2, _ := nodeclient.New(tn2.nodes[0].url, nodeclient.WithHTTPClient(h2c))
	b := tn2.register(randomBytes(t, 10_000), 2, false)
	if err := c2.PutMetadata(t.Context(), b.id, &b.enc.Metadata.BlobMetadata); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.PutSlivers(t.Context(), b.id, tn2.slivers(0, b)); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsListener(t *testing.T) {
	tn := newTestNet(t, netOptions{down: map[int]bool{0: true}}, 4)
	n := tn.nodes[0]
	addr := freeAddr(t)
	tn.start(n, func(c *Config) { c.MetricsAddr = addr })
	if _, err := n.client.Health(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "metrics served", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode == 200 && bytes.Contains(buf.Bytes(), []byte(`haulout_node_http_requests_total{code="200",method="GET",route="/v1/health"} 1`)) &&
			bytes.Contains(buf.Bytes(), []byte("haulout_node_store_disk_bytes"))
	})
}
