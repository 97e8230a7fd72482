package aggregator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Route paths, in echo's syntax.
const (
	pathBlob                   = "/v1/blobs/:blob_id"
	pathBlobByObjectID         = "/v1/blobs/by-object-id/:object_id"
	pathBlobByteRange          = "/v1/blobs/:blob_id/byte-range"
	pathQuiltPatchByID         = "/v1/blobs/by-quilt-patch-id/:quilt_patch_id"
	pathQuiltPatchByIdentifier = "/v1/blobs/by-quilt-id/:quilt_id/:identifier"
	pathQuiltPatches           = "/v1/quilts/:quilt_id/patches"
	pathStatus                 = "/status"
	pathAPI                    = "/v1/api"
	pathOpenAPI                = "/v1/api/openapi.json"
)

// route is one path of the API, served for GET and HEAD.
type route struct {
	path    string
	handler echo.HandlerFunc // nil: not registered (404), and not documented
	doc     operation
}

// routes lists the API.
func (a *Aggregator) routes() []route {
	return []route{
		{pathBlob, a.getBlob, docBlob},
		{pathBlobByObjectID, a.getBlobByObjectID, docBlobByObjectID},
		{pathBlobByteRange, a.getBlobByteRange, docBlobByteRange},
		{pathQuiltPatchByID, a.getQuiltPatchByID, docQuiltPatchByID},
		{pathQuiltPatchByIdentifier, a.getQuiltPatchByIdentifier, docQuiltPatchByIdentifier},
		{pathQuiltPatches, a.getQuiltPatches, docQuiltPatches},
		{pathStatus, getStatus, docStatus},
		{pathAPI, a.getAPIPage, docAPIPage},
		{pathOpenAPI, a.getOpenAPI, docOpenAPI},
	}
}

func getStatus(c echo.Context) error { return c.String(http.StatusOK, "OK") }

// read is one blob read as a request asks it.
type read struct {
	id   codec.BlobID
	mode codec.Consistency
	// fixed is the slice the byte-range endpoint asks for (start, length),
	// checked against the blob's size once it is known; nil: the Range
	// header applies.
	fixed *span
	attrs map[string]string // Blob object attributes (by-object-id)
}

func (rd *read) etag() string {
	if rd.fixed != nil {
		return `"` + rd.id.String() + "-" + strconv.FormatInt(rd.fixed.start, 10) + "-" + strconv.FormatInt(rd.fixed.len(), 10) + `"`
	}
	return `"` + rd.id.String() + `"`
}

func (a *Aggregator) getBlob(c echo.Context) error {
	id, err := parseBlobIDParam(c.Param("blob_id"))
	if err != nil {
		return err
	}
	mode, err := a.consistency(c)
	if err != nil {
		return err
	}
	return a.serveRead(c, &read{id: id, mode: mode})
}

func (a *Aggregator) getBlobByObjectID(c echo.Context) error {
	raw := c.Param("object_id")
	oid, err := chain.ParseObjectID(raw)
	if err != nil {
		return errBadPath("invalid object ID %q: %v", raw, err)
	}
	mode, err := a.consistency(c)
	if err != nil {
		return err
	}
	rec, err := a.ledger.Blob(c.Request().Context(), oid)
	switch {
	case errors.Is(err, chain.ErrBlobNotFound):
		return errBlobNotFound("no Blob object with this ID")
	case err != nil:
		return errLedger(err)
	case rec.Deleted:
		return errBlobNotFound("the Blob object was deleted")
	}
	return a.serveRead(c, &read{id: rec.BlobID, mode: mode, attrs: rec.Attributes})
}

func (a *Aggregator) getBlobByteRange(c echo.Context) error {
	id, err := parseBlobIDParam(c.Param("blob_id"))
	if err != nil {
		return err
	}
	start, err := queryUint(c, "start")
	if err != nil {
		return err
	}
	length, err := queryUint(c, "length")
	if err != nil {
		return err
	}
	if length == 0 {
		return errInvalidByteRange("the length of a byte range must be positive")
	}
	if start > 1<<62 || length > 1<<62 {
		return errInvalidByteRange("byte range %d+%d is beyond any blob", start, length)
	}
	s := span{int64(start), int64(start) + int64(length)}
	return a.serveRead(c, &read{id: id, mode: a.cfg.Consistency, fixed: &s})
}

func parseBlobIDParam(raw string) (codec.BlobID, error) {
	id, err := codec.ParseBlobID(raw)
	if err != nil {
		return id, errBadPath("%v", err)
	}
	return id, nil
}

func queryUint(c echo.Context, name string) (uint64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, errBadQuery("missing field `%s`", name)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errBadQuery("%s: invalid digit found in string %q", name, v)
	}
	return n, nil
}

// consistency reads Walrus's strict_consistency_check and
// skip_consistency_check flags. Other query parameters are ignored (Walrus
// refuses them, which breaks cache busters).
func (a *Aggregator) consistency(c echo.Context) (codec.Consistency, error) {
	flag := func(name string) (bool, error) {
		v := c.QueryParam(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, errBadQuery("%s: provided string was not `true` or `false`", name)
		}
		return b, nil
	}
	strict, err := flag("strict_consistency_check")
	if err != nil {
		return 0, err
	}
	skip, err := flag("skip_consistency_check")
	if err != nil {
		return 0, err
	}
	switch {
	case strict && skip:
		return 0, apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidConsistency,
			"strict_consistency_check and skip_consistency_check cannot both be set")
	case strict:
		return codec.ConsistencyStrict, nil
	case skip:
		return codec.ConsistencySkip, nil
	}
	return a.cfg.Consistency, nil
}

// body is where a response's bytes come from: memory, a cache file, or a
// reconstruction in flight.
type body interface {
	size() int64
	// ready waits until the byte at off can be sent, so that a read that
	// fails before its first byte is still answered with an error.
	ready(ctx context.Context, off int64) error
	// prefix returns up to n first bytes (content sniffing).
	prefix(ctx context.Context, n int64) ([]byte, error)
	writeSpan(ctx context.Context, c echo.Context, s span) (int64, error)
	source() string
}

type memBody struct{ d *blobData }

func (b memBody) size() int64                        { return b.d.size }
func (b memBody) ready(context.Context, int64) error { return nil }
func (b memBody) source() string                     { return "memory" }
func (b memBody) prefix(_ context.Context, n int64) ([]byte, error) {
	return b.d.prefix(n), nil
}
func (b memBody) writeSpan(_ context.Context, c echo.Context, s span) (int64, error) {
	return b.d.writeSpan(c.Response(), s)
}

type fileBody struct {
	f *os.File
	n int64
}

func (b fileBody) size() int64                        { return b.n }
func (b fileBody) ready(context.Context, int64) error { return nil }
func (b fileBody) source() string                     { return "disk" }
func (b fileBody) prefix(_ context.Context, n int64) ([]byte, error) {
	p := make([]byte, min(n, b.n))
	_, err := b.f.ReadAt(p, 0)
	return p, err
}
func (b fileBody) writeSpan(_ context.Context, c echo.Context, s span) (int64, error) {
	if _, err := b.f.Seek(s.start, io.SeekStart); err != nil {
		return 0, err
	}
	return io.CopyN(sendfileWriter{c.Response()}, b.f, s.len())
}

type flightBody struct {
	f *flight
	n int64
}

func (b flightBody) size() int64    { return b.n }
func (b flightBody) source() string { return "nodes" }
func (b flightBody) ready(ctx context.Context, off int64) error {
	_, _, err := b.f.waitData(ctx, off)
	return err
}
func (b flightBody) prefix(ctx context.Context, n int64) ([]byte, error) {
	n = min(n, b.n)
	if n == 0 {
		return nil, nil
	}
	data, _, err := b.f.waitData(ctx, n-1)
	if err != nil {
		return nil, err
	}
	return data.prefix(n), nil
}
func (b flightBody) writeSpan(ctx context.Context, c echo.Context, s span) (int64, error) {
	return b.f.writeSpan(ctx, c.Response(), s)
}

// serveRead answers a blob read: from the cache when it holds the blob,
// else after checking the blob's status with the ledger, from the nodes.
func (a *Aggregator) serveRead(c echo.Context, rd *read) error {
	ctx := c.Request().Context()
	if b, release, ok, err := a.fromCache(ctx, rd); err != nil {
		return err
	} else if ok {
		defer release()
		return a.respond(c, rd, b)
	}
	a.metrics.cacheLookups.WithLabelValues("miss").Inc()
	life, err := a.checkStatus(ctx, rd.id)
	if err != nil {
		return err
	}
	if evaluateConditions(c.Request(), rd.etag()) == condNotModified {
		return a.notModified(c, rd)
	}
	if c.Request().Method == http.MethodHead {
		cv, err := a.committees.current(ctx)
		if err != nil {
			return errLedger(err)
		}
		md, _, _, err := a.fetchMetadata(ctx, cv, rd.id)
		if err != nil {
			return errUnavailable(err)
		}
		if limit := a.cfg.MaxBlobSize; limit > 0 && md.UnencodedLength > limit {
			return errBlobTooLarge(md.UnencodedLength, limit)
		}
		return a.respond(c, rd, headBody{int64(md.UnencodedLength)})
	}
	f, err := a.joinFlight(rd.id, rd.mode, life)
	if err != nil {
		return err
	}
	defer a.leaveFlight(f)
	md, err := f.waitMeta(ctx)
	if err != nil {
		return err
	}
	return a.respond(c, rd, flightBody{f, int64(md.UnencodedLength)})
}

// headBody is a blob known by its metadata only: enough for HEAD.
type headBody struct{ n int64 }

func (b headBody) size() int64                        { return b.n }
func (b headBody) ready(context.Context, int64) error { return nil }
func (b headBody) source() string                     { return "metadata" }
func (b headBody) prefix(context.Context, int64) ([]byte, error) {
	return nil, nil
}
func (b headBody) writeSpan(context.Context, echo.Context, span) (int64, error) {
	return 0, errors.New("aggregator: a HEAD answer has no body")
}

// fromCache returns the blob from the memory or the disk cache if either
// holds it checked at the level asked, after re-checking its status with
// the ledger when it is not known fresh. ok is false on a miss; err is set
// when the ledger says the blob is gone (it then leaves the caches).
func (a *Aggregator) fromCache(ctx context.Context, rd *read) (b body, release func(), ok bool, err error) {
	lvl := levelOf(rd.mode)
	if e, hit := a.mem.get(rd.id, lvl); hit {
		if !a.fresh(e.info) {
			if _, err := a.recheck(ctx, rd.id); err != nil {
				return nil, nil, false, err
			}
		}
		a.metrics.cacheLookups.WithLabelValues("memory").Inc()
		return memBody{e.data}, func() {}, true, nil
	}
	if a.disk == nil {
		return nil, nil, false, nil
	}
	e, info, hit := a.disk.get(rd.id, lvl)
	if !hit {
		return nil, nil, false, nil
	}
	if !a.fresh(info) {
		life, err := a.recheck(ctx, rd.id)
		if err != nil {
			return nil, nil, false, err
		}
		info.endEpoch, info.checkedAt = life.endEpoch, life.checkedAt
	}
	f, err := a.disk.open(e)
	if err != nil {
		return nil, nil, false, nil // removed: read it from the nodes
	}
	a.metrics.cacheLookups.WithLabelValues("disk").Inc()
	if e.size <= smallBlob && a.mem.fits(e.size) {
		// Small blobs are cheaper from memory than with a file per hit.
		data := make([]byte, e.size)
		_, err := io.ReadFull(f, data)
		f.Close()
		if err != nil {
			return nil, nil, false, nil
		}
		d := newBlobData(data, 0)
		a.mem.put(rd.id, info, d)
		return memBody{d}, func() {}, true, nil
	}
	return fileBody{f, e.size}, func() { f.Close() }, true, nil
}

// smallBlob is the size up to which a disk hit is copied into memory.
const smallBlob = 1 << 20

// recheck asks the ledger about a cached blob and refreshes its entries; a
// blob that is gone leaves the caches and is answered 404.
func (a *Aggregator) recheck(ctx context.Context, id codec.BlobID) (blobLife, error) {
	life, err := a.checkStatus(ctx, id)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == apierr.NotFound {
		a.evict(id, "gone")
		return life, err
	}
	if err != nil {
		return life, err
	}
	refresh := func(info *cacheInfo) { info.endEpoch, info.checkedAt = life.endEpoch, life.checkedAt }
	a.mem.update(id, refresh)
	if a.disk != nil {
		a.disk.update(id, refresh)
	}
	return life, nil
}

// notModified answers 304 with the validators a 200 would carry.
func (a *Aggregator) notModified(c echo.Context, rd *read) error {
	h := c.Response().Header()
	h.Set("ETag", rd.etag())
	h.Set("Cache-Control", cacheControl)
	return c.NoContent(http.StatusNotModified)
}

// cacheControl is Walrus's, hard-coded: blob IDs name immutable content.
const cacheControl = "public, max-age=86400, stale-while-revalidate=3600"

// respond answers a read whose bytes come from b: validators, the range,
// the headers, then the body as it becomes available.
func (a *Aggregator) respond(c echo.Context, rd *read, b body) error {
	r := c.Request()
	ctx := r.Context()
	size := b.size()
	cond := evaluateConditions(r, rd.etag())
	if cond == condNotModified {
		return a.notModified(c, rd)
	}
	status := http.StatusOK
	s := span{0, size}
	switch {
	case rd.fixed != nil:
		if rd.fixed.end > size {
			return errInvalidByteRange("byte range %d+%d is outside the blob's %d bytes", rd.fixed.start, rd.fixed.len(), size)
		}
		s = *rd.fixed
	case cond != condIgnoreRange:
		sp, partial, err := requestedSpan(c, size)
		if err != nil {
			return err
		}
		if partial {
			s, status = sp, http.StatusPartialContent
		}
	}
	if r.Method != http.MethodHead && s.len() > 0 {
		if err := b.ready(ctx, s.start); err != nil {
			return err
		}
	}
	a.setHeaders(c, rd, b, s, status, size)
	c.Response().WriteHeader(status)
	if r.Method == http.MethodHead || s.len() == 0 {
		return nil
	}
	n, err := b.writeSpan(ctx, c, s)
	a.metrics.responseBytes.WithLabelValues(b.source()).Add(float64(n))
	if err != nil {
		if ctx.Err() != nil {
			return nil // the client left
		}
		var ae *apierr.Error
		if errors.As(err, &ae) {
			// The read failed after the first byte: end the response short
			// rather than complete it with anything unchecked.
			a.log.Warn("blob read failed mid-response, aborting it", "blob_id", rd.id, "sent", n, "err", err)
			panic(http.ErrAbortHandler)
		}
		return nil // a write error: the connection is gone
	}
	return nil
}

// setHeaders writes the headers of a successful read: Walrus's common ones
// (nosniff, Cache-Control, ETag, mirrored Content-Type, allowed
// attributes) and the ones for ranges.
func (a *Aggregator) setHeaders(c echo.Context, rd *read, b body, s span, status int, size int64) {
	r := c.Request()
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", rd.etag())
	if rd.fixed == nil {
		h.Set("Accept-Ranges", "bytes")
	}
	if ct := mirroredContentType(r); ct != "" {
		h.Set("Content-Type", ct)
	}
	for k, v := range rd.attrs {
		if k == "" || !a.allowed(k) || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			continue
		}
		if _, present := h[http.CanonicalHeaderKey(k)]; present {
			continue
		}
		h.Set(k, v)
	}
	if _, present := h["Content-Type"]; !present && a.cfg.SniffContentType && r.Method != http.MethodHead {
		if p, err := b.prefix(r.Context(), 512); err == nil && len(p) > 0 {
			h.Set("Content-Type", http.DetectContentType(p))
		}
	}
	if _, present := h["Content-Type"]; !present {
		// No type, as Walrus since PR #2866 (net/http would sniff one).
		h["Content-Type"] = nil
	}
	if status == http.StatusPartialContent {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(s.start, 10)+"-"+strconv.FormatInt(s.end-1, 10)+"/"+strconv.FormatInt(size, 10))
	}
	h.Set("Content-Length", strconv.FormatInt(s.len(), 10))
}

// mirroredContentType is Walrus's Content-Type choice: the request's Accept
// when it names one type without wildcards, else a GET's own Content-Type.
func mirroredContentType(r *http.Request) string {
	if acc := r.Header.Get("Accept"); acc != "" && !strings.Contains(acc, "*") {
		return acc
	}
	if r.Method == http.MethodGet {
		return r.Header.Get("Content-Type")
	}
	return ""
}

func (a *Aggregator) allowed(key string) bool {
	for _, k := range a.cfg.AllowedHeaders {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// errorCode is the HTTP status an error from a handler becomes.
func errorCode(err error) int {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.Code()
	}
	if errors.Is(err, context.Canceled) {
		return 499
	}
	return http.StatusInternalServerError
}
