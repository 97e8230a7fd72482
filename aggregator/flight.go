package aggregator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// flight is one reconstruction of a blob from the storage nodes, shared by
// every request that reads the blob while it runs. The bytes [0, ready)
// of data are final and checked; requests stream them as they grow.
type flight struct {
	a      *Aggregator
	id     codec.BlobID
	mode   codec.Consistency
	life   blobLife
	ctx    context.Context
	cancel context.CancelFunc
	refs   int // requests attached; guarded by a.flightsMu

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change
	md      *codec.Metadata
	data    *blobData
	ready   int64
	done    bool
	err     *apierr.Error
	got     level // the level the result was checked at, once done
}

// satisfies reports whether the flight's result will do for a request of
// level lvl.
func (f *flight) satisfies(lvl level) bool { return levelOf(f.mode) >= lvl }

func (f *flight) signalLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *flight) publishMeta(md *codec.Metadata) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.md = md
	f.signalLocked()
}

// publish makes the bytes [0, ready) of data available.
func (f *flight) publish(data *blobData, ready int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data, f.ready = data, ready
	f.signalLocked()
}

func (f *flight) finish(data *blobData, got level) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data, f.ready, f.done, f.got = data, data.size, true, got
	f.signalLocked()
}

func (f *flight) fail(err *apierr.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.err = true, err
	f.signalLocked()
}

// ended reports whether the flight is over: a request that comes later
// looks in the caches or starts another.
func (f *flight) ended() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// waitMeta waits for the blob's verified metadata.
func (f *flight) waitMeta(ctx context.Context) (*codec.Metadata, error) {
	for {
		f.mu.Lock()
		md, err, ch := f.md, f.err, f.changed
		f.mu.Unlock()
		switch {
		case md != nil:
			return md, nil
		case err != nil:
			return nil, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waitData waits until bytes from off on are available and returns the
// blob and the end of what is available. After the flight failed it
// returns the error.
func (f *flight) waitData(ctx context.Context, off int64) (*blobData, int64, error) {
	for {
		f.mu.Lock()
		data, ready, err, ch := f.data, f.ready, f.err, f.changed
		f.mu.Unlock()
		switch {
		case err != nil:
			return nil, 0, err
		case data != nil && ready > off:
			return data, ready, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// writeSpan streams the bytes s of the blob to w as they become available.
func (f *flight) writeSpan(ctx context.Context, w interface{ Write([]byte) (int, error) }, s span) (int64, error) {
	var n int64
	for off := s.start; off < s.end; {
		data, ready, err := f.waitData(ctx, off)
		if err != nil {
			return n, err
		}
		end := min(ready, s.end)
		m, err := data.writeSpan(w, span{off, end})
		n += m
		if err != nil {
			return n, err
		}
		off = end
	}
	return n, nil
}

// joinFlight attaches the request to a reconstruction of id that checks at
// least lvl, starting one if none runs. It refuses with errOverloaded when
// MaxConcurrentReads + MaxQueuedReads reconstructions are already admitted.
// The caller must leaveFlight.
func (a *Aggregator) joinFlight(id codec.BlobID, mode codec.Consistency, life blobLife) (*flight, error) {
	lvl := levelOf(mode)
	a.flightsMu.Lock()
	defer a.flightsMu.Unlock()
	for _, f := range a.flights[id] {
		if f.satisfies(lvl) && !f.ended() {
			f.refs++
			return f, nil
		}
	}
	if a.baseCtx.Err() != nil {
		return nil, errUnavailable(errors.New("the aggregator is shutting down"))
	}
	if a.admitted >= a.cfg.MaxConcurrentReads+a.cfg.MaxQueuedReads {
		a.metrics.rejected.WithLabelValues("reads").Inc()
		return nil, errOverloaded
	}
	a.admitted++
	ctx, cancel := context.WithTimeout(a.baseCtx, a.cfg.ReadTimeout)
	f := &flight{a: a, id: id, mode: mode, life: life, ctx: ctx, cancel: cancel, refs: 1, changed: make(chan struct{})}
	a.flights[id] = append(a.flights[id], f)
	a.bg.Go(f.run)
	return f, nil
}

// leaveFlight detaches a request; the last one to leave an unfinished
// reconstruction stops it.
func (a *Aggregator) leaveFlight(f *flight) {
	a.flightsMu.Lock()
	defer a.flightsMu.Unlock()
	f.refs--
	if f.refs == 0 {
		if !f.ended() {
			f.cancel()
		}
	}
}

// removeFlight forgets a finished reconstruction.
func (a *Aggregator) removeFlight(f *flight) {
	a.flightsMu.Lock()
	defer a.flightsMu.Unlock()
	fs := a.flights[f.id]
	for i, g := range fs {
		if g == f {
			fs = append(fs[:i], fs[i+1:]...)
			break
		}
	}
	if len(fs) == 0 {
		delete(a.flights, f.id)
	} else {
		a.flights[f.id] = fs
	}
	a.admitted--
}

// run reconstructs the blob, publishes it to the requests attached and
// hands it to the caches.
func (f *flight) run() {
	a := f.a
	defer f.cancel()
	defer a.removeFlight(f)
	a.metrics.readsQueued.Inc()
	select {
	case a.running <- struct{}{}:
		a.metrics.readsQueued.Dec()
	case <-f.ctx.Done():
		a.metrics.readsQueued.Dec()
		f.fail(errUnavailable(f.ctx.Err()))
		return
	}
	a.metrics.readsRunning.Inc()
	start := time.Now()
	data, got, r, err := f.reconstruct()
	<-a.running
	a.metrics.readsRunning.Dec()
	if err != nil {
		ae := f.classify(err)
		a.metrics.reconstructions.WithLabelValues("error").Inc()
		if ae.Status != apierr.NotFound && !errors.Is(err, context.Canceled) {
			a.log.Warn("blob read failed", "blob_id", f.id, "err", err, "took", time.Since(start))
		}
		f.fail(ae)
		r.stop()
		return
	}
	// Into the caches before the requests learn that the read is over, so
	// that a request that follows finds it there.
	a.cacheResult(f.id, got, f.life, data)
	f.finish(data, got)
	r.stop()
	path, hedges := "empty", 0
	if r != nil {
		path, hedges = r.path, r.hedges
	}
	a.metrics.reconstructions.WithLabelValues(path).Inc()
	a.metrics.reconstructSeconds.WithLabelValues(path).Observe(time.Since(start).Seconds())
	a.log.Debug("blob read", "blob_id", f.id, "bytes", data.size, "path", path, "level", got, "hedges", hedges, "took", time.Since(start))
}

// classify turns a reconstruction error into the client's answer.
func (f *flight) classify(err error) *apierr.Error {
	var ae *apierr.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.DeadlineExceeded):
		return errUnavailable(fmt.Errorf("read timed out: %w", err))
	}
	return errUnavailable(err)
}

// reconstruct reads the blob's metadata and enough slivers, and returns
// the blob with the level it was checked at. The reconstruction returned,
// nil when no sliver was needed, must be stopped once the result is
// published.
func (f *flight) reconstruct() (*blobData, level, *reconstruction, error) {
	a := f.a
	cv, err := a.committees.current(f.ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	md, cfg, faulty, err := a.fetchMetadata(f.ctx, cv, f.id)
	if err != nil {
		return nil, 0, nil, err
	}
	if limit := a.cfg.MaxBlobSize; limit > 0 && md.UnencodedLength > limit {
		return nil, 0, nil, errBlobTooLarge(md.UnencodedLength, limit)
	}
	f.publishMeta(md)
	if md.UnencodedLength == 0 {
		// The blob ID commits to the length: no sliver can add a byte.
		return &blobData{rowLen: 1}, levelOf(f.mode), nil, nil
	}
	r, err := newReconstruction(f, cv, md, cfg, faulty)
	if err != nil {
		return nil, 0, nil, err
	}
	data, got, err := r.run()
	return data, got, r, err
}
