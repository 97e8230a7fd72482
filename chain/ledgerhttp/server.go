package ledgerhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// Ledger is what the server serves: the method set of *local.Ledger.
type Ledger interface {
	CurrentEpoch(ctx context.Context) (chain.Epoch, error)
	SystemInfo(ctx context.Context) (chain.SystemInfo, error)
	CurrentCommittee(ctx context.Context) (chain.Committee, error)
	Committee(ctx context.Context, epoch chain.Epoch) (chain.Committee, error)
	Register(ctx context.Context, req chain.RegisterRequest) (chain.BlobRecord, error)
	Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error)
	Extend(ctx context.Context, id chain.ObjectID, epochs uint32) (chain.BlobRecord, error)
	Delete(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error
	RemoveAttribute(ctx context.Context, id chain.ObjectID, key string) error
	InvalidateBlobID(ctx context.Context, cert chain.Certificate) (chain.Event, error)
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error)
	BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error)
	Events(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
	WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
	AdvanceEpoch(ctx context.Context) (chain.Epoch, error)
	SetNextCommittee(ctx context.Context, regs []chain.NodeRegistration) (chain.Committee, error)
}

// Defaults of Server.
const (
	DefaultMaxWait = 30 * time.Second
	// MaxBodySize bounds request bodies; the largest is a next committee.
	MaxBodySize = 8 << 20
)

// Server serves a Ledger over HTTP. Set Ledger; the other fields have
// defaults.
type Server struct {
	Ledger Ledger
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger
	// MaxWait caps the long poll of GET /v1/events (default DefaultMaxWait).
	MaxWait time.Duration
}

// Handler returns the HTTP handler of the API.
func (s *Server) Handler() http.Handler {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	maxWait := s.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	h := &handlers{l: s.Ledger, log: logger.With("component", "ledgerhttp"), maxWait: maxWait}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = h.handleError
	e.Pre(cors)
	e.Use(h.recoverPanics, limitBody)

	e.GET("/status", func(c echo.Context) error { return c.String(http.StatusOK, "OK") })
	v1 := e.Group("/v1")
	v1.GET("/system", h.systemInfo)
	v1.GET("/epoch", h.currentEpoch)
	v1.POST("/epoch/advance", h.advanceEpoch)
	v1.GET("/committee", h.currentCommittee)
	v1.GET("/committee/:epoch", h.committee)
	v1.PUT("/committee/next", h.setNextCommittee)
	v1.POST("/blobs", h.register)
	v1.GET("/blobs/:blobId/status", h.blobStatus)
	v1.GET("/blobs/:blobId/objects", h.blobObjects)
	v1.POST("/invalid-blob-ids", h.invalidate)
	v1.GET("/objects/:objectId", h.blob)
	v1.DELETE("/objects/:objectId", h.delete)
	v1.POST("/objects/:objectId/certify", h.certify)
	v1.POST("/objects/:objectId/extend", h.extend)
	v1.POST("/objects/:objectId/attributes", h.setAttribute)
	v1.POST("/objects/:objectId/attributes/remove", h.removeAttribute)
	v1.GET("/events", h.events)
	return e
}

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully, giving requests in flight (long polls included) up to
// MaxWait plus a second to finish.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve ledger API: %w", err)
	case <-ctx.Done():
	}
	wait := s.MaxWait
	if wait <= 0 {
		wait = DefaultMaxWait
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait+time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down ledger API: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve ledger API: %w", err)
	}
	return nil
}

// limitBody caps request bodies at MaxBodySize; bind reports the excess.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxBodySize)
		return next(c)
	}
}

// recoverPanics turns a panic in a handler into a 500 answer and a log
// line, so that no request can take the ledger's server down.
func (h *handlers) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("panic in ledger handler", "panic", p, "stack", string(debug.Stack()))
				err = fmt.Errorf("panic serving %s %s: %v", c.Request().Method, c.Path(), p)
			}
		}()
		return next(c)
	}
}

// cors lets pages of any origin read the ledger and do what anyone may do
// on Walrus's chain: register a blob and certify it with a quorum's
// certificate (web/'s direct upload). The operator's routes (epochs,
// committees, deleting, extending, attributes, invalidation) get no CORS
// headers, so that a web page a developer visits cannot drive a local
// ledger. Preflights are cached a day.
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		if req.Header.Get("Origin") == "" {
			return next(c)
		}
		h.Add("Vary", "Origin")
		method := req.Method
		preflight := method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			method = req.Header.Get("Access-Control-Request-Method")
		}
		if !corsAllowed(method, req.URL.Path) {
			if preflight {
				return c.NoContent(http.StatusNoContent) // no Allow-Origin: the browser refuses
			}
			return next(c)
		}
		h.Set("Access-Control-Allow-Origin", "*")
		if !preflight {
			return next(c)
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST")
		if rh := req.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "86400")
		return c.NoContent(http.StatusNoContent)
	}
}

// corsAllowed reports whether pages of other origins may make the request.
func corsAllowed(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		if path == "/v1/blobs" {
			return true
		}
		id, ok := strings.CutPrefix(path, "/v1/objects/")
		if !ok {
			return false
		}
		id, ok = strings.CutSuffix(id, "/certify")
		return ok && id != "" && !strings.Contains(id, "/")
	}
	return false
}
