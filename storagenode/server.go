package storagenode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/internal/httpserve"
)

// Run listens on cfg.Addr (and cfg.MetricsAddr) and serves until ctx ends;
// see Serve.
func (n *Node) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", n.cfg.Addr)
	if err != nil {
		return fmt.Errorf("storagenode: listen on %s: %w", n.cfg.Addr, err)
	}
	return n.Serve(ctx, ln)
}

// Serve serves the REST API on ln (TLS on top of it when configured),
// metrics on cfg.MetricsAddr if set, and runs the node's background work
// (following the ledger, recovery, expiry) until ctx ends; then it shuts
// the servers down gracefully (cfg.ShutdownTimeout) and returns. It returns
// early with an error if a server fails. Serve closes ln.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	var mln net.Listener
	if n.cfg.MetricsAddr != "" {
		var err error
		if mln, err = net.Listen("tcp", n.cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("storagenode: listen for metrics on %s: %w", n.cfg.MetricsAddr, err)
		}
	}
	api := n.httpServer()
	if n.tlsConf != nil {
		ln = tls.NewListener(ln, n.tlsConf)
	}
	n.log.Info("serving", "addr", ln.Addr().String(), "tls", n.tlsConf != nil, "metrics", n.cfg.MetricsAddr)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return httpserve.Until(gctx, api, ln, n.cfg.ShutdownTimeout) })
	if mln != nil {
		ms := &http.Server{Handler: httpserve.MetricsMux(n.MetricsHandler()), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error { return httpserve.Until(gctx, ms, mln, n.cfg.ShutdownTimeout) })
	}
	g.Go(func() error { return n.follow(gctx) })
	g.Go(func() error { return n.recovery.run(gctx) })
	g.Go(func() error { return n.sweepLoop(gctx) })
	err := g.Wait()
	n.log.Info("stopped serving", "err", err)
	return err
}

// httpServer is the API's server: HTTP/1.1 and HTTP/2 (h2 over TLS, h2c
// with prior knowledge in plain text), with Walrus's HTTP/2 stream limit
// and flow-control windows large enough for multi-megabyte slivers.
func (n *Node) httpServer() *http.Server {
	srv := &http.Server{
		Handler:           n.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          1000,
			MaxReadFrameSize:              1 << 20,
			MaxReceiveBufferPerConnection: 4<<20 - 1,
			MaxReceiveBufferPerStream:     4<<20 - 1,
		},
		TLSConfig: n.tlsConf,
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	if n.tlsConf != nil {
		srv.Protocols.SetHTTP2(true)
	} else {
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	return srv
}

// Handler returns the REST API as an http.Handler, for callers that run
// their own server (tests, or a process serving several things). Serve
// and Run use it.
func (n *Node) Handler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	base := apierr.EchoHandler(n.log)
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			n.metrics.refusals.WithLabelValues(ae.Reason).Inc()
		}
		base(err, c)
	}
	e.Pre(cors)
	e.Use(n.observe, n.recoverPanics)

	get := func(path string, h echo.HandlerFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h)
	}
	get("/v1/health", n.health)
	get("/v1/blobs/:blob_id/metadata", n.getMetadata)
	e.PUT("/v1/blobs/:blob_id/metadata", n.putMetadata)
	get("/v1/blobs/:blob_id/metadata/status", n.metadataStatus)
	e.PUT("/v1/blobs/:blob_id/slivers", n.putSlivers)
	get("/v1/blobs/:blob_id/slivers/:pair/:axis", n.getSliver)
	e.PUT("/v1/blobs/:blob_id/slivers/:pair/:axis", n.putSliver)
	get("/v1/blobs/:blob_id/slivers/:pair/:axis/status", n.sliverStatus)
	get("/v1/blobs/:blob_id/confirmation/permanent", n.confirmation)
	get("/v1/blobs/:blob_id/confirmation/deletable/:object_id", n.confirmation)
	get("/v1/blobs/:blob_id/status", n.blobStatus)
	get("/v1/blobs/:blob_id/recoverySymbols", n.recoverySymbols)
	return e
}

// cors answers every origin, method and header, as Walrus's nodes do, so
// that browsers upload slivers directly; preflights are cached a day.
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		if req.Header.Get("Origin") == "" {
			return next(c)
		}
		h.Set("Access-Control-Allow-Origin", "*")
		h.Add("Vary", "Origin")
		if req.Method != http.MethodOptions || req.Header.Get("Access-Control-Request-Method") == "" {
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
func (n *Node) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Write the error now, so that the status is known.
			c.Error(err)
		}
		route := c.Path()
		if route == "" || strings.HasPrefix(route, "/*") {
			route = "unmatched"
		}
		method := c.Request().Method
		n.metrics.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
		n.metrics.requestDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// recoverPanics turns a panic in a handler into a 500 and a log line: no
// request takes the node down.
func (n *Node) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				n.log.Error("panic in handler", "route", c.Path(), "panic", p, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic serving %s %s: %v", c.Request().Method, c.Path(), p)
			}
		}()
		return next(c)
	}
}
