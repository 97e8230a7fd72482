package aggregator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/site"
)

// Static sites (package site), served without a portal: by path,
// /sites/{site_id}/..., and by host, {base36 site ID}.{any domain}, as
// Walrus's portals put a site in a subdomain. A request goes: the site's
// Blob object on the ledger (read every request, so that a deploy shows at
// once) -> its manifest blob (parsed manifests cached by blob ID) ->
// site.Resolve -> the resource's quilt patch, read as the patch routes
// read it -> its SHA-256 checked against the manifest -> the bytes with
// the manifest's headers. A resource whose bytes do not match is 503,
// never served.
//
// Path mode would share the aggregator's origin between every site (and
// the API and web pages), so its answers carry a Content-Security-Policy
// sandbox: the pages run in an opaque origin (no cookies or storage).
// A site that needs an origin of its own (storage, absolute links) is
// served by host, e.g. http://{base36}.localhost:31415/.

// Site errors (domain daemon.walrus.space).
const (
	reasonSiteNotFound     = "SITE_NOT_FOUND"
	reasonResourceNotFound = "SITE_RESOURCE_NOT_FOUND"
	reasonResourceMismatch = "SITE_RESOURCE_MISMATCH"
)

const (
	pathSite     = "/sites/:site_id"
	pathSiteTree = "/sites/:site_id/*"
	// ctxSiteByHost marks a request routed by its Host header.
	ctxSiteByHost = "haulout.site-by-host"
	// siteCacheControl: a site's URLs keep their names across deploys while
	// their content changes, so caches revalidate (with the ETag) each time.
	siteCacheControl = "no-cache"
	// pathModeCSP sandboxes a site served by path: scripts, forms and
	// popups work, but the document does not get the aggregator's origin.
	pathModeCSP = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
	// maxCachedManifests bounds the parsed-manifest cache.
	maxCachedManifests = 256
)

// sites serves static sites for an aggregator.
type sites struct {
	a *Aggregator

	mu        sync.Mutex
	manifests map[codec.BlobID]cachedManifest
}

type cachedManifest struct {
	m  *site.Manifest
	at time.Time
}

func newSites(a *Aggregator) *sites {
	return &sites{a: a, manifests: make(map[codec.BlobID]cachedManifest)}
}

// register adds the site routes and host routing to e.
func (s *sites) register(e *echo.Echo) {
	e.Pre(s.byHost)
	for _, p := range []string{pathSite, pathSiteTree} {
		e.Match([]string{http.MethodGet, http.MethodHead}, p, s.serve)
	}
}

// siteFromHost returns the site ID that a Host header names in its first
// label, as base36 ({id}.localhost:31415). Labels shorter than 40
// characters are hostnames, not site IDs (a 32-byte ID has about 50
// digits).
func siteFromHost(host string) (chain.ObjectID, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, rest, ok := strings.Cut(host, ".")
	if !ok || rest == "" || len(label) < 40 || len(label) > 63 {
		return chain.ObjectID{}, false
	}
	id, err := site.ParseBase36(label)
	return id, err == nil
}

// byHost routes requests whose host names a site to the site's path.
func (s *sites) byHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if id, ok := siteFromHost(r.Host); ok {
			prefix := "/sites/" + id.String()
			r.URL.Path = prefix + r.URL.Path
			if r.URL.RawPath != "" {
				r.URL.RawPath = prefix + r.URL.RawPath
			}
			c.Set(ctxSiteByHost, true)
		}
		return next(c)
	}
}

func errSiteNotFound(format string, a ...any) *apierr.Error {
	return apierr.New(apierr.NotFound, apierr.DomainDaemon, reasonSiteNotFound, format, a...)
}

// serve answers GET and HEAD on a site's path.
func (s *sites) serve(c echo.Context) error {
	r := c.Request()
	raw := c.Param("site_id")
	id, err := site.ParseSiteID(raw)
	if err != nil {
		return errBadPath("%v", err)
	}
	byHost, _ := c.Get(ctxSiteByHost).(bool)
	prefix := "/sites/" + raw
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		return errBadPath("site path %q", r.URL.Path)
	}
	if rest == "" {
		// Relative links of the index resolve under /sites/{id}/ only.
		loc := prefix + "/"
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		return c.Redirect(http.StatusMovedPermanently, loc)
	}
	ctx := r.Context()
	m, err := s.manifest(ctx, id)
	if err != nil {
		return err
	}
	res := site.Resolve(m, rest)
	switch res.Kind {
	case site.KindRedirect:
		loc := res.Location
		if !byHost && strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
			loc = prefix + loc
		}
		c.Response().Header().Set("Cache-Control", siteCacheControl)
		return c.Redirect(res.Status, loc)
	case site.KindRedirectLoop:
		return c.String(http.StatusLoopDetected, fmt.Sprintf("the site redirects %s to itself\n", res.Path))
	case site.KindNotFound:
		return apierr.New(apierr.NotFound, apierr.DomainDaemon, reasonResourceNotFound,
			"the site has no resource at %s, no matching redirect or route, and no /404.html", res.Path)
	}
	if !byHost {
		// Path mode shares the aggregator's origin among all sites: give
		// the site's pages an opaque origin of their own, so that one
		// site's scripts cannot read another's (or the web pages') storage.
		c.Response().Header().Set("Content-Security-Policy", pathModeCSP)
	}
	return s.respond(c, id, res.Resource, res.Status)
}

// manifest returns the current manifest of the site id.
func (s *sites) manifest(ctx context.Context, id chain.ObjectID) (*site.Manifest, error) {
	rec, err := s.a.ledger.Blob(ctx, id)
	switch {
	case errors.Is(err, chain.ErrBlobNotFound):
		return nil, errSiteNotFound("no site with ID %s (%s)", id, site.Base36(id))
	case err != nil:
		return nil, errLedger(err)
	case rec.Deleted:
		return nil, errSiteNotFound("the site's object %s was deleted", id)
	}
	mid, err := site.ManifestID(rec)
	if err != nil {
		return nil, errSiteNotFound("%v", err)
	}
	s.mu.Lock()
	cm, ok := s.manifests[mid]
	s.mu.Unlock()
	if ok && time.Since(cm.at) < quiltRecheck {
		return cm.m, nil
	}
	data, err := s.a.readBlobBytes(ctx, mid, site.MaxManifestSize)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Status == apierr.NotFound {
			return nil, errSiteNotFound("the manifest %s of site %s is not stored", mid, id)
		}
		return nil, err
	}
	m, err := site.DecodeManifest(data)
	if err != nil {
		return nil, errSiteNotFound("object %s is not a site: %v", id, err)
	}
	s.mu.Lock()
	if len(s.manifests) >= maxCachedManifests {
		for k := range s.manifests { // drop any one: manifests are cheap to reread
			delete(s.manifests, k)
			break
		}
	}
	s.manifests[mid] = cachedManifest{m: m, at: time.Now()}
	s.mu.Unlock()
	return m, nil
}

// respond serves a resource with status (200, or 404 for the site's 404
// page): its quilt patch, checked against the manifest's SHA-256, with the
// manifest's headers, a strong ETag (the SHA-256), 304, Range and HEAD.
func (s *sites) respond(c echo.Context, id chain.ObjectID, res *site.Resource, status int) error {
	r := c.Request()
	h := c.Response().Header()
	etag := `"` + base64.RawURLEncoding.EncodeToString(res.SHA256[:]) + `"`
	cond := condNone
	if status == http.StatusOK {
		cond = evaluateConditions(r, etag)
	}
	if cond == condNotModified {
		h.Set("ETag", etag)
		h.Set("Cache-Control", siteCacheControl)
		return c.NoContent(http.StatusNotModified)
	}
	p, err := s.a.readQuiltPatchByID(r.Context(), res.Patch)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(p.data); p.identifier != res.Path || site.Hash(sum) != res.SHA256 {
		s.a.log.Warn("site resource does not match its manifest; not served", "site", id, "path", res.Path,
			"patch", res.Patch, "identifier", p.identifier)
		return apierr.New(apierr.Unavailable, apierr.DomainDaemon, reasonResourceMismatch,
			"the bytes stored for %s do not match the site's SHA-256; not served", res.Path)
	}
	size := int64(len(p.data))
	sp := span{0, size}
	if status == http.StatusOK && cond != condIgnoreRange {
		got, partial, err := requestedSpan(c, size)
		if err != nil {
			return err
		}
		if partial {
			sp, status = got, http.StatusPartialContent
		}
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", siteCacheControl)
	for k, v := range res.Headers {
		if !framingHeader[k] { // the site's own Cache-Control etc. win
			h.Set(k, v)
		}
	}
	h.Set("ETag", etag)
	if status == http.StatusOK || status == http.StatusPartialContent {
		h.Set("Accept-Ranges", "bytes")
	}
	if status == http.StatusPartialContent {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(sp.start, 10)+"-"+strconv.FormatInt(sp.end-1, 10)+"/"+strconv.FormatInt(size, 10))
	}
	h.Set("Content-Length", strconv.FormatInt(sp.len(), 10))
	c.Response().WriteHeader(status)
	if r.Method == http.MethodHead || sp.len() == 0 {
		return nil
	}
	n, _ := c.Response().Write(p.data[sp.start:sp.end])
	s.a.metrics.responseBytes.WithLabelValues("site").Add(float64(n))
	return nil
}

// framingHeader are the headers that describe this response's body; a
// manifest cannot set them.
var framingHeader = map[string]bool{
	"content-length": true, "content-range": true, "transfer-encoding": true,
	"connection": true, "etag": true, "accept-ranges": true,
}

// readBlobBytes returns a whole blob, checked as a blob read checks it,
// from the caches or the nodes; blobs larger than max are refused.
func (a *Aggregator) readBlobBytes(ctx context.Context, id codec.BlobID, max int64) ([]byte, error) {
	rd := &read{id: id, mode: a.cfg.Consistency}
	if b, release, ok, err := a.fromCache(ctx, rd); err != nil {
		return nil, err
	} else if ok {
		defer release()
		if b.size() > max {
			return nil, errBlobTooLarge(uint64(b.size()), uint64(max))
		}
		var buf bytes.Buffer
		buf.Grow(int(b.size()))
		switch b := b.(type) {
		case memBody:
			_, err = b.d.writeSpan(&buf, span{0, b.size()})
		case fileBody:
			_, err = io.Copy(&buf, io.NewSectionReader(b.f, 0, b.n))
		default:
			err = fmt.Errorf("unexpected cache body %T", b)
		}
		if err != nil {
			return nil, errUnavailable(err)
		}
		return buf.Bytes(), nil
	}
	life, err := a.checkStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := a.joinFlight(id, rd.mode, life)
	if err != nil {
		return nil, err
	}
	defer a.leaveFlight(f)
	md, err := f.waitMeta(ctx)
	if err != nil {
		return nil, err
	}
	size := int64(md.UnencodedLength)
	if size > max {
		return nil, errBlobTooLarge(md.UnencodedLength, uint64(max))
	}
	if size == 0 {
		return []byte{}, nil
	}
	data, _, err := f.waitData(ctx, size-1)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(size))
	if _, err := data.writeSpan(&buf, span{0, size}); err != nil {
		return nil, errUnavailable(err)
	}
	return buf.Bytes(), nil
}
