package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/internal/httpserve"
	"github.com/haulout/haulout/publisher/jobs"
)

// Publisher is the publisher service. Create it with New; serve it with
// Serve or Run (the HTTP API, the metrics listener and the job runner), or
// mount Handler in a server of your own and call RunJobs beside it. Close
// ends the jobs at work (their leases are released for others to take) once
// the serving has stopped.
type Publisher struct {
	cfg     Config
	log     *slog.Logger
	spool   *spool
	adm     *admission
	mem     *budget
	sendMem *budget       // sliver bytes read from sliver files and in flight
	slots   chan struct{} // one per active job
	auth    *jwtAuth      // nil: authentication off
	metrics *metrics
	blocked map[codec.BlobID]bool
	handler http.Handler

	// ctx is the root of every job's context; cancel ends them all.
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the tasks
	startMu sync.Mutex
	closed  bool // no task starts any more

	prepOnce sync.Once
	prepErr  error

	nodesMu sync.Mutex
	nodes   map[string]Node // by REST URL

	sysMu   sync.Mutex
	sys     chain.SystemInfo
	sysTime time.Time

	closeOnce sync.Once
}

// New checks cfg, applies its defaults and prepares the publisher: the spool
// directory and the HTTP handler. Nothing runs until Serve, Run or RunJobs.
func New(cfg Config) (*Publisher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	sp, err := newSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		cfg:     cfg,
		log:     cfg.Logger.With("service", "publisher"),
		spool:   sp,
		adm:     newAdmission(cfg.MaxConcurrentUploads, cfg.MaxBufferedUploads),
		mem:     newBudget(cfg.EncodeMemory),
		sendMem: newBudget(cfg.SendMemory),
		slots:   make(chan struct{}, cfg.MaxActiveJobs),
		blocked: make(map[codec.BlobID]bool, len(cfg.Blocklist)),
		nodes:   make(map[string]Node),
	}
	for _, id := range cfg.Blocklist {
		p.blocked[id] = true
	}
	if cfg.JWT.Enabled() {
		if p.auth, err = newJWTAuth(cfg.JWT); err != nil {
			return nil, err
		}
	}
	p.metrics = newMetrics(cfg.Registry, func() float64 { return float64(p.mem.used.Load()) })
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.handler = p.newHandler()
	return p, nil
}

// Handler returns the HTTP API. Jobs started through it run until Close;
// jobs left by other publishers are taken over only by RunJobs (which
// Serve and Run call).
func (p *Publisher) Handler() http.Handler { return p.handler }

// MetricsHandler serves the publisher's Prometheus metrics.
func (p *Publisher) MetricsHandler() http.Handler { return p.metrics.handler() }

// Owner is the name under which this publisher leases jobs.
func (p *Publisher) Owner() string { return p.cfg.Owner }

// Run listens on cfg.Addr and serves until ctx ends; see Serve.
func (p *Publisher) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("publisher: listen on %s: %w", p.cfg.Addr, err)
	}
	return p.Serve(ctx, ln)
}

// Serve serves the API on ln, metrics on cfg.MetricsAddr if set, and runs
// the job runner (RunJobs) until ctx ends. Then it shuts the servers down
// gracefully (cfg.ShutdownTimeout), stops the jobs at work, releasing their
// leases so that the next start (or another publisher) resumes them, and
// returns. Serve closes ln; the Publisher is closed when it returns.
func (p *Publisher) Serve(ctx context.Context, ln net.Listener) error {
	defer p.Close()
	var mln net.Listener
	if p.cfg.MetricsAddr != "" {
		var err error
		if mln, err = net.Listen("tcp", p.cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("publisher: listen for metrics on %s: %w", p.cfg.MetricsAddr, err)
		}
	}
	if err := p.prepare(ctx); err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	p.log.Info("serving", "addr", ln.Addr().String(), "metrics", p.cfg.MetricsAddr, "owner", p.cfg.Owner,
		"spool", p.cfg.SpoolDir, "auth", p.auth != nil)
	api := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserve.Until(gctx, api, ln, p.cfg.ShutdownTimeout) })
	if mln != nil {
		ms := &http.Server{Handler: httpserve.MetricsMux(p.MetricsHandler()), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error { return httpserve.Until(gctx, ms, mln, p.cfg.ShutdownTimeout) })
	}
	g.Go(func() error { return p.runner(gctx) })
	// Jobs stop with the servers, so that clients waiting for them get
	// their 503 and the servers' graceful shutdown does not wait for them.
	g.Go(func() error {
		<-gctx.Done()
		return p.Close()
	})
	err := g.Wait()
	p.log.Info("stopped serving", "err", err)
	return err
}

// RunJobs takes over unfinished jobs (this publisher's previous run's at
// once, other publishers' once their leases expire), sweeps stale spool
// files, and keeps doing so until ctx ends. Serve calls it; call it
// yourself when serving Handler with a server of your own.
func (p *Publisher) RunJobs(ctx context.Context) error {
	if err := p.prepare(ctx); err != nil {
		return err
	}
	return p.runner(ctx)
}

// Close stops the jobs at work here and releases their leases, so that
// they are resumed by the next start or by another publisher, and waits
// for them. It is safe to call more than once.
func (p *Publisher) Close() error {
	p.closeOnce.Do(func() {
		p.startMu.Lock()
		p.closed = true
		p.startMu.Unlock()
		p.cancel()
		p.wg.Wait()
	})
	return nil
}

func (p *Publisher) newHandler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = apierr.EchoHandler(p.log)
	e.Pre(cors)
	e.Use(p.observe, p.recoverPanics)

	get := func(path string, h echo.HandlerFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h)
	}
	get("/status", func(c echo.Context) error { return c.String(http.StatusOK, "OK") })
	get("/v1/api", p.apiDocs)
	get("/v1/api/openapi.json", p.apiSpec)
	e.PUT("/v1/blobs", p.putBlob, p.admit(false))
	e.PUT("/v1/quilts", p.putQuilt, p.admit(true))
	get("/v1/jobs/:id", p.getJob)
	return e
}

// cors answers every origin, method and header with a day-long preflight,
// as Walrus's daemon (tower-http's CorsLayer with Any everywhere).
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		if req.Header.Get("Origin") == "" {
			return next(c)
		}
		h.Set("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
		if req.Method != http.MethodOptions || req.Header.Get("Access-Control-Request-Method") == "" {
			// Beyond Walrus: let browser code read where its job is.
			h.Set("Access-Control-Expose-Headers", jobHeader+", Location")
			return next(c)
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "*")
		if rh := req.Header.Get("Access-Control-Request-Headers"); rh != "" {
			// "*" does not cover Authorization: name what was asked.
			h.Set("Access-Control-Allow-Headers", rh)
		} else {
			h.Set("Access-Control-Allow-Headers", "*")
		}
		h.Set("Access-Control-Max-Age", "86400")
		return c.NoContent(http.StatusOK)
	}
}

// observe records every request's count and latency by route.
func (p *Publisher) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || strings.HasPrefix(route, "/*") {
			route = "unmatched"
		}
		method := c.Request().Method
		p.metrics.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		p.metrics.requestDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// recoverPanics turns a panic in a handler into a 500 and a log line.
func (p *Publisher) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				p.log.Error("panic in handler", "route", c.Path(), "panic", r, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic serving %s %s: %v", c.Request().Method, c.Path(), r)
			}
		}()
		return next(c)
	}
}

// ctxKey names the values admit leaves for the store handlers.
const (
	ctxQuery = "publisher.query"
	ctxSlot  = "publisher.slot"
)

// admit is the layer stack of Walrus's store routes, in its order: the
// query (its parse errors come first, as axum's extractor's), JWT
// authentication, load shedding (429), then a job slot (429 when this
// publisher already works on MaxActiveJobs jobs). The request keeps its
// admission until it returns; the job slot passes to the job.
func (p *Publisher) admit(quilt bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			q, err := parseStoreQuery(r.URL.RawQuery, p.cfg.DefaultEpochs)
			if err != nil {
				return err
			}
			if p.auth != nil {
				hint := sizeHint{known: r.ContentLength >= 0, n: uint64(max(r.ContentLength, 0))}
				if quilt {
					// The claims bound the quilt blob, not the multipart body.
					hint = sizeHint{}
				}
				if err := p.auth.check(r, q, hint); err != nil {
					return err
				}
			}
			release, ok := p.adm.enter(r.Context())
			if !ok {
				p.metrics.refusals.WithLabelValues("overload").Inc()
				return errOverloaded()
			}
			defer release()
			select {
			case p.slots <- struct{}{}:
			default:
				p.metrics.refusals.WithLabelValues("jobs_full").Inc()
				return errOverloaded()
			}
			slot := &jobSlot{p: p}
			defer slot.release()
			c.Set(ctxQuery, q)
			c.Set(ctxSlot, slot)
			return next(c)
		}
	}
}

// jobSlot is one of MaxActiveJobs; it is released once, by whoever holds it
// last: the request if no job started, else the job.
type jobSlot struct {
	p    *Publisher
	once sync.Once
	kept bool
}

// keep hands the slot to a job: the request no longer releases it.
func (s *jobSlot) keep() { s.kept = true }

func (s *jobSlot) release() {
	if !s.kept {
		s.free()
	}
}

func (s *jobSlot) free() { s.once.Do(func() { <-s.p.slots }) }

// getJob serves GET /v1/jobs/{id}.
func (p *Publisher) getJob(c echo.Context) error {
	id := c.Param("id")
	if !validJobID(id) {
		return apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidJob, "%q is not a job ID", id)
	}
	j, err := p.cfg.Jobs.Get(c.Request().Context(), id)
	if errors.Is(err, jobs.ErrNotFound) {
		return apierr.New(apierr.NotFound, apierr.DomainDaemon, reasonJobNotFound, "there is no job %s", id)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewJob(j))
}

// validJobID is the job store's rule: 1 to 64 of A-Z, a-z, 0-9, - and _.
func validJobID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// systemInfo returns the ledger's system info, cached for a second: every
// upload checks its epochs against it before receiving its body.
func (p *Publisher) systemInfo(ctx context.Context) (chain.SystemInfo, error) {
	p.sysMu.Lock()
	defer p.sysMu.Unlock()
	if !p.sysTime.IsZero() && time.Since(p.sysTime) < time.Second {
		return p.sys, nil
	}
	sys, err := p.cfg.Ledger.SystemInfo(ctx)
	if err != nil {
		return chain.SystemInfo{}, fmt.Errorf("ledger: system info: %w", err)
	}
	p.sys, p.sysTime = sys, time.Now()
	return sys, nil
}

// node returns the client of a committee member, made once per URL.
func (p *Publisher) node(info chain.NodeInfo) (Node, error) {
	p.nodesMu.Lock()
	defer p.nodesMu.Unlock()
	if n, ok := p.nodes[info.RESTURL]; ok {
		return n, nil
	}
	n, err := p.cfg.Dial(info)
	if err != nil {
		return nil, fmt.Errorf("node %s at %s: %w", info.ID, info.RESTURL, err)
	}
	p.nodes[info.RESTURL] = n
	return n, nil
}
