package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Aggregator serves Walrus's read API. Make one with New; it is safe for
// concurrent use.
type Aggregator struct {
	cfg        Config
	log        *slog.Logger
	ledger     Ledger
	metrics    *metrics
	mem        *memCache
	disk       *diskCache // nil: no disk cache
	nodes      *nodePool
	committees *committees
	quilts     *quiltReads // quilt patch reads: index and patch caches
	handler    http.Handler

	baseCtx   context.Context // ends at Close: reconstructions, cache writes
	stopBase  context.CancelFunc
	bg        sync.WaitGroup
	closeOnce sync.Once

	flightsMu sync.Mutex
	flights   map[codec.BlobID][]*flight
	admitted  int           // reconstructions admitted, running or queued
	running   chan struct{} // one token per running reconstruction

	requests   atomic.Int64
	diskWrites chan struct{} // one token per pending disk-cache write

	epoch      atomic.Uint32 // current epoch as last seen
	following  atomic.Bool   // the event follower is caught up
	evictSeq   atomic.Uint64 // deletions and invalidations handled
	evictMu    sync.Mutex
	evicted    map[codec.BlobID]evicted
	evictPrune time.Time
}

type evicted struct {
	seq uint64
	at  time.Time
}

// blobLife is what a ledger check said about a blob.
type blobLife struct {
	endEpoch  chain.Epoch
	seq       uint64 // evictSeq before the check: later evictions win
	checkedAt time.Time
}

// maxPendingDiskWrites bounds reconstructed blobs held in memory only to
// be written to the disk cache.
const maxPendingDiskWrites = 4

// staleStatus is how long a cached blob is served without asking the
// ledger again while the event follower is not caught up.
const staleStatus = 2 * time.Second

// New returns an aggregator for cfg. It opens the disk cache, if any;
// Close releases it.
func New(cfg Config) (*Aggregator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Aggregator{
		cfg:        cfg,
		log:        cfg.Logger.With("component", "aggregator"),
		ledger:     cfg.Ledger,
		nodes:      newNodePool(cfg.Dial),
		flights:    make(map[codec.BlobID][]*flight),
		running:    make(chan struct{}, cfg.MaxConcurrentReads),
		diskWrites: make(chan struct{}, maxPendingDiskWrites),
		evicted:    make(map[codec.BlobID]evicted),
	}
	a.baseCtx, a.stopBase = context.WithCancel(context.Background())
	a.committees = &committees{ledger: cfg.Ledger, refresh: cfg.CommitteeRefresh, onEpoch: a.seeEpoch}
	a.mem = newMemCache(cfg.MemoryCacheSize, cfg.MemoryCacheMaxEntry, func(reason string, _ int64) {
		a.metrics.cacheEvictions.WithLabelValues("memory", reason).Inc()
	})
	if cfg.DiskCacheDir != "" {
		a.disk, err = openDiskCache(cfg.DiskCacheDir, cfg.DiskCacheSize, a.log, func(reason string, _ int64) {
			a.metrics.cacheEvictions.WithLabelValues("disk", reason).Inc()
		})
		if err != nil {
			return nil, err
		}
	}
	reg := cfg.Registry
	if reg == nil {
		reg = newRegistry()
	}
	a.cfg.Registry = reg
	a.metrics = newMetrics(reg, a)
	a.quilts = newQuiltReads(a.cfg, reg)
	a.handler = a.newEcho()
	return a, nil
}

// Handler returns the HTTP handler of the API. Reads work without Serve
// or Run, but then the ledger's events are not followed, and cached blobs
// are checked with the ledger every few seconds instead.
func (a *Aggregator) Handler() http.Handler { return a.handler }

// MetricsHandler serves the Prometheus metrics.
func (a *Aggregator) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.cfg.Registry, promhttp.HandlerOpts{})
}

// ListenAndServe listens on Config.Addr and serves until ctx is done.
func (a *Aggregator) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("aggregator: listen on %s: %w", a.cfg.Addr, err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves the API on ln, the metrics on Config.MetricsAddr (if set),
// and follows the ledger's events, until ctx is done; then it shuts down
// gracefully, giving requests in flight up to ShutdownTimeout.
func (a *Aggregator) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	if a.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("aggregator: metrics listener on %s: %w", a.cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", a.MetricsHandler())
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, mln)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	errc := make(chan error, len(servers)+1)
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errc <- s.Serve(listeners[i]) })
	}
	wg.Go(func() { errc <- a.Run(runCtx) })
	a.log.Info("aggregator serving", "addr", ln.Addr().String(), "metrics", a.cfg.MetricsAddr)

	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	stopRun()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil && first == nil {
			first = fmt.Errorf("aggregator: shut down: %w", err)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if first == nil && err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			first = err
		}
	}
	if first != nil && (errors.Is(first, http.ErrServerClosed) || errors.Is(first, context.Canceled)) {
		first = nil
	}
	return first
}

// Close stops reconstructions and waits for them and for cache writes.
// Call it once Serve has returned (or, without Serve, once the handler
// serves no more requests).
func (a *Aggregator) Close() error {
	a.closeOnce.Do(func() {
		a.stopBase()
		a.bg.Wait()
	})
	return nil
}

// seeEpoch records an epoch seen in a committee or an event.
func (a *Aggregator) seeEpoch(e chain.Epoch) {
	for {
		cur := a.epoch.Load()
		if uint32(e) <= cur {
			return
		}
		if a.epoch.CompareAndSwap(cur, uint32(e)) {
			a.metrics.epoch.Set(float64(e))
			return
		}
	}
}

// checkStatus asks the ledger whether the blob may be served: some live,
// certified Blob object must keep it. It returns errBlobNotFound otherwise.
func (a *Aggregator) checkStatus(ctx context.Context, id codec.BlobID) (blobLife, error) {
	life := blobLife{seq: a.evictSeq.Load(), checkedAt: time.Now()}
	if _, err := a.committees.current(ctx); err != nil { // the current epoch
		return life, errLedger(err)
	}
	st, err := a.ledger.BlobStatus(ctx, id)
	if err != nil {
		return life, errLedger(err)
	}
	switch {
	case st.Kind == chain.StatusInvalid:
		return life, errBlobNotFound("the blob ID was marked invalid")
	case !st.AnyCertified():
		return life, errBlobNotFound("no certified, unexpired Blob object holds the blob ID")
	case st.Kind == chain.StatusPermanent && st.IsCertified:
		life.endEpoch = st.EndEpoch
		return life, nil
	}
	objs, err := a.ledger.BlobObjects(ctx, id)
	if err != nil {
		return life, errLedger(err)
	}
	cur := chain.Epoch(a.epoch.Load())
	for _, o := range objs {
		if o.Certified() && o.Live(cur) {
			life.endEpoch = max(life.endEpoch, o.EndEpoch)
		}
	}
	if life.endEpoch == 0 {
		return life, errBlobNotFound("no certified, unexpired Blob object holds the blob ID")
	}
	return life, nil
}

// errLedger is 503: without the ledger nothing can be said of a blob.
func errLedger(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	e := apierr.Wrap(err, apierr.Unavailable, apierr.DomainDaemon, reasonBlobUnavailable,
		"the blob's status could not be read from the chain at this time, please retry later")
	e.Metadata = map[string]string{"cause": "chain unavailable"}
	return e
}

// cacheResult keeps a reconstructed blob in the caches, unless its read
// was not checked at least as Walrus's default, or the blob was deleted,
// invalidated or expired since its status was read.
func (a *Aggregator) cacheResult(id codec.BlobID, got level, life blobLife, data *blobData) {
	if got < levelDefault || !a.stillLive(id, life) {
		return
	}
	info := cacheInfo{level: got, endEpoch: life.endEpoch, checkedAt: life.checkedAt}
	if a.mem.fits(data.size) {
		a.mem.put(id, info, data)
		if !a.stillLive(id, life) {
			a.mem.remove(id, "deleted")
		}
	}
	if a.disk == nil || !a.disk.fits(data.size) {
		return
	}
	select {
	case a.diskWrites <- struct{}{}:
	default:
		a.metrics.diskWritesSkipped.Inc()
		return
	}
	a.bg.Go(func() {
		defer func() { <-a.diskWrites }()
		if a.baseCtx.Err() != nil {
			return
		}
		if err := a.disk.write(id, info, data); err != nil {
			a.log.Warn("disk cache write failed", "blob_id", id, "err", err)
			return
		}
		if !a.stillLive(id, life) {
			a.disk.remove(id, "deleted")
		}
	})
}

// stillLive reports whether nothing evicted the blob since life was read.
func (a *Aggregator) stillLive(id codec.BlobID, life blobLife) bool {
	if life.endEpoch <= chain.Epoch(a.epoch.Load()) {
		return false
	}
	a.evictMu.Lock()
	defer a.evictMu.Unlock()
	e, ok := a.evicted[id]
	return !ok || e.seq <= life.seq
}

// evict removes a deleted or invalidated blob from the caches, and
// remembers it so that reads whose status predates it do not cache it.
func (a *Aggregator) evict(id codec.BlobID, reason string) {
	seq := a.evictSeq.Add(1)
	now := time.Now()
	a.evictMu.Lock()
	a.evicted[id] = evicted{seq, now}
	if len(a.evicted) > 1024 && now.Sub(a.evictPrune) > time.Minute {
		// A read's status is at most ReadTimeout old when it is cached.
		for k, e := range a.evicted {
			if now.Sub(e.at) > a.cfg.ReadTimeout+time.Minute {
				delete(a.evicted, k)
			}
		}
		a.evictPrune = now
	}
	a.evictMu.Unlock()
	a.mem.remove(id, reason)
	if a.disk != nil {
		a.disk.remove(id, reason)
	}
}

// Run follows the ledger's events until ctx is done, evicting deleted,
// invalidated and expired blobs from the caches. Serve runs it.
func (a *Aggregator) Run(ctx context.Context) error {
	backoff := time.Second
	var cursor uint64
	fail := func(what string, err error) error {
		a.following.Store(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.metrics.followerErrors.Inc()
		a.log.Warn("ledger events", "op", what, "cursor", cursor, "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 30*time.Second)
		return nil
	}
	// Catch up without blocking, then wait for what comes.
	for caughtUp := false; !caughtUp; {
		evs, err := a.ledger.Events(ctx, cursor, chain.MaxEventsPerCall)
		if err != nil {
			if err := fail("catch up", err); err != nil {
				return nil
			}
			continue
		}
		cursor = a.handleEvents(evs, cursor)
		caughtUp = len(evs) < chain.MaxEventsPerCall
	}
	a.following.Store(true)
	for {
		evs, err := a.ledger.WaitEvents(ctx, cursor, chain.MaxEventsPerCall)
		if err != nil {
			if err := fail("wait", err); err != nil {
				return nil
			}
			continue
		}
		backoff = time.Second
		cursor = a.handleEvents(evs, cursor)
		a.following.Store(len(evs) < chain.MaxEventsPerCall)
	}
}

func (a *Aggregator) handleEvents(evs []chain.Event, cursor uint64) uint64 {
	for _, e := range evs {
		switch e.Kind {
		case chain.EventDeleted:
			a.evict(e.BlobID, "deleted")
		case chain.EventInvalid:
			a.evict(e.BlobID, "invalid")
		case chain.EventCertified:
			extend := func(info *cacheInfo) { info.endEpoch = max(info.endEpoch, e.EndEpoch) }
			a.mem.update(e.BlobID, extend)
			if a.disk != nil {
				a.disk.update(e.BlobID, extend)
			}
		case chain.EventEpochChange:
			a.seeEpoch(e.Epoch)
			a.committees.invalidate()
			a.mem.expire(e.Epoch)
			if a.disk != nil {
				a.disk.expire(e.Epoch)
			}
		}
		cursor = e.Cursor + 1
	}
	a.metrics.followerCursor.Set(float64(cursor))
	return cursor
}

// fresh reports whether a cached blob may be served without asking the
// ledger: its status was read by this process, and either the follower is
// caught up (it would have evicted the blob) or the check is recent.
func (a *Aggregator) fresh(info cacheInfo) bool {
	if info.checkedAt.IsZero() {
		return false
	}
	return a.following.Load() || time.Since(info.checkedAt) < staleStatus
}

// newEcho builds the router.
func (a *Aggregator) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = apierr.EchoHandler(a.log)
	e.Pre(cors)
	e.Use(a.observe)
	for _, rt := range a.routes() {
		if rt.handler != nil {
			e.Match([]string{http.MethodGet, http.MethodHead}, rt.path, rt.handler)
		}
	}
	newSites(a).register(e) // static sites: /sites/{id}/..., {base36}.host
	if a.cfg.UI != nil {
		ui := echo.WrapHandler(a.cfg.UI)
		e.Match([]string{http.MethodGet, http.MethodHead}, "/", ui)
		e.Match([]string{http.MethodGet, http.MethodHead}, "/ui/*", ui)
	}
	return e
}
