package storagenode

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode/store"
)

// batchChunkBytes is how much sliver data the batch route verifies (on all
// cores) and commits (one fsync) at a time, bounding its memory.
const batchChunkBytes = 32 << 20

// putSlivers serves PUT /v1/blobs/{blob_id}/slivers, haulout's batch
// route: every sliver is checked as for PUT .../slivers/{pair}/{axis}, and
// the valid ones are committed in chunks as the body arrives. The answer
// comes once all are durable. The first bad sliver ends the request with
// its error (metadata: pair and axis); the chunks before it stay stored.
func (n *Node) putSlivers(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	if _, err := boolQuery(c, "pending"); err != nil {
		return err
	}
	if err := checkContentType(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	v := n.view()
	if _, err := n.registered(ctx, id); err != nil {
		return err
	}
	meta, err := n.metadata(ctx, id)
	if err != nil {
		return err
	}
	if meta == nil {
		return errNeedMetadata
	}
	if len(v.shards) == 0 {
		return fail(apierr.FailedPrecondition, reasonShardNotAssigned, "this node holds no shards in epoch %d", v.epoch)
	}
	// The largest sliver of this blob is a primary one (n-f symbols).
	maxData, err := v.code.SliverSize(meta.md.UnencodedLength, codec.Primary)
	if err != nil {
		return err
	}
	limits := nodeclient.BatchLimits{MaxSlivers: 2 * len(v.shards), MaxSliverBytes: maxData}
	limit := int64(limits.MaxSlivers)*int64(maxData+16) + 16
	r := c.Request()
	if r.ContentLength > limit {
		return echo.ErrStatusRequestEntityTooLarge
	}
	br := nodeclient.NewBatchReader(http.MaxBytesReader(c.Response(), r.Body, limit), limits)
	if count, err := br.Len(); err != nil {
		if errors.Is(err, nodeclient.ErrBatchLimit) {
			return fail(apierr.InvalidArgument, reasonSliverCount,
				"the batch holds %d slivers; the node's %d shards hold %d", count, len(v.shards), limits.MaxSlivers)
		}
		return batchReadError(err)
	}

	t := sliverTarget{id: id, v: v}
	res := nodeclient.BatchResult{}
	seen := make(map[store.SliverID]bool)
	var chunk []*codec.Sliver
	var chunkBCS [][]byte
	var chunkIDs []store.SliverID
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		stored, err := n.storeVerified(ctx, id, meta.md, &v, chunk, chunkBCS, chunkIDs)
		res.Stored += stored
		chunk, chunkBCS, chunkIDs, chunkBytes = chunk[:0], chunkBCS[:0], chunkIDs[:0], 0
		return err
	}
	for {
		bs, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, nodeclient.ErrBatchLimit) {
				return errInvalidSliver(err)
			}
			return batchReadError(err)
		}
		sl := bs.Sliver
		if int(bs.Pair) >= v.nShards() {
			return withSliver(errOutOfRange(int(bs.Pair), v.nShards()), bs.Pair, sl.Axis)
		}
		if err := checkSliverIndex(sl, bs.Pair, v.nShards()); err != nil {
			return withSliver(err, bs.Pair, sl.Axis)
		}
		if err := checkShard(&t, bs.Pair); err != nil {
			return withSliver(err, bs.Pair, sl.Axis)
		}
		sid := storeID(bs.Pair, sl.Axis)
		if seen[sid] {
			res.AlreadyStored++
			continue
		}
		seen[sid] = true
		if has, err := n.store.HasSliver(ctx, id, sid); err != nil {
			return err
		} else if has {
			res.AlreadyStored++
			continue
		}
		chunk, chunkBCS, chunkIDs = append(chunk, sl), append(chunkBCS, br.LastBCS()), append(chunkIDs, sid)
		if chunkBytes += len(sl.Data); chunkBytes >= batchChunkBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	code := http.StatusOK
	if res.Stored > 0 {
		code = http.StatusCreated
	}
	return ok(c, code, res)
}

// storeVerified checks slivers against the metadata, on all cores, and
// commits them durably in one batch. It returns how many it stored.
func (n *Node) storeVerified(ctx context.Context, id codec.BlobID, md *codec.BlobMetadata, v *view, slivers []*codec.Sliver, bcs [][]byte, ids []store.SliverID) (int, error) {
	for i, err := range v.code.VerifySlivers(md, slivers) {
		if err != nil {
			return 0, withSliver(errInvalidSliver(err), ids[i].Pair, slivers[i].Axis)
		}
	}
	b := n.store.NewBatch()
	bytes := 0
	for i := range slivers {
		b.PutSliver(id, ids[i], bcs[i])
		bytes += len(slivers[i].Data)
	}
	err := n.withLive(id, func() error { return b.Commit(ctx) })
	if errors.Is(err, errNotLive) {
		return 0, errNotRegistered
	}
	if err != nil {
		return 0, err
	}
	for _, s := range slivers {
		n.metrics.slivers.WithLabelValues(s.Axis.String(), "upload").Inc()
	}
	n.metrics.sliverBytes.WithLabelValues("in").Add(float64(bytes))
	return len(slivers), nil
}

// withSliver names the sliver an error is about, in the envelope's
// metadata.
func withSliver(err error, pair uint16, a codec.Axis) error {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return err
	}
	cp := *ae
	cp.Metadata = map[string]string{"sliverPairIndex": itoa(int(pair)), "sliverType": a.String()}
	return &cp
}

// batchReadError maps an error reading a batch body.
func batchReadError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return echo.ErrStatusRequestEntityTooLarge
	case errors.Is(err, nodeclient.ErrMalformed):
		return errBCS(err)
	}
	return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonContentType, "Failed to buffer the request body: %v", err)
}
