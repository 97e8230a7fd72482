package aggregator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Quilt patch reads (spec §3.5). A quilt is an ordinary blob whose columns
// (secondary slivers) hold its index and its files, so a patch is read
// from the few columns that hold it: each fetched from the node of its
// shard and checked against the quilt's verified metadata before a byte
// of it is used. Reading by identifier first needs the index's columns
// (cached per quilt); reading by patch ID needs only the patch's. A column
// whose node is down, slow or lying is rebuilt from recovery symbols of the
// other nodes' primary slivers; when that fails too, the read falls back
// to the whole quilt, read and decoded as any blob (and then cached), and
// cuts the columns out of it. A quilt whole in the blob cache serves its
// patches without asking the nodes.

// reasonQuiltPatchNotFound is Walrus's 404 for a patch not in its quilt.
const reasonQuiltPatchNotFound = "QUILT_PATCH_NOT_FOUND"

// HeaderQuiltPatchIdentifier carries a patch's identifier in its response.
const HeaderQuiltPatchIdentifier = "X-Quilt-Patch-Identifier"

func errPatchNotFound(cause string) *apierr.Error {
	e := apierr.New(apierr.NotFound, apierr.DomainDaemon, reasonQuiltPatchNotFound,
		"the requested quilt patch does not exist on Walrus")
	if cause != "" {
		e.Metadata = map[string]string{"cause": cause}
	}
	return e
}

// quiltRecheck is how long a quilt's cached status is used before the
// ledger is asked again. It stays below the time evictions are
// remembered (ReadTimeout + a minute), so that stillLive sees them.
const quiltRecheck = time.Minute

// quiltPatch is one patch, read and checked: what site serving and the
// patch routes send.
type quiltPatch struct {
	id         codec.QuiltPatchID // the quilt's blob ID and the patch's columns
	identifier string
	tags       map[string]string // never nil
	data       []byte            // the file's bytes; shared, do not modify
}

// etag is the patch ID, quoted: it names the quilt and the columns, so it
// changes whenever the bytes could. (Walrus sends the bare quilt ID, which
// If-None-Match also accepts.)
func (p *quiltPatch) etag() string { return `"` + p.id.String() + `"` }

func (p *quiltPatch) size() int64 {
	n := int64(len(p.data) + len(p.identifier) + 128)
	for k, v := range p.tags {
		n += int64(len(k) + len(v) + 32)
	}
	return n
}

// serveQuiltPatch answers a request with the patch of the quilt that has
// the identifier, as the by-quilt-id route does: read and checked as
// readQuiltPatch does, with Walrus's headers (X-Quilt-Patch-Identifier,
// allowed tags as headers, Content-Type mirrored from Accept), a strong
// ETag (the patch ID) answered 304, Range (206, 416) and HEAD. extraHeaders
// (may be nil) are set last and override any header but the ETag and the
// ones that frame the body (Content-Length, Content-Range); an empty value
// removes a header.
//
// Site serving uses it to serve a site's resources stored as quilt
// patches: keep its signature stable.
func (a *Aggregator) serveQuiltPatch(c echo.Context, quiltID codec.BlobID, identifier string, extraHeaders http.Header) error {
	ctx := c.Request().Context()
	info, entry, err := a.locatePatch(ctx, quiltID, identifier)
	if err != nil {
		return err
	}
	// The index gives the ETag: a revalidation reads no column.
	if id := entry.ID(quiltID); patchNotModified(c.Request(), id) {
		return notModifiedPatch(c, id, extraHeaders)
	}
	p, err := a.loadPatch(ctx, info, entry.InternalID(), entry.Identifier)
	if err != nil {
		return err
	}
	return a.respondPatch(c, p, extraHeaders)
}

// readQuiltPatch returns the patch of the quilt that has the identifier
// (the first, should the index list it twice, as Walrus), with its tags.
// It checks with the ledger that the quilt may be served, then reads the
// index's columns (unless cached) and the patch's from the nodes, each
// verified against the quilt's metadata; when columns cannot be had, it
// reads the whole quilt. Errors are *apierr.Error (404 BLOB_NOT_FOUND,
// 404 QUILT_PATCH_NOT_FOUND, 503 BLOB_UNAVAILABLE, ...) or the context's.
//
// Site serving uses it (through serveQuiltPatch, or directly to read a
// patch's bytes): keep its signature stable.
func (a *Aggregator) readQuiltPatch(ctx context.Context, quiltID codec.BlobID, identifier string) (*quiltPatch, error) {
	info, p, err := a.locatePatch(ctx, quiltID, identifier)
	if err != nil {
		return nil, err
	}
	return a.loadPatch(ctx, info, p.InternalID(), p.Identifier)
}

// locatePatch finds the identifier in the quilt's index.
func (a *Aggregator) locatePatch(ctx context.Context, quiltID codec.BlobID, identifier string) (*quiltInfo, *codec.QuiltPatch, error) {
	info, err := a.quiltWithIndex(ctx, quiltID)
	if err != nil {
		return nil, nil, err
	}
	p, err := info.index.Lookup(identifier)
	if err != nil {
		return nil, nil, errPatchNotFound(fmt.Sprintf("the quilt has no patch %q", truncated(identifier)))
	}
	return info, p, nil
}

// readQuiltPatchByID returns the patch a patch ID names. Unless the
// quilt's index is cached, only the patch's columns are read: they must
// hold one well-formed patch.
func (a *Aggregator) readQuiltPatchByID(ctx context.Context, id codec.QuiltPatchID) (*quiltPatch, error) {
	info, err := a.quiltState(ctx, id.Quilt)
	if err != nil {
		return nil, err
	}
	want := ""
	if info.index != nil {
		p, err := info.index.LookupID(id.Patch)
		if err != nil {
			return nil, errPatchNotFound(fmt.Sprintf("the quilt has no patch at columns [%d, %d)", id.Patch.Start, id.Patch.End))
		}
		want = p.Identifier
	}
	if int(id.Patch.End) > info.cfg.SecondarySourceSymbols() {
		return nil, errPatchNotFound(fmt.Sprintf("columns [%d, %d) are beyond the quilt's %d", id.Patch.Start, id.Patch.End, info.cfg.SecondarySourceSymbols()))
	}
	return a.loadPatch(ctx, info, id.Patch, want)
}

// quiltState checks that the quilt may be served (with the ledger, unless
// its cached status is recent and nothing evicted it since) and returns
// its verified metadata, with the index if one is cached. A blob that
// cannot be a quilt is 404 QUILT_PATCH_NOT_FOUND.
func (a *Aggregator) quiltState(ctx context.Context, id codec.BlobID) (*quiltInfo, error) {
	info, ok := a.quilts.infos.get(id)
	if ok && a.stillLive(id, info.life) && a.fresh(cacheInfo{checkedAt: info.life.checkedAt}) &&
		time.Since(info.life.checkedAt) < quiltRecheck {
		return info.usable()
	}
	life, err := a.checkStatus(ctx, id)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Status == apierr.NotFound {
			a.quilts.forget(id)
		}
		return nil, err
	}
	if ok {
		fresh := *info
		fresh.life = life
		a.quilts.infos.put(id, &fresh, fresh.size())
		return fresh.usable()
	}
	v, err := a.shared(ctx, "metadata "+id.String(), func(ctx context.Context) (any, error) {
		cv, err := a.committees.current(ctx)
		if err != nil {
			return nil, errLedger(err)
		}
		md, cfg, _, err := a.fetchMetadata(ctx, cv, id)
		if err != nil {
			return nil, errUnavailable(err)
		}
		_, err = cfg.NewQuiltColumns(md.UnencodedLength)
		info := &quiltInfo{md: md, cfg: cfg, life: life, notQuilt: err != nil}
		a.quilts.infos.put(id, info, info.size())
		return info, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*quiltInfo).usable()
}

// quiltWithIndex is quiltState with the index, read from its columns
// when not cached.
func (a *Aggregator) quiltWithIndex(ctx context.Context, id codec.BlobID) (*quiltInfo, error) {
	info, err := a.quiltState(ctx, id)
	if err != nil || info.index != nil {
		return info, err
	}
	v, err := a.shared(ctx, "index "+id.String(), func(ctx context.Context) (any, error) {
		src, err := a.newQuiltSource(info)
		if err != nil {
			return nil, err
		}
		defer src.close()
		if err := src.need(ctx, 0, 1); err != nil {
			return nil, err
		}
		n, err := src.qc.IndexColumns()
		if err != nil {
			return nil, errPatchNotFound("the blob is not a quilt: " + err.Error())
		}
		if err := src.need(ctx, 1, n); err != nil {
			return nil, err
		}
		x, err := src.qc.Index()
		if err != nil {
			notQuilt := *info
			notQuilt.notQuilt = true
			a.quilts.infos.put(id, &notQuilt, notQuilt.size())
			return nil, errPatchNotFound("the blob is not a quilt: " + err.Error())
		}
		withIndex := *info
		withIndex.index = x
		a.quilts.infos.put(id, &withIndex, withIndex.size())
		return &withIndex, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*quiltInfo), nil
}

// loadPatch returns the patch at cols, from the patch cache or its
// columns. want, when set, is the identifier the index gives it.
func (a *Aggregator) loadPatch(ctx context.Context, info *quiltInfo, cols codec.QuiltPatchInternalID, want string) (*quiltPatch, error) {
	key := patchKey{info.md.ID, cols}
	if p, ok := a.quilts.patches.get(key); ok {
		if want != "" && p.identifier != want {
			return nil, errPatchNotFound(fmt.Sprintf("the index lists %q at columns [%d, %d), the patch there is %q",
				truncated(want), cols.Start, cols.End, truncated(p.identifier)))
		}
		a.quilts.reads.WithLabelValues("cache").Inc()
		return p, nil
	}
	colSize := uint64(info.cfg.PrimarySourceSymbols()) * (info.md.UnencodedLength / uint64(info.cfg.PrimarySourceSymbols()*info.cfg.SecondarySourceSymbols()))
	if limit := a.cfg.MaxBlobSize; limit > 0 && uint64(cols.End-cols.Start)*colSize > limit {
		return nil, errBlobTooLarge(uint64(cols.End-cols.Start)*colSize, limit)
	}
	id := codec.QuiltPatchID{Quilt: info.md.ID, Patch: cols}
	v, err := a.shared(ctx, "patch "+id.String(), func(ctx context.Context) (any, error) {
		src, err := a.newQuiltSource(info)
		if err != nil {
			return nil, err
		}
		defer src.close()
		if err := src.need(ctx, int(cols.Start), int(cols.End)); err != nil {
			return nil, err
		}
		f, err := src.qc.FileAt(cols)
		if err != nil {
			return nil, errPatchNotFound(err.Error())
		}
		if want != "" && f.Identifier != want {
			return nil, errPatchNotFound(fmt.Sprintf("the index lists %q at columns [%d, %d), the patch there is %q",
				truncated(want), cols.Start, cols.End, truncated(f.Identifier)))
		}
		tags := f.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		p := &quiltPatch{id: id, identifier: f.Identifier, tags: tags, data: f.Data}
		a.quilts.patches.put(key, p, p.size())
		a.quilts.reads.WithLabelValues(src.source()).Inc()
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*quiltPatch), nil
}

// shared runs fn once for all the requests that ask for key at the same
// time. fn runs under the aggregator's context (bounded by ReadTimeout),
// so that a request that leaves does not fail the others; each request
// waits only as long as its own context allows.
func (a *Aggregator) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := a.quilts.group.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(a.baseCtx, a.cfg.ReadTimeout)
		defer cancel()
		v, err := fn(rctx)
		if err != nil && a.baseCtx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = errUnavailable(fmt.Errorf("quilt read timed out: %w", err))
		}
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// quiltSource gives one read the verified columns it needs: fetched from
// the nodes, or cut out of the whole quilt once that had to be read.
type quiltSource struct {
	a    *Aggregator
	info *quiltInfo
	qc   *codec.QuiltColumns
	// whole reads n bytes of the quilt blob at off, once the read fell
	// back to it; release lets go of it.
	whole   func(off, n int64) ([]byte, error)
	release func()
	from    string // "columns" or "blob"
}

func (a *Aggregator) newQuiltSource(info *quiltInfo) (*quiltSource, error) {
	qc, err := info.cfg.NewQuiltColumns(info.md.UnencodedLength)
	if err != nil {
		return nil, errPatchNotFound("the blob is not a quilt")
	}
	return &quiltSource{a: a, info: info, qc: qc, from: "columns"}, nil
}

func (s *quiltSource) source() string { return s.from }

func (s *quiltSource) close() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// need makes the columns [start, end) available.
func (s *quiltSource) need(ctx context.Context, start, end int) error {
	var missing []int
	for c := start; c < end; c++ {
		if !s.qc.Has(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if s.whole == nil {
		if s.loadCached(ctx) {
			return s.cut(missing)
		}
		err := s.a.fetchColumns(ctx, s.info, s.qc, missing)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.a.log.Info("quilt columns unavailable, reading the whole quilt", "quilt_id", s.info.md.ID, "columns", len(missing), "err", err)
		if err := s.loadWhole(ctx); err != nil {
			return err
		}
	}
	return s.cut(missing)
}

// loadCached uses the whole quilt if the blob cache holds it.
func (s *quiltSource) loadCached(ctx context.Context) bool {
	b, release, ok, err := s.a.fromCache(ctx, &read{id: s.info.md.ID, mode: s.a.cfg.Consistency})
	if err != nil || !ok {
		return false
	}
	switch b := b.(type) {
	case memBody:
		s.whole = blobDataReader(b.d)
	case fileBody:
		s.whole = func(off, n int64) ([]byte, error) {
			p := make([]byte, n)
			_, err := b.f.ReadAt(p, off)
			return p, err
		}
	default:
		release()
		return false
	}
	s.release, s.from = release, "cache"
	return true
}

// loadWhole reads the whole quilt as a blob read does (joining one in
// flight), for the columns that could not be fetched.
func (s *quiltSource) loadWhole(ctx context.Context) error {
	a := s.a
	f, err := a.joinFlight(s.info.md.ID, a.cfg.Consistency, s.info.life)
	if err != nil {
		return err
	}
	size := int64(s.info.md.UnencodedLength)
	data, _, err := f.waitData(ctx, size-1)
	if err != nil {
		a.leaveFlight(f)
		return err
	}
	s.whole, s.release, s.from = blobDataReader(data), func() { a.leaveFlight(f) }, "blob"
	return nil
}

func blobDataReader(d *blobData) func(off, n int64) ([]byte, error) {
	return func(off, n int64) ([]byte, error) {
		var b bytes.Buffer
		b.Grow(int(n))
		_, err := d.writeSpan(&b, span{off, off + n})
		return b.Bytes(), err
	}
}

// cut adds the columns from the whole quilt: column c is symbol c of each
// of the k1 rows of k2 symbols.
func (s *quiltSource) cut(cols []int) error {
	cfg := s.info.cfg
	rows, k2 := cfg.PrimarySourceSymbols(), cfg.SecondarySourceSymbols()
	sym := int64(s.qc.ColumnSize() / rows)
	for _, c := range cols {
		data := make([]byte, 0, s.qc.ColumnSize())
		for r := range rows {
			b, err := s.whole((int64(r)*int64(k2)+int64(c))*sym, sym)
			if err != nil {
				return errUnavailable(fmt.Errorf("column %d of the cached quilt: %w", c, err))
			}
			data = append(data, b...)
		}
		sl := &codec.Sliver{Axis: codec.Secondary, Index: uint16(c), SymbolSize: uint16(sym), Data: data}
		if err := s.qc.Add(sl); err != nil {
			return errUnavailable(err)
		}
	}
	return nil
}

// columnTimeout bounds the fetch of a patch's columns (recovery
// included) before the read falls back to the whole quilt; a column's own
// request gets half of it, recovery the rest.
func (a *Aggregator) columnTimeout() time.Duration {
	return min(a.cfg.SliverTimeout, max(8*a.cfg.HedgeDelay, 2*time.Second))
}

// recoverySource is what column recovery needs of a node;
// *nodeclient.Client has it.
type recoverySource interface {
	RecoverySymbols(ctx context.Context, id codec.BlobID, target codec.Axis, targetIndex uint16) ([]codec.RecoverySymbol, error)
}

// fetchColumns fetches the secondary slivers cols of the quilt, each from
// the node holding its shard, checks them against the metadata and adds
// them to qc. A column whose node fails, is slow or sends a sliver that
// does not verify is rebuilt from recovery symbols of the other nodes'
// primary slivers (about a column's worth of bytes, with proofs); when
// that fails too the caller reads the whole quilt instead.
func (a *Aggregator) fetchColumns(ctx context.Context, info *quiltInfo, qc *codec.QuiltColumns, cols []int) error {
	cv, err := a.committees.current(ctx)
	if err != nil {
		return err
	}
	id, n := info.md.ID, info.cfg.NShards()
	if int(cv.NShards) != n {
		return fmt.Errorf("the committee has %d shards, the quilt %d", cv.NShards, n)
	}
	timeout := a.columnTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	slivers := make([]*codec.Sliver, len(cols))
	errs := make([]error, len(cols))
	sem := make(chan struct{}, a.cfg.MaxSliverFetches)
	var wg sync.WaitGroup
	for i, col := range cols {
		pair := codec.SliverIndex(uint16(col), codec.Secondary, n) // the same map both ways
		node, ok := cv.nodeOfShard(codec.ShardForPair(id, int(pair), n))
		if !ok {
			return fmt.Errorf("committee has no node for the shard of column %d", col)
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			sl, err := a.fetchColumn(ctx, info, node, pair, col, timeout/2)
			<-sem
			if err != nil {
				a.log.Debug("quilt column unavailable, recovering it", "quilt_id", id, "column", col, "node", node.Name, "err", err)
				sl, err = a.recoverColumn(ctx, info, cv, col, node.RESTURL)
				if err == nil {
					a.quilts.recovered.Inc()
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("column %d: %w", col, err)
				cancel() // the read falls back to the whole quilt
				return
			}
			slivers[i] = sl
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var got int
	for _, sl := range slivers {
		got += len(sl.Data)
	}
	a.quilts.columnBytes.Add(float64(got))
	return qc.Add(slivers...)
}

// fetchColumn fetches one column from the node of its shard and checks it
// against the metadata.
func (a *Aggregator) fetchColumn(ctx context.Context, info *quiltInfo, node chain.NodeInfo, pair uint16, col int, timeout time.Duration) (*codec.Sliver, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	c, err := a.nodes.client(node)
	var sl *codec.Sliver
	if err == nil {
		sl, err = c.GetSliver(ctx, info.md.ID, pair, codec.Secondary)
	}
	if err == nil && (sl == nil || sl.Axis != codec.Secondary || int(sl.Index) != col) {
		err = fmt.Errorf("%w: asked for secondary sliver %d, got another", codec.ErrInvalidSliver, col)
	}
	a.nodes.observe(node.RESTURL, time.Since(start), err == nil)
	if err != nil {
		a.metrics.sliverFetches.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("from node %s: %w", node.Name, err)
	}
	if err := info.cfg.VerifySliver(&info.md.BlobMetadata, sl); err != nil {
		a.metrics.sliverFetches.WithLabelValues("invalid").Inc()
		a.metrics.faultyNodes.Inc()
		a.log.Warn("node sent a quilt column that does not match the metadata", "quilt_id", info.md.ID, "column", col, "node", node.Name, "url", node.RESTURL, "err", err)
		return nil, fmt.Errorf("from node %s: %w", node.Name, err)
	}
	a.metrics.sliverFetches.WithLabelValues("ok").Inc()
	return sl, nil
}

// recoverColumn rebuilds column col from the recovery symbols the other
// nodes give (one per primary sliver they hold, each with its Merkle proof
// against the metadata), asking them all at once and decoding as soon as
// enough have arrived. codec.RecoverSliver skips symbols whose proofs
// fail and checks the rebuilt column against the metadata.
func (a *Aggregator) recoverColumn(ctx context.Context, info *quiltInfo, cv *committeeView, col int, skip string) (*codec.Sliver, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	id := info.md.ID
	type answer struct {
		syms []codec.RecoverySymbol
		err  error
	}
	nodes := order(a.nodes, slices.Clone(cv.Nodes), func(n chain.NodeInfo) string { return n.RESTURL })
	answers := make(chan answer, len(nodes))
	asked := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, node := range nodes {
		if node.RESTURL == skip || len(node.Shards) == 0 {
			continue
		}
		c, err := a.nodes.client(node)
		if err != nil {
			continue
		}
		rs, ok := c.(recoverySource)
		if !ok {
			continue
		}
		asked++
		wg.Go(func() {
			syms, err := rs.RecoverySymbols(ctx, id, codec.Secondary, uint16(col))
			answers <- answer{syms, err}
		})
	}
	need := info.cfg.SourceSymbols(codec.Primary)
	var syms []codec.RecoverySymbol
	var errs []error
	for range asked {
		var ans answer
		select {
		case ans = <-answers:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if ans.err != nil {
			errs = append(errs, ans.err)
			continue
		}
		syms = append(syms, ans.syms...)
		if len(syms) < need {
			continue
		}
		sl, err := info.cfg.RecoverSliver(&info.md.BlobMetadata, codec.Secondary, uint16(col), syms)
		if err == nil {
			return sl, nil
		}
		if errors.Is(err, codec.ErrInconsistentEncoding) {
			return nil, err
		}
	}
	if asked == 0 {
		return nil, errors.New("no node can give recovery symbols")
	}
	return nil, fmt.Errorf("%w: %d recovery symbols from %d nodes, %d needed: %w", codec.ErrNotEnoughSymbols, len(syms), asked, need, errors.Join(errs...))
}

// respondPatch answers with a patch: validators, range, headers, body.
func (a *Aggregator) respondPatch(c echo.Context, p *quiltPatch, extra http.Header) error {
	r := c.Request()
	h := c.Response().Header()
	size := int64(len(p.data))
	etag := p.etag()
	if patchNotModified(r, p.id) {
		return notModifiedPatch(c, p.id, extra)
	}
	cond := evaluateConditions(r, etag)
	status, s := http.StatusOK, span{0, size}
	if cond != condIgnoreRange {
		sp, partial, err := requestedSpan(c, size)
		if err != nil {
			return err
		}
		if partial {
			s, status = sp, http.StatusPartialContent
		}
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("Accept-Ranges", "bytes")
	if ct := mirroredContentType(r); ct != "" {
		h.Set("Content-Type", ct)
	}
	for k, v := range p.tags {
		if k == "" || !(a.cfg.AllowQuiltPatchTags || a.allowed(k)) || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			continue
		}
		if _, present := h[http.CanonicalHeaderKey(k)]; !present {
			h.Set(k, v)
		}
	}
	if httpguts.ValidHeaderFieldValue(p.identifier) {
		h.Set(HeaderQuiltPatchIdentifier, p.identifier)
	}
	setExtra(h, extra)
	if _, present := h["Content-Type"]; !present && a.cfg.SniffContentType && size > 0 {
		h.Set("Content-Type", http.DetectContentType(p.data[:min(size, 512)]))
	}
	if _, present := h["Content-Type"]; !present {
		h["Content-Type"] = nil // none, as Walrus (net/http would sniff one)
	}
	h.Set("ETag", etag)
	h.Del("Content-Range")
	if status == http.StatusPartialContent {
		h.Set("Content-Range", "bytes "+strconv.FormatInt(s.start, 10)+"-"+strconv.FormatInt(s.end-1, 10)+"/"+strconv.FormatInt(size, 10))
	}
	h.Set("Content-Length", strconv.FormatInt(s.len(), 10))
	c.Response().WriteHeader(status)
	if r.Method == http.MethodHead || s.len() == 0 {
		return nil
	}
	n, err := c.Response().Write(p.data[s.start:s.end])
	a.metrics.responseBytes.WithLabelValues("quilt").Add(float64(n))
	if err != nil {
		return nil // the connection is gone
	}
	return nil
}

// setExtra applies a caller's headers over the response's.
func setExtra(h, extra http.Header) {
	for k, vs := range extra {
		k = http.CanonicalHeaderKey(k)
		if k == "Etag" || k == "Content-Length" || k == "Content-Range" {
			continue
		}
		if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
			h.Del(k)
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
}

// patchNotModified reports whether If-None-Match names the patch: its
// ETag (the quoted patch ID), or the bare quilt ID that Walrus's
// aggregators send as a patch's ETag (the patch under a URL never changes
// while its quilt ID is the same).
func patchNotModified(r *http.Request, id codec.QuiltPatchID) bool {
	if evaluateConditions(r, `"`+id.String()+`"`) == condNotModified {
		return true
	}
	inm := r.Header.Get("If-None-Match")
	return inm != "" && unquotedMatch(inm, `"`+id.Quilt.String()+`"`)
}

// notModifiedPatch answers 304 with the validators a 200 would carry.
func notModifiedPatch(c echo.Context, id codec.QuiltPatchID, extra http.Header) error {
	h := c.Response().Header()
	h.Set("Cache-Control", cacheControl)
	setExtra(h, extra)
	h.Set("ETag", `"`+id.String()+`"`)
	return c.NoContent(http.StatusNotModified)
}

// truncated shortens an identifier for messages.
func truncated(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

// The routes.

func (a *Aggregator) getQuiltPatchByID(c echo.Context) error {
	raw := c.Param("quilt_patch_id")
	id, err := codec.ParseQuiltPatchID(raw)
	if err != nil {
		return errBadPath("%v", err)
	}
	r := c.Request()
	ctx := r.Context()
	// The ETag is known from the URL: a revalidation needs only the status.
	if patchNotModified(r, id) {
		if _, err := a.quiltState(ctx, id.Quilt); err != nil {
			return err
		}
		return notModifiedPatch(c, id, nil)
	}
	p, err := a.readQuiltPatchByID(ctx, id)
	if err != nil {
		return err
	}
	return a.respondPatch(c, p, nil)
}

func (a *Aggregator) getQuiltPatchByIdentifier(c echo.Context) error {
	id, err := parseBlobIDParam(c.Param("quilt_id"))
	if err != nil {
		return err
	}
	identifier, err := pathParam(c, "identifier")
	if err != nil {
		return err
	}
	return a.serveQuiltPatch(c, id, identifier, nil)
}

// pathParam returns a path parameter percent-decoded: echo matches the
// escaped path when the URL has escapes that matter (%2F in an
// identifier), and leaves them in the parameter.
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", errBadPath("%s: %v", name, err)
	}
	return u, nil
}

// quiltPatchItem is one entry of the patch list, as Walrus's (patch_id in
// snake case, tags always present).
type quiltPatchItem struct {
	Identifier string            `json:"identifier"`
	PatchID    string            `json:"patch_id"`
	Tags       map[string]string `json:"tags"`
}

func (a *Aggregator) getQuiltPatches(c echo.Context) error {
	id, err := parseBlobIDParam(c.Param("quilt_id"))
	if err != nil {
		return err
	}
	info, err := a.quiltWithIndex(c.Request().Context(), id)
	if err != nil {
		return err
	}
	items := make([]quiltPatchItem, len(info.index.Patches))
	for i := range info.index.Patches {
		p := &info.index.Patches[i]
		tags := p.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		items[i] = quiltPatchItem{Identifier: p.Identifier, PatchID: p.ID(id).String(), Tags: tags}
	}
	return c.JSON(http.StatusOK, items)
}
