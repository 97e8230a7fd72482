package aggregator

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// fetchMetadata asks the committee's nodes for the blob's metadata,
// MetadataFanout at a time (more when they are slow), best nodes first,
// and returns the first that commits to the blob ID, with the nodes that
// sent metadata that does not (faulty for this read).
func (a *Aggregator) fetchMetadata(ctx context.Context, cv *committeeView, id codec.BlobID) (*codec.Metadata, codec.Config, map[string]bool, error) {
	nodes := order(a.nodes, slices.Clone(cv.Nodes), func(n chain.NodeInfo) string { return n.RESTURL })
	ctx, cancel := context.WithCancel(ctx)
	var requests sync.WaitGroup
	defer requests.Wait()
	defer cancel()
	type result struct {
		node chain.NodeInfo
		md   *codec.Metadata
		cfg  codec.Config
		err  error
		took time.Duration
	}
	results := make(chan result, len(nodes))
	next, inflight := 0, 0
	launch := func() {
		node := nodes[next]
		next++
		inflight++
		requests.Go(func() {
			start := time.Now()
			rctx, rcancel := context.WithTimeout(ctx, a.cfg.MetadataTimeout)
			defer rcancel()
			var md *codec.Metadata
			var cfg codec.Config
			c, err := a.nodes.client(node)
			if err == nil {
				md, err = c.GetMetadata(rctx, id)
			}
			if err == nil {
				cfg, err = checkMetadata(md, id, int(cv.NShards))
			}
			results <- result{node, md, cfg, err, time.Since(start)}
		})
	}
	for inflight < a.cfg.MetadataFanout && next < len(nodes) {
		launch()
	}
	hedge := time.NewTimer(a.cfg.HedgeDelay)
	defer hedge.Stop()
	faulty := make(map[string]bool)
	var errs []error
	for inflight > 0 {
		select {
		case r := <-results:
			inflight--
			if r.err == nil {
				a.nodes.observe(r.node.RESTURL, r.took, true)
				a.metrics.metadataFetches.WithLabelValues("ok").Inc()
				return r.md, r.cfg, faulty, nil
			}
			if ctx.Err() != nil {
				return nil, codec.Config{}, nil, ctx.Err()
			}
			a.nodes.observe(r.node.RESTURL, r.took, false)
			if errors.Is(r.err, codec.ErrInvalidMetadata) || errors.Is(r.err, codec.ErrBlobIDMismatch) {
				faulty[r.node.RESTURL] = true
				a.metrics.metadataFetches.WithLabelValues("invalid").Inc()
				a.log.Warn("node sent metadata that does not match the blob ID", "blob_id", id, "node", r.node.Name, "url", r.node.RESTURL, "err", r.err)
			} else {
				a.metrics.metadataFetches.WithLabelValues("error").Inc()
			}
			errs = append(errs, fmt.Errorf("node %s: %w", r.node.Name, r.err))
			if next < len(nodes) {
				launch()
			}
		case <-hedge.C:
			if next < len(nodes) {
				launch()
				hedge.Reset(a.cfg.HedgeDelay)
			}
		case <-ctx.Done():
			return nil, codec.Config{}, nil, ctx.Err()
		}
	}
	return nil, codec.Config{}, nil, fmt.Errorf("%w: %w", errNoMetadata, errors.Join(errs...))
}

// checkMetadata checks that md commits to id and fits the committee.
func checkMetadata(md *codec.Metadata, id codec.BlobID, nShards int) (codec.Config, error) {
	if md == nil {
		return codec.Config{}, fmt.Errorf("%w: empty answer", codec.ErrInvalidMetadata)
	}
	if md.ID != id {
		return codec.Config{}, fmt.Errorf("%w: metadata of blob %s", codec.ErrBlobIDMismatch, md.ID)
	}
	cfg, err := md.Verify(id)
	if err != nil {
		return codec.Config{}, err
	}
	if cfg.NShards() != nShards {
		return codec.Config{}, fmt.Errorf("%w: %d shards, the committee has %d", codec.ErrInvalidMetadata, cfg.NShards(), nShards)
	}
	return cfg, nil
}

// sliverState is where one primary sliver is in a reconstruction.
type sliverState int

const (
	sliverIdle     sliverState = iota
	sliverFetching             // a request is in flight
	sliverFetched              // its bytes arrived and wait to be checked
	sliverValid                // it matches the metadata
	sliverFailed               // the request failed, or the sliver is invalid
)

type sliverSlot struct {
	state   sliverState
	started time.Time
	slow    bool // in flight for longer than the hedge delay: replaced
	sliver  *codec.Sliver
	node    chain.NodeInfo
}

// fetchDone and verifyDone are the events of a reconstruction's loop.
type fetchDone struct {
	idx  int
	sl   *codec.Sliver
	err  error
	took time.Duration
}

type verifyDone struct {
	idx int
	err error
}

// reconstruction reads the primary slivers of one blob and turns them into
// its bytes. The blob's rows are its first m systematic primary slivers
// (the others hold only padding): when all of those verify, the blob is
// their concatenation and needs no decoding; then, in the default and skip
// modes, rows are published in order as they verify, once every one of them
// has arrived. A row that fails, or is slow, degrades the read: more
// primary slivers are fetched until k1 valid ones decode the blob.
type reconstruction struct {
	a   *Aggregator
	f   *flight
	ctx context.Context
	id  codec.BlobID
	md  *codec.Metadata
	cfg codec.Config
	cv  *committeeView

	n, k1, m     int
	rowLen, size int64
	slots        []sliverSlot
	bad          map[string]bool // nodes that failed or lied in this read
	candidates   []int           // primary slivers beyond the rows, best nodes first
	events       chan any
	verify       *verifyQueue
	cancelFetch  context.CancelFunc
	fetchers     sync.WaitGroup
	durations    []time.Duration
	inflight     int
	pending      int // fetched, not yet checked
	valid        int
	validRows    int
	fetchedRows  int
	degraded     bool
	view         *blobData // the rows, as they verify
	published    int       // rows published to requests
	path         string    // "systematic" or "decoded", for metrics
	hedges       int
	decodeMode   codec.Consistency
	maxInflight  int
	hedgeMinimum time.Duration
}

func newReconstruction(f *flight, cv *committeeView, md *codec.Metadata, cfg codec.Config, faulty map[string]bool) (*reconstruction, error) {
	a := f.a
	s, err := cfg.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", codec.ErrInvalidMetadata, err)
	}
	n := cfg.NShards()
	k1 := cfg.PrimarySourceSymbols()
	rowLen := int64(cfg.SecondarySourceSymbols()) * int64(s)
	size := int64(md.UnencodedLength)
	m := int((size + rowLen - 1) / rowLen)
	ctx, cancel := context.WithCancel(f.ctx)
	r := &reconstruction{
		a: a, f: f, ctx: ctx, id: f.id, md: md, cfg: cfg, cv: cv,
		n: n, k1: k1, m: m, rowLen: rowLen, size: size,
		slots:        make([]sliverSlot, n),
		bad:          make(map[string]bool, len(faulty)),
		events:       make(chan any, 2*n),
		cancelFetch:  cancel,
		view:         &blobData{size: size, rowLen: rowLen, rows: make([][]byte, m)},
		decodeMode:   f.mode,
		maxInflight:  a.cfg.MaxSliverFetches,
		hedgeMinimum: a.cfg.HedgeDelay,
	}
	for url := range faulty {
		r.bad[url] = true
	}
	for i := range r.slots {
		node, ok := cv.nodeOfShard(codec.ShardForPair(f.id, i, n))
		if !ok {
			return nil, fmt.Errorf("committee has no node for shard %d", codec.ShardForPair(f.id, i, n))
		}
		r.slots[i].node = node
	}
	var others []int
	for i := m; i < n; i++ {
		others = append(others, i)
	}
	r.candidates = order(a.nodes, others, func(i int) string { return r.slots[i].node.RESTURL })
	r.verify = newVerifyQueue(verifyWorkers(), func(idx []int, sl []*codec.Sliver) {
		for i, err := range cfg.VerifySlivers(&md.BlobMetadata, sl) {
			r.events <- verifyDone{idx[i], err}
		}
	})
	return r, nil
}

// stop ends the reconstruction's requests and checks and waits for them.
func (r *reconstruction) stop() {
	if r == nil {
		return
	}
	r.cancelFetch()
	r.verify.close()
	r.fetchers.Wait()
}

// run drives the reconstruction until the blob is read or cannot be.
func (r *reconstruction) run() (*blobData, level, error) {
	hedge := time.NewTimer(time.Hour)
	defer hedge.Stop()
	for {
		r.launch()
		if data, got, ok, err := r.complete(); ok || err != nil {
			return data, got, err
		}
		if r.inflight == 0 && r.pending == 0 {
			return nil, 0, fmt.Errorf("%w: %d valid primary slivers of the %d needed, no node left to ask",
				codec.ErrNotEnoughSlivers, r.valid, r.needed())
		}
		if d, ok := r.nextHedge(); ok {
			hedge.Reset(d)
		}
		select {
		case ev := <-r.events:
			r.handle(ev)
		case <-hedge.C:
			r.markSlow()
		case <-r.ctx.Done():
			return nil, 0, r.ctx.Err()
		}
	}
}

// needed is how many valid slivers finish the read: the rows, or k1 for
// decoding once degraded.
func (r *reconstruction) needed() int {
	if r.degraded {
		return r.k1
	}
	return r.m
}

// launch starts requests: every row not yet asked for, and when degraded
// enough further slivers that, with those valid, checking or in flight and
// not slow, k1 may be reached.
func (r *reconstruction) launch() {
	for i := 0; i < r.m && r.inflight < r.maxInflight; i++ {
		if r.slots[i].state == sliverIdle {
			if r.bad[r.slots[i].node.RESTURL] {
				r.slots[i].state = sliverFailed
				r.degrade("row's node failed earlier in this read")
				continue
			}
			r.start(i)
		}
	}
	if !r.degraded {
		return
	}
	fresh := 0
	for i := range r.slots {
		if s := &r.slots[i]; s.state == sliverFetching && !s.slow {
			fresh++
		}
	}
	for r.valid+r.pending+fresh < r.k1 && r.inflight < r.maxInflight {
		i, ok := r.nextCandidate()
		if !ok {
			return
		}
		r.start(i)
		fresh++
	}
}

// nextCandidate returns the next sliver beyond the rows whose node has not
// failed in this read.
func (r *reconstruction) nextCandidate() (int, bool) {
	for len(r.candidates) > 0 {
		i := r.candidates[0]
		r.candidates = r.candidates[1:]
		if r.slots[i].state != sliverIdle {
			continue
		}
		if r.bad[r.slots[i].node.RESTURL] {
			r.slots[i].state = sliverFailed
			continue
		}
		return i, true
	}
	return 0, false
}

func (r *reconstruction) start(i int) {
	s := &r.slots[i]
	s.state, s.started = sliverFetching, time.Now()
	r.inflight++
	node := s.node
	r.fetchers.Go(func() {
		ctx, cancel := context.WithTimeout(r.ctx, r.a.cfg.SliverTimeout)
		defer cancel()
		start := time.Now()
		var sl *codec.Sliver
		c, err := r.a.nodes.client(node)
		if err == nil {
			sl, err = c.GetSliver(ctx, r.id, uint16(i), codec.Primary)
		}
		if err == nil && (sl == nil || sl.Axis != codec.Primary || int(sl.Index) != i) {
			err = fmt.Errorf("%w: asked for primary sliver %d, got another", codec.ErrInvalidSliver, i)
		}
		r.events <- fetchDone{idx: i, sl: sl, err: err, took: time.Since(start)}
	})
}

func (r *reconstruction) handle(ev any) {
	switch ev := ev.(type) {
	case fetchDone:
		r.inflight--
		s := &r.slots[ev.idx]
		if r.ctx.Err() != nil {
			s.state = sliverFailed
			return
		}
		r.durations = append(r.durations, ev.took)
		r.a.nodes.observe(s.node.RESTURL, ev.took, ev.err == nil)
		if ev.err != nil {
			r.a.metrics.sliverFetches.WithLabelValues("error").Inc()
			r.a.log.Debug("sliver request failed", "blob_id", r.id, "sliver", ev.idx, "node", s.node.Name, "err", ev.err)
			r.reject(ev.idx, errors.Is(ev.err, codec.ErrInvalidSliver))
			return
		}
		s.state, s.sliver = sliverFetched, ev.sl
		r.pending++
		if ev.idx < r.m {
			r.fetchedRows++
		}
		r.verify.push(ev.idx, ev.sl)
	case verifyDone:
		r.pending--
		s := &r.slots[ev.idx]
		if ev.err != nil {
			r.a.metrics.sliverFetches.WithLabelValues("invalid").Inc()
			r.a.log.Warn("node sent a sliver that does not match the metadata", "blob_id", r.id, "sliver", ev.idx, "node", s.node.Name, "url", s.node.RESTURL, "err", ev.err)
			s.sliver = nil
			r.reject(ev.idx, true)
			return
		}
		r.a.metrics.sliverFetches.WithLabelValues("ok").Inc()
		s.state = sliverValid
		r.valid++
		if ev.idx < r.m {
			r.validRows++
			row := s.sliver.Data
			if end := r.size - int64(ev.idx)*r.rowLen; end < int64(len(row)) {
				row = row[:end]
			}
			r.view.rows[ev.idx] = row
			r.publishRows()
		}
	}
}

// reject marks a sliver failed; a lying node is not asked again in this
// read, nor is one that failed (it is likely down).
func (r *reconstruction) reject(i int, lied bool) {
	s := &r.slots[i]
	s.state = sliverFailed
	r.bad[s.node.RESTURL] = true
	if lied {
		r.a.metrics.faultyNodes.Inc()
	}
	if i < r.m {
		r.degrade(fmt.Sprintf("row %d failed", i))
	}
}

func (r *reconstruction) degrade(why string) {
	if r.degraded {
		return
	}
	r.degraded = true
	if r.f.mode == codec.ConsistencySkip && r.published > 0 {
		// Rows already sent were checked against their hashes: the rest
		// must be too, or the response could mix two blobs.
		r.decodeMode = codec.ConsistencyDefault
	}
	r.a.log.Debug("blob read degraded to decoding", "blob_id", r.id, "why", why)
}

// publishRows hands requests every row verified so far in order, once all
// rows have arrived (so that a failure after the first byte needs both a
// bad row and an inconsistently encoded blob) and while no row failed.
// Strict reads publish nothing before the whole blob is checked.
func (r *reconstruction) publishRows() {
	if r.degraded || r.fetchedRows < r.m || r.f.mode == codec.ConsistencyStrict {
		return
	}
	p := r.published
	for p < r.m && r.slots[p].state == sliverValid {
		p++
	}
	if p == r.published {
		return
	}
	r.published = p
	r.f.publish(r.view, min(r.size, int64(p)*r.rowLen))
}

// complete finishes the read when it can: all rows valid, or (degraded)
// k1 valid slivers to decode.
func (r *reconstruction) complete() (*blobData, level, bool, error) {
	if r.validRows == r.m {
		r.path = "systematic"
		if r.f.mode != codec.ConsistencyStrict {
			return r.view, levelDefault, true, nil
		}
		blob := r.view.contiguous()
		md, err := r.cfg.ComputeMetadata(blob)
		if err != nil {
			return nil, 0, false, err
		}
		if md.ID != r.id {
			return nil, 0, false, fmt.Errorf("%w: re-encoding gives blob ID %s", codec.ErrInconsistentEncoding, md.ID)
		}
		return newBlobData(blob, r.rowLen), levelStrict, true, nil
	}
	if !r.degraded || r.valid < r.k1 {
		return nil, 0, false, nil
	}
	r.path = "decoded"
	slivers := make([]*codec.Sliver, 0, r.valid)
	for i := range r.slots { // rows first: fewer symbols to decode
		if r.slots[i].state == sliverValid {
			slivers = append(slivers, r.slots[i].sliver)
		}
	}
	verified := make([]bool, len(slivers))
	for i := range verified {
		verified[i] = true
	}
	start := time.Now()
	blob, err := r.cfg.Decode(&r.md.BlobMetadata, slivers, verified, r.decodeMode)
	r.a.metrics.decodeSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return nil, 0, false, err
	}
	return newBlobData(blob, r.rowLen), levelOf(r.decodeMode), true, nil
}

// hedgeAfter is how long a request may take before it counts as slow: the
// configured minimum, or four times the median of this read's answers.
func (r *reconstruction) hedgeAfter() time.Duration {
	d := r.hedgeMinimum
	if len(r.durations) >= 3 {
		ds := slices.Clone(r.durations)
		slices.Sort(ds)
		d = max(d, 4*ds[len(ds)/2])
	}
	return d
}

// nextHedge returns when the oldest request not yet slow becomes slow.
func (r *reconstruction) nextHedge() (time.Duration, bool) {
	after := r.hedgeAfter()
	var first time.Time
	for i := range r.slots {
		s := &r.slots[i]
		if s.state == sliverFetching && !s.slow && (first.IsZero() || s.started.Before(first)) {
			first = s.started
		}
	}
	if first.IsZero() {
		return 0, false
	}
	return max(time.Until(first.Add(after)), time.Millisecond), true
}

// markSlow flags the requests older than the hedge delay, so that launch
// asks for other slivers in their place (they keep running: whichever
// answers first is used).
func (r *reconstruction) markSlow() {
	after := r.hedgeAfter()
	now := time.Now()
	for i := range r.slots {
		s := &r.slots[i]
		if s.state == sliverFetching && !s.slow && now.Sub(s.started) >= after {
			s.slow = true
			r.hedges++
			r.a.metrics.hedges.Inc()
			if i < r.m {
				r.degrade(fmt.Sprintf("row %d is slow", i))
			}
		}
	}
}

// verifyQueue checks fetched slivers on a few workers, lowest index first,
// so that rows verify in the order a response needs them. A worker takes
// up to maxVerifyBatch slivers at once: the codec checks a batch faster
// than its slivers one by one.
type verifyQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	h      idxHeap
	items  map[int]*codec.Sliver
	closed bool
	wg     sync.WaitGroup
}

const maxVerifyBatch = 16

func newVerifyQueue(workers int, check func([]int, []*codec.Sliver)) *verifyQueue {
	q := &verifyQueue{items: make(map[int]*codec.Sliver)}
	q.cond = sync.NewCond(&q.mu)
	for range workers {
		q.wg.Go(func() {
			for {
				idx, sl, ok := q.pop()
				if !ok {
					return
				}
				check(idx, sl)
			}
		})
	}
	return q
}

func (q *verifyQueue) push(idx int, sl *codec.Sliver) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[idx] = sl
	heap.Push(&q.h, idx)
	q.cond.Signal()
}

// pop takes the lowest-indexed slivers waiting, at most maxVerifyBatch.
func (q *verifyQueue) pop() ([]int, []*codec.Sliver, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.h) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, nil, false
	}
	var idx []int
	var sl []*codec.Sliver
	for len(q.h) > 0 && len(idx) < maxVerifyBatch {
		i := heap.Pop(&q.h).(int)
		idx = append(idx, i)
		sl = append(sl, q.items[i])
		delete(q.items, i)
	}
	return idx, sl, true
}

// close stops the workers after the checks under way and waits for them.
func (q *verifyQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
}

type idxHeap []int

func (h idxHeap) Len() int           { return len(h) }
func (h idxHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idxHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *idxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
