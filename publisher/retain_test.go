package publisher

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher/jobs"
)

// slowNode refuses slivers, after a delay, until its gate opens: a node
// too busy to take them for a while.
type slowNode struct {
	Node
	gate  <-chan struct{}
	delay time.Duration
}

func (s slowNode) PutSlivers(ctx context.Context, id codec.BlobID, sl []nodeclient.BatchSliver) (nodeclient.BatchResult, error) {
	select {
	case <-s.gate:
		return s.Node.PutSlivers(ctx, id, sl)
	case <-time.After(s.delay):
		return nodeclient.BatchResult{}, errors.New("node busy")
	case <-ctx.Done():
		return nodeclient.BatchResult{}, ctx.Err()
	}
}

// After certification an in-memory job holds only the slivers of the
// node still being served, and gives the rest of its encode budget back;
// the slow node still gets all of its slivers.
func TestCertifiedKeepsOnlySlowNodesSlivers(t *testing.T) {
	t.Parallel()
	tn := newTestNet(t, netOptions{}, testShards...)
	st := openStore(t, newStoreSpec(t, "sqlite"))
	cfg := testConfig(t, tn, st, t.TempDir())
	cfg.NodeAttempts = 1000 // the slow node is retried until its gate opens
	gate := make(chan struct{})
	const slow = 0 // two shards of ten: the others make a quorum
	cfg.Dial = func(n chain.NodeInfo) (Node, error) {
		c, err := nodeclient.New(n.RESTURL, nodeclient.WithHTTPClient(tn.hc))
		if n.ID == chaintest.NodeID(slow) {
			return slowNode{Node: c, gate: gate, delay: 30 * time.Millisecond}, err
		}
		return c, err
	}
	tp := startPublisher(t, cfg)
	ctx := context.Background()

	blob := randomBlob(t, 300_000)
	code, body, hdr := put(t, tp.url, "/v1/blobs", bytes.NewReader(blob), nil)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	enc, err := tn.code.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	var full, slowBytes int64
	for _, sls := range [][]codec.Sliver{enc.Primary, enc.Secondary} {
		for i := range sls {
			full += int64(len(sls[i].Data))
		}
	}
	slowShards := tn.committee.Nodes[slow].Shards
	for _, s := range slowShards {
		pair := codec.PairForShard(enc.Metadata.ID, int(s), tn.nShards)
		p, s := enc.Pair(pair)
		slowBytes += int64(len(p.Data) + len(s.Data))
	}

	// Certified: the budget falls to the slow node's slivers.
	deadline := time.Now().Add(20 * time.Second)
	for tp.mem.used.Load() != slowBytes {
		if time.Now().After(deadline) {
			t.Fatalf("encode budget in use %d bytes after certification, want the slow node's %d (all slivers: %d)", tp.mem.used.Load(), slowBytes, full)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("slivers held: %d bytes at certification, %d after (the slow node's)", full, slowBytes)
	j, err := st.Get(ctx, hdr.Get(jobHeader))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateCertified {
		t.Errorf("job %s before the slow node is served", j.State)
	}
	for _, n := range j.Nodes {
		if (n.Node == chaintest.NodeID(slow).String()) != (n.State == jobs.NodePending) {
			t.Errorf("node %s: %s", n.Node, n.State)
		}
	}

	close(gate)
	j = waitJob(t, st, j.ID, 30*time.Second, "done", func(j jobs.Job) bool { return j.State == jobs.StateDone })
	for _, n := range j.Nodes {
		if n.State != jobs.NodeSent && n.State != jobs.NodeConfirmed {
			t.Errorf("node %s: %s", n.Node, n.State)
		}
	}
	if u := tp.mem.used.Load(); u != 0 {
		t.Errorf("encode budget in use %d bytes after the job is done", u)
	}
	client := tn.nodes[slow].client
	for _, s := range slowShards {
		pair := codec.PairForShard(enc.Metadata.ID, int(s), tn.nShards)
		wantP, wantS := enc.Pair(pair)
		for _, want := range []*codec.Sliver{wantP, wantS} {
			got, err := client.GetSliver(ctx, enc.Metadata.ID, uint16(pair), want.Axis)
			if err != nil || !bytes.Equal(got.Data, want.Data) {
				t.Errorf("slow node, pair %d %s sliver: %v (equal %v)", pair, want.Axis, err, err == nil && bytes.Equal(got.Data, want.Data))
			}
		}
	}
}

// newMemEncoded encodes blob in memory as a job does, its budget taken
// from p.
func newMemEncoded(t testing.TB, p *Publisher, code codec.Config, blob []byte) *encoded {
	enc, err := code.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	held, err := p.mem.acquire(context.Background(), encodeMemory(code, int64(len(blob))))
	if err != nil {
		t.Fatal(err)
	}
	e := &encoded{Metadata: enc.Metadata, p: p, mem: enc, held: held}
	for _, sls := range [][]codec.Sliver{enc.Primary, enc.Secondary} {
		for i := range sls {
			e.full += int64(len(sls[i].Data))
		}
	}
	e.mu.Lock()
	e.settle()
	e.mu.Unlock()
	return e
}

func flatRefs(e *encoded, shards []uint16, n int) []sliverRef {
	var out []sliverRef
	for _, b := range splitBatches(e, shards, n, 1<<30) {
		out = append(out, b...)
	}
	return out
}

func refBytes(refs []sliverRef) int64 {
	n := int64(0)
	for _, r := range refs {
		n += int64(r.size)
	}
	return n
}

// keepOnly keeps copies of the slow node's slivers; the codec's arrays,
// and the budget they took, go only once no batch in flight points into
// them.
func TestEncodedKeepOnly(t *testing.T) {
	code, err := codec.NewConfig(10)
	if err != nil {
		t.Fatal(err)
	}
	p := &Publisher{mem: newBudget(1 << 30), log: testLogger(t)}
	blob := randomBlob(t, 100_000)
	e := newMemEncoded(t, p, code, blob)
	ref, err := code.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	if u := p.mem.used.Load(); u != e.full {
		t.Fatalf("budget %d after encoding, want the slivers' %d", u, e.full)
	}
	slowRefs := flatRefs(e, []uint16{0, 1}, 10)
	otherRefs := flatRefs(e, []uint16{2}, 10)
	ctx := context.Background()

	inFlight, free, err := e.batch(ctx, otherRefs)
	if err != nil {
		t.Fatal(err)
	}
	e.drop(otherRefs) // before keepOnly: the arrays are shared, nothing goes
	e.keepOnly([][]sliverRef{slowRefs})
	if u, r := p.mem.used.Load(), e.retainedBytes(); u != e.full || r != e.full+refBytes(slowRefs) {
		t.Errorf("with a batch in flight: budget %d, retained %d; want %d and %d", u, r, e.full, e.full+refBytes(slowRefs))
	}
	if !bytes.Equal(inFlight[0].Sliver.Data, sliverOf(ref, otherRefs[0]).Data) {
		t.Error("the batch in flight changed")
	}
	free()
	free() // idempotent
	if u, r := p.mem.used.Load(), e.retainedBytes(); u != refBytes(slowRefs) || r != u {
		t.Errorf("after the batch: budget %d, retained %d; want %d", u, r, refBytes(slowRefs))
	}
	got, _, err := e.batch(ctx, slowRefs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range slowRefs {
		if want := sliverOf(ref, r); !bytes.Equal(got[i].Sliver.Data, want.Data) || got[i].Sliver.Index != want.Index || got[i].Pair != r.pair {
			t.Errorf("kept sliver %s %d differs", r.axis, r.index)
		}
	}
	if _, _, err := e.batch(ctx, otherRefs); err == nil {
		t.Error("a batch of slivers not kept was served")
	}
	e.drop(slowRefs)
	if u := p.mem.used.Load(); u != 0 {
		t.Errorf("budget %d after the slow node is done", u)
	}
	e.close()
	e.close()
	if u := p.mem.used.Load(); u != 0 {
		t.Errorf("budget %d after close", u)
	}
}

// sliverOf is sliver r of enc.
func sliverOf(enc *codec.Encoded, r sliverRef) *codec.Sliver {
	if r.axis == codec.Secondary {
		return &enc.Secondary[r.index]
	}
	return &enc.Primary[r.index]
}

// BenchmarkKeepOnlySlowNode reports the sliver memory a 32 MiB blob holds
// at 1000 shards on 7 nodes, before and after certification with one node
// (143 shards) still to serve: retained bytes, and the heap after a GC.
func BenchmarkKeepOnlySlowNode(b *testing.B) {
	const n, size = 1000, 32 << 20
	code, err := codec.NewConfig(n)
	if err != nil {
		b.Fatal(err)
	}
	blob := randomBlob(b, size)
	shards := make([]uint16, 143)
	for i := range shards {
		shards[i] = uint16(i)
	}
	heap := func() float64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapAlloc) / (1 << 20)
	}
	for b.Loop() {
		p := &Publisher{mem: newBudget(1 << 40), log: testLogger(b)}
		base := heap()
		e := newMemEncoded(b, p, code, blob)
		before, heapBefore := e.retainedBytes(), heap()-base
		e.keepOnly([][]sliverRef{flatRefs(e, shards, n)})
		after, heapAfter := e.retainedBytes(), heap()-base
		b.ReportMetric(float64(before)/(1<<20), "retained-before-MiB")
		b.ReportMetric(float64(after)/(1<<20), "retained-after-MiB")
		b.ReportMetric(heapBefore, "heap-before-MiB")
		b.ReportMetric(heapAfter, "heap-after-MiB")
		b.ReportMetric(float64(p.mem.used.Load())/(1<<20), "budget-after-MiB")
		e.close()
	}
}
