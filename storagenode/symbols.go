package storagenode

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/nodeclient"
)

// maxSymbolIDs bounds the ids of one recovery-symbol request.
const maxSymbolIDs = 4096

func itoa(i int) string { return strconv.Itoa(i) }

// symbolSource is a sliver the node holds and the targets it gives
// symbols towards.
type symbolSource struct {
	pair    uint16
	axis    codec.Axis
	targets []uint16
}

// recoverySymbols serves GET /v1/blobs/{blob_id}/recoverySymbols in
// Walrus's two forms: ?targetSliver=N&targetType=primary|secondary (every
// symbol the node's shards give towards that sliver) or ?id=P-S&id=...
// (those symbols, from whichever of the two slivers the node holds, or
// from the proofAxis one). The answer is BCS Vec<GeneralRecoverySymbol>.
func (n *Node) recoverySymbols(c echo.Context) error {
	id, err := blobIDParam(c)
	if err != nil {
		return err
	}
	select {
	case n.symbolSem <- struct{}{}:
		defer func() { <-n.symbolSem }()
	default:
		return errUnavailable
	}
	v := n.view()
	nShards := v.nShards()
	q := c.QueryParams()
	var proofAxis *codec.Axis
	if s := q.Get("proofAxis"); s != "" {
		a, err := codec.ParseAxis(s)
		if err != nil {
			return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: proofAxis: %v", err)
		}
		proofAxis = &a
	}

	// The candidate sources of each wanted symbol, in order of preference.
	type want struct{ cands []symbolSource }
	var wants []want
	var lastErr error = fail(apierr.FailedPrecondition, reasonNoSymbols, "at least one symbol ID must be specified")
	switch ids := q["id"]; {
	case len(ids) > 0:
		if len(ids) > maxSymbolIDs {
			return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: %d ids, at most %d", len(ids), maxSymbolIDs)
		}
		for _, raw := range ids {
			sid, err := nodeclient.ParseSymbolID(raw)
			if err != nil {
				return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: %v", err)
			}
			if int(sid.Primary) >= nShards || int(sid.Secondary) >= nShards {
				lastErr = errOutOfRange(int(max(sid.Primary, sid.Secondary)), nShards)
				continue
			}
			// As Walrus: from the primary sliver (towards the secondary
			// one) first, then from the secondary sliver.
			var w want
			for _, src := range []codec.Axis{codec.Primary, codec.Secondary} {
				if proofAxis != nil && *proofAxis != src {
					continue
				}
				srcIndex, target := sid.Primary, sid.Secondary
				if src == codec.Secondary {
					srcIndex, target = sid.Secondary, sid.Primary
				}
				pair := codec.SliverIndex(srcIndex, src, nShards) // sliver index <-> pair index is an involution
				w.cands = append(w.cands, symbolSource{pair: pair, axis: src, targets: []uint16{target}})
			}
			wants = append(wants, w)
		}
	case q.Get("targetSliver") != "" || q.Get("targetType") != "":
		t, err := strconv.ParseUint(q.Get("targetSliver"), 10, 16)
		if err != nil {
			return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: targetSliver %q", q.Get("targetSliver"))
		}
		ta, err := codec.ParseAxis(q.Get("targetType"))
		if err != nil {
			return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: targetType: %v", err)
		}
		if int(t) >= nShards {
			return errOutOfRange(int(t), nShards)
		}
		if proofAxis != nil && *proofAxis != ta.Other() {
			return fail(apierr.InvalidArgument, reasonInvalidFilter, "the filter is invalid: symbols towards a %s sliver have proofs from the %s axis", ta, ta.Other())
		}
		for _, pair := range v.pairs(id) {
			wants = append(wants, want{cands: []symbolSource{{pair: pair, axis: ta.Other(), targets: []uint16{uint16(t)}}}})
		}
	default:
		return lastErr
	}

	if !n.readable(id) {
		return errNotFoundSl
	}
	ctx := c.Request().Context()
	slivers := make(map[[2]int]*codec.Sliver)
	bySource := make(map[[2]int][]uint16)
	var order [][2]int
	for _, w := range wants {
		for _, cand := range w.cands {
			if !v.holds(id, cand.pair) {
				lastErr = fail(apierr.FailedPrecondition, reasonSymbolNotPresent, "the requested recovery symbol is not the responsibility of this node's shards")
				continue
			}
			key := [2]int{int(cand.pair), int(cand.axis)}
			sl, seen := slivers[key]
			if !seen {
				if sl, err = n.loadSliver(ctx, id, cand.pair, cand.axis); err != nil {
					return err
				}
				slivers[key] = sl
			}
			if sl == nil {
				lastErr = errNotFoundSl
				continue
			}
			if _, ok := bySource[key]; !ok {
				order = append(order, key)
			}
			bySource[key] = append(bySource[key], cand.targets...)
			break
		}
	}
	if len(order) == 0 {
		return lastErr
	}
	var out []codec.RecoverySymbol
	for _, key := range order {
		syms, err := v.code.RecoverySymbols(slivers[key], bySource[key])
		if err != nil {
			return err
		}
		out = append(out, syms...)
	}
	n.metrics.symbolsServed.Add(float64(len(out)))
	return c.Blob(http.StatusOK, octetStream, nodeclient.MarshalRecoverySymbols(out))
}
