package storagenode

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/storagenode/store"
)

const octetStream = "application/octet-stream"

// sliverBodySlack is what a sliver's BCS adds to its data, with room to
// spare: Walrus's limit is the largest sliver plus 128 bytes.
const sliverBodySlack = 128

func ok[T any](c echo.Context, code int, data T) error {
	return c.JSON(code, nodeclient.Success[T]{Success: nodeclient.SuccessBody[T]{Code: code, Data: data}})
}

// registered returns the node's record of a live blob, or the error to
// answer an upload with: NOT_REGISTERED, or INVALID_BLOB for a blob marked
// invalid.
func (n *Node) registered(ctx context.Context, id codec.BlobID) (*blobInfo, error) {
	info, err := n.liveBlob(ctx, id)
	if err != nil {
		return nil, err
	}
	if info == nil {
		if b := n.blob(id); b != nil && b.Invalid {
			return nil, fail(apierr.FailedPrecondition, reasonInvalidBlob, "the blob for this metadata is invalid")
		}
		return nil, errNotRegistered
	}
	return info, nil
}

// readable reports whether a read may be served: the blob is live in the
// node's records. Reads never ask the ledger: a blob the node holds data
// for always has a record.
func (n *Node) readable(id codec.BlobID) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	b, ok := n.blobs[id]
	return ok && b.live(n.epoch)
}

func (n *Node) putMetadata(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	if err := checkContentType(c); err != nil {
		return err
	}
	v := n.view()
	body, err := readBody(c, int64(v.nShards())*66+16+sliverBodySlack)
	if err != nil {
		return err
	}
	md, err := codec.UnmarshalMetadataBCS(body)
	if errors.Is(err, codec.ErrUnsupportedEncoding) {
		return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonUnsupportedEncoding,
			"unsupported encoding type, supported types are: [RS2]")
	}
	if err != nil {
		return errBCS(err)
	}
	ctx := c.Request().Context()
	if _, err := n.registered(ctx, id); err != nil {
		return err
	}
	if has, err := n.store.HasMetadata(ctx, id); err != nil {
		return err
	} else if has {
		return ok(c, http.StatusOK, "metadata already stored")
	}
	if err := checkMetadata(md, id, v.nShards()); err != nil {
		return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonInvalidMetadata,
			"the provided metadata failed to verify: %v", err)
	}
	raw := md.MarshalBCS()
	err = n.withLive(id, func() error { return n.store.PutMetadata(ctx, id, raw) })
	if errors.Is(err, errNotLive) {
		return errNotRegistered
	}
	if err != nil {
		return err
	}
	n.mdCache.add(id, &blobMeta{md: md, bcs: raw})
	return ok(c, http.StatusCreated, "metadata successfully stored")
}

func (n *Node) getMetadata(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	if !n.readable(id) {
		return errNotFoundMD
	}
	m, err := n.metadata(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if m == nil {
		return errNotFoundMD
	}
	out := make([]byte, 0, len(id)+len(m.bcs))
	out = append(append(out, id[:]...), m.bcs...)
	return c.Blob(http.StatusOK, octetStream, out)
}

func (n *Node) metadataStatus(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	st := nodeclient.Nonexistent
	if n.readable(id) {
		has, err := n.store.HasMetadata(c.Request().Context(), id)
		if err != nil {
			return err
		}
		if has {
			st = nodeclient.Stored
		}
	}
	return ok(c, http.StatusOK, st)
}

// sliverTarget is the parsed URL of a sliver route.
type sliverTarget struct {
	id   codec.BlobID
	pair uint16
	axis codec.Axis
	v    view
}

func (n *Node) sliverParams(c echo.Context) (sliverTarget, error) {
	var t sliverTarget
	var err error
	if t.id, err = blobIDParam(c); err != nil {
		return t, err
	}
	t.v = n.view()
	if t.pair, err = pairParam(c, t.v.nShards()); err != nil {
		return t, err
	}
	t.axis, err = axisParam(c)
	return t, err
}

// checkShard refuses a sliver pair that the node's shards do not hold.
func checkShard(t *sliverTarget, pair uint16) error {
	if !t.v.holds(t.id, pair) {
		return errShardNotAssigned(codec.ShardForPair(t.id, int(pair), t.v.nShards()), t.v.epoch)
	}
	return nil
}

// checkSliverIndex checks that a sliver's own index lies in range and
// belongs to the pair its URL (or batch entry) names.
func checkSliverIndex(s *codec.Sliver, pair uint16, nShards int) error {
	if int(s.Index) >= nShards {
		return errOutOfRange(int(s.Index), nShards)
	}
	if s.PairIndex(nShards) != pair {
		return errIndexMismatch(pair, s.Index)
	}
	return nil
}

func (n *Node) putSliver(c echo.Context) error {
	t, err := n.sliverParams(c)
	if err != nil {
		return err
	}
	if _, err := boolQuery(c, "pending"); err != nil {
		return err
	}
	if err := checkContentType(c); err != nil {
		return err
	}
	// What needs no body first: a refused upload does not cost the node a
	// read of tens of megabytes.
	ctx := c.Request().Context()
	if _, err := n.registered(ctx, t.id); err != nil {
		return err
	}
	meta, err := n.metadata(ctx, t.id)
	if err != nil {
		return err
	}
	if meta == nil {
		return errNeedMetadata
	}
	if err := checkShard(&t, t.pair); err != nil {
		return err
	}
	body, err := readBody(c, int64(t.v.code.MaxSliverSize()+sliverBodySlack))
	if err != nil {
		return err
	}
	sl, err := codec.UnmarshalSliverBCS(body, t.axis)
	if err != nil {
		return errBCS(err)
	}
	if err := checkSliverIndex(sl, t.pair, t.v.nShards()); err != nil {
		return err
	}
	sid := storeID(t.pair, t.axis)
	if has, err := n.store.HasSliver(ctx, t.id, sid); err != nil {
		return err
	} else if has {
		return ok(c, http.StatusOK, "sliver already stored")
	}
	if err := t.v.code.VerifySliver(meta.md, sl); err != nil {
		return errInvalidSliver(err)
	}
	// The body is the sliver's canonical BCS (the parser refuses anything
	// else): store it as it came, and serve it back as it is.
	err = n.withLive(t.id, func() error { return n.store.PutSliver(ctx, t.id, sid, body) })
	if errors.Is(err, errNotLive) {
		return errNotRegistered
	}
	if err != nil {
		return err
	}
	n.metrics.slivers.WithLabelValues(t.axis.String(), "upload").Inc()
	n.metrics.sliverBytes.WithLabelValues("in").Add(float64(len(sl.Data)))
	return ok(c, http.StatusCreated, "sliver stored successfully")
}

func (n *Node) getSliver(c echo.Context) error {
	t, err := n.sliverParams(c)
	if err != nil {
		return err
	}
	if err := checkShard(&t, t.pair); err != nil {
		return err
	}
	if !n.readable(t.id) {
		return errNotFoundSl
	}
	err = n.store.ViewSliver(c.Request().Context(), t.id, storeID(t.pair, t.axis), func(data []byte) error {
		h := c.Response().Header()
		h.Set("Content-Type", octetStream)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write(data)
		n.metrics.sliverBytes.WithLabelValues("out").Add(float64(len(data)))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFoundSl
	}
	return err
}

func (n *Node) sliverStatus(c echo.Context) error {
	t, err := n.sliverParams(c)
	if err != nil {
		return err
	}
	st := nodeclient.Nonexistent
	if n.readable(t.id) {
		has, err := n.store.HasSliver(c.Request().Context(), t.id, storeID(t.pair, t.axis))
		if err != nil {
			return err
		}
		if has {
			st = nodeclient.Stored
		}
	}
	return ok(c, http.StatusOK, st)
}

func (n *Node) confirmation(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	p := chain.PersistencePermanent()
	if raw := c.Param("object_id"); raw != "" {
		obj, err := chain.ParseObjectID(raw)
		if err != nil {
			return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonInvalidObjectID, "Invalid URL: invalid object ID %q", raw)
		}
		p = chain.PersistenceDeletable(obj)
	}
	// Walrus's long poll for registration is off by default
	// (confirmation_long_poll_max_millis = 0); haulout checks the
	// parameters and answers at once, looking the blob up on the ledger.
	if _, err := boolQuery(c, "wait_for_registration"); err != nil {
		return err
	}
	if w := c.QueryParam("wait_millis"); w != "" {
		if _, err := strconv.ParseUint(w, 10, 64); err != nil {
			return fail(apierr.InvalidArgument, reasonInvalidQuery, "Failed to deserialize query string: wait_millis=%q", w)
		}
	}
	ctx := c.Request().Context()
	info, err := n.liveBlob(ctx, id)
	if err != nil {
		return err
	}
	v := n.view()
	if info == nil || !info.allows(p, v.epoch) {
		return errNotRegistered
	}
	if len(v.shards) == 0 {
		return fail(apierr.FailedPrecondition, reasonShardNotAssigned, "this node holds no shards in epoch %d", v.epoch)
	}
	if !info.complete {
		missing, hasMD, err := n.missingSlivers(ctx, id, &v)
		if err != nil {
			return err
		}
		if len(missing) > 0 || !hasMD {
			return errMissing
		}
		n.markComplete(id, &v)
	}
	msg := chain.StorageConfirmation{Epoch: v.epoch, BlobID: id, Persistence: p}.Bytes()
	signed := chain.Sign(n.cfg.Key, msg)
	n.metrics.confirmations.Inc()
	return ok(c, http.StatusOK, nodeclient.Confirmation{Signed: &signed})
}

func (n *Node) blobStatus(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	st, err := n.ledger.BlobStatus(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return ok(c, http.StatusOK, st)
}

func (n *Node) health(c echo.Context) error {
	detailed, err := boolQuery(c, "detailed")
	if err != nil {
		return err
	}
	v := n.view()
	status := "Active"
	switch {
	case len(v.shards) == 0:
		status = "Standby"
	case n.recovery.pending() > 0:
		status = "RecoveryInProgress"
	}
	cur := n.cursor.Load()
	h := nodeclient.HealthInfo{
		Uptime:        nodeclient.Uptime(time.Since(n.started)),
		Epoch:         v.epoch,
		PublicKey:     n.pub,
		NodeStatus:    status,
		EventProgress: nodeclient.EventProgress{Persisted: cur},
		ShardSummary: nodeclient.ShardSummary{
			Owned:            len(v.shards),
			OwnedShardStatus: nodeclient.OwnedShardStatus{Ready: len(v.shards)},
		},
	}
	if cur > 0 {
		last := cur - 1
		h.EventProgress.HighestFinishedEventIndex = &last
	}
	if detailed {
		d := &nodeclient.ShardDetail{Owned: make([]nodeclient.ShardHealth, len(v.shards)), Other: []nodeclient.ShardHealth{}}
		for i, s := range v.shards {
			d.Owned[i] = nodeclient.ShardHealth{Shard: s, Status: "ready"}
		}
		h.ShardDetail = d
	}
	return ok(c, http.StatusOK, h)
}
