package aggregator

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// exposedHeaders are the response headers browser scripts may read
// cross-origin (Walrus exposes none; spec §1.4, §11.14).
const exposedHeaders = "ETag, Content-Range, Content-Length, Accept-Ranges, X-Quilt-Patch-Identifier"

// cors answers as Walrus's CorsLayer with any origin, method and header:
// every response allows any origin, preflights are answered here (before
// routing, so every path has them) and cached for a day. Hand-written
// because echo's middleware package pulls golang.org/x/time, which the
// module does not otherwise need.
func cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, h := c.Request(), c.Response().Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			return next(c)
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
		return c.NoContent(http.StatusOK)
	}
}

// observe bounds requests in flight (429 beyond MaxConcurrentRequests),
// counts and times them, and logs failures.
func (a *Aggregator) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		route := c.Path()
		if route == "" {
			route = "unknown"
		}
		if a.requests.Add(1) > int64(a.cfg.MaxConcurrentRequests) {
			a.requests.Add(-1)
			a.metrics.rejected.WithLabelValues("requests").Inc()
			a.metrics.requests.WithLabelValues(route, c.Request().Method, "429").Inc()
			return errOverloaded
		}
		defer a.requests.Add(-1)
		defer func() {
			if p := recover(); p != nil {
				a.metrics.requests.WithLabelValues(route, c.Request().Method, "aborted").Inc()
				panic(p) // http.ErrAbortHandler: the server drops the connection
			}
		}()
		err := next(c)
		code := c.Response().Status
		if err != nil {
			var he *echo.HTTPError
			switch {
			case errors.As(err, &he):
				code = he.Code
			default:
				code = errorCode(err)
			}
		}
		took := time.Since(start)
		a.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(code)).Inc()
		a.metrics.requestSeconds.WithLabelValues(route).Observe(took.Seconds())
		a.log.Debug("request", "method", c.Request().Method, "path", c.Request().URL.Path, "route", route,
			"status", code, "bytes", c.Response().Size, "took", took)
		return err
	}
}

// sendfileWriter lets io.Copy reach the server connection's ReadFrom, so
// that a cached file goes out with sendfile(2) (echo's Response does not
// implement io.ReaderFrom).
type sendfileWriter struct{ r *echo.Response }

func (w sendfileWriter) Write(b []byte) (int, error) { return w.r.Write(b) }

func (w sendfileWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.r.Committed {
		w.r.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.r.Writer.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(src)
		w.r.Size += n
		return n, err
	}
	return io.Copy(struct{ io.Writer }{w.r}, src)
}
