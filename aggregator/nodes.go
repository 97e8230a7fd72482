package aggregator

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/haulout/haulout/chain"
)

// nodePool keeps one client per storage node (by REST URL) and what reads
// have learnt about each node: how long it takes to answer and whether it
// failed lately. Reads ask the fastest, most reliable nodes first.
type nodePool struct {
	dial func(chain.NodeInfo) (SliverSource, error)

	mu      sync.Mutex
	clients map[string]SliverSource
	stats   map[string]*nodeStats
}

type nodeStats struct {
	latency     float64 // EWMA of answer times, seconds
	failures    int     // consecutive failures
	lastFailure time.Time
}

func newNodePool(dial func(chain.NodeInfo) (SliverSource, error)) *nodePool {
	return &nodePool{dial: dial, clients: make(map[string]SliverSource), stats: make(map[string]*nodeStats)}
}

// client returns the client of node, dialing it the first time.
func (p *nodePool) client(node chain.NodeInfo) (SliverSource, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[node.RESTURL]; ok {
		return c, nil
	}
	c, err := p.dial(node)
	if err != nil {
		return nil, fmt.Errorf("client of node %s (%s): %w", node.Name, node.RESTURL, err)
	}
	p.clients[node.RESTURL] = c
	return c, nil
}

// observe records one answer of the node at url.
func (p *nodePool) observe(url string, took time.Duration, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[url]
	if s == nil {
		s = &nodeStats{latency: took.Seconds()}
		p.stats[url] = s
	}
	const alpha = 0.2
	s.latency = (1-alpha)*s.latency + alpha*took.Seconds()
	if ok {
		s.failures = 0
		return
	}
	s.failures++
	s.lastFailure = time.Now()
}

// score ranks a node for the next request: lower is better. Unknown nodes
// rank as fast ones so that they get tried; recent failures push a node
// back for a minute.
func (p *nodePool) score(url string, now time.Time) float64 {
	s := p.stats[url]
	if s == nil {
		return 0
	}
	v := s.latency
	if s.failures > 0 && now.Sub(s.lastFailure) < time.Minute {
		v += float64(s.failures) * 10
	}
	return v
}

// order returns the items sorted by the score of their node, best first;
// ties are broken at random so that load spreads over equal nodes.
func order[T any](p *nodePool, items []T, url func(T) string) []T {
	now := time.Now()
	type ranked struct {
		item  T
		score float64
		tie   uint32
	}
	rs := make([]ranked, len(items))
	p.mu.Lock()
	for i, it := range items {
		rs[i] = ranked{it, p.score(url(it), now), rand.Uint32()}
	}
	p.mu.Unlock()
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		return cmp.Compare(a.tie, b.tie)
	})
	out := make([]T, len(items))
	for i, r := range rs {
		out[i] = r.item
	}
	return out
}

// committeeView is a committee with its shard -> node map.
type committeeView struct {
	chain.Committee
	owners []int
}

// nodeOfShard returns the node holding shard.
func (v *committeeView) nodeOfShard(shard int) (chain.NodeInfo, bool) {
	if shard < 0 || shard >= len(v.owners) || v.owners[shard] < 0 {
		return chain.NodeInfo{}, false
	}
	return v.Nodes[v.owners[shard]], true
}

// committees caches the current committee for reads.
type committees struct {
	ledger  Ledger
	refresh time.Duration
	onEpoch func(chain.Epoch)

	mu      sync.Mutex
	view    *committeeView
	fetched time.Time
}

// current returns the committee, fetching it when the cached one is older
// than the refresh period or was invalidated.
func (c *committees) current(ctx context.Context) (*committeeView, error) {
	c.mu.Lock()
	if c.view != nil && time.Since(c.fetched) < c.refresh {
		v := c.view
		c.mu.Unlock()
		return v, nil
	}
	c.mu.Unlock()
	cm, err := c.ledger.CurrentCommittee(ctx)
	if err != nil {
		return nil, fmt.Errorf("current committee: %w", err)
	}
	v := &committeeView{Committee: cm, owners: cm.ShardOwners()}
	c.mu.Lock()
	c.view, c.fetched = v, time.Now()
	c.mu.Unlock()
	if c.onEpoch != nil {
		c.onEpoch(cm.Epoch)
	}
	return v, nil
}

// invalidate makes the next read fetch the committee again.
func (c *committees) invalidate() {
	c.mu.Lock()
	c.view = nil
	c.mu.Unlock()
}
