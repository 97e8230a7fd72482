package codec

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forBatches runs fn over [0, items) in batches of at most batch items, on
// up to GOMAXPROCS goroutines, each with its own state from newState.
func forBatches[S any](items, batch int, newState func() S, fn func(st S, lo, hi int)) {
	if items <= 0 {
		return
	}
	nBatches := (items + batch - 1) / batch
	workers := min(runtime.GOMAXPROCS(0), nBatches)
	var next atomic.Int64
	work := func() {
		st := newState()
		for {
			b := int(next.Add(1) - 1)
			if b >= nBatches {
				return
			}
			lo := b * batch
			fn(st, lo, min(lo+batch, items))
		}
	}
	if workers <= 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(work)
	}
	wg.Wait()
}

// batchSize picks how many symbols to code at once: shards of about
// targetBytes keep the work area in cache, and enough batches keep every
// core busy.
func batchSize(items, symbolSize int) int {
	const targetBytes = 8 << 10
	b := max(1, targetBytes/symbolSize)
	perWorker := (items + 4*runtime.GOMAXPROCS(0) - 1) / (4 * runtime.GOMAXPROCS(0))
	return max(1, min(b, perWorker))
}
