package publisher

import (
	"net/url"
	"sort"
	"strconv"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/publisher/jobs"
)

// storeQuery is Walrus's PublisherQuery (the query of PUT /v1/blobs and
// PUT /v1/quilts) plus haulout's wait.
type storeQuery struct {
	Epochs         uint32
	Permanent      bool
	Deletable      bool // deprecated in Walrus: a no-op kept for old scripts
	Force          bool
	ReuseResources bool
	SendObjectTo   *chain.ObjectID
	Share          bool
	// Wait, true unless wait=false, makes the request wait for the
	// upload's answer; false answers 202 with the job's ID.
	Wait bool
}

// parseStoreQuery reads the query string as Walrus does: every parameter at
// most once; booleans "true" or "false"; epochs a u32 (not "max");
// encoding_type RS2 only; share and send_object_to not together. Keys it does
// not know are ignored, which Walrus's own query struct mostly does too (spec
// §2.1). Errors are Walrus's: 400 in plain text, except deletable with
// permanent, which is its JSON INVALID_BLOB_PERSISTENCE.
func parseStoreQuery(raw string, defaultEpochs uint32) (storeQuery, error) {
	q := storeQuery{Epochs: defaultEpochs, Wait: true}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, queryError("%v", err)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	for _, k := range keys {
		if len(vals[k]) > 1 {
			return q, queryError("duplicate field `%s`", k)
		}
	}
	get := func(k string) (string, bool) {
		v, ok := vals[k]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	boolean := func(k string, dst *bool) error {
		v, ok := get(k)
		if !ok {
			return nil
		}
		switch v {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return queryError("%s: provided string was not `true` or `false`", k)
		}
		return nil
	}
	if v, ok := get("epochs"); ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return q, queryError("epochs: invalid digit found in string")
		}
		q.Epochs = uint32(n)
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{
		{"permanent", &q.Permanent},
		{"deletable", &q.Deletable},
		{"force", &q.Force},
		{"reuse_resources", &q.ReuseResources},
		{"share", &q.Share},
		{"wait", &q.Wait},
	} {
		if err := boolean(b.key, b.dst); err != nil {
			return q, err
		}
	}
	if v, ok := get("encoding_type"); ok && v != "RS2" {
		return q, queryError("encoding_type: unknown variant `%s`, expected `RS2`", v)
	}
	if v, ok := get("quilt_version"); ok {
		switch v {
		case "v1", "V1", "1":
		default:
			return q, queryError("quilt_version: unknown quilt version `%s`, expected `v1`", v)
		}
	}
	if v, ok := get("send_object_to"); ok {
		addr, err := chain.ParseObjectID(v)
		if err != nil {
			return q, queryError("send_object_to: %v", err)
		}
		q.SendObjectTo = &addr
	}
	if _, share := vals["share"]; share && q.SendObjectTo != nil {
		return q, queryError("share and send_object_to are mutually exclusive")
	}
	if q.Deletable && q.Permanent {
		return q, errInvalidPersistence()
	}
	return q, nil
}

// deletable is the persistence the blob gets: deletable unless permanent,
// as Walrus since v1.33.
func (q storeQuery) deletable() bool { return !q.Permanent }

// options are the job's record of the query.
func (q storeQuery) options() jobs.Options {
	o := jobs.Options{
		Epochs:         q.Epochs,
		Permanent:      q.Permanent,
		Deletable:      q.Deletable,
		Force:          q.Force,
		ReuseResources: q.ReuseResources,
		Share:          q.Share,
		EncodingType:   "RS2",
	}
	if q.SendObjectTo != nil {
		o.SendObjectTo = q.SendObjectTo.String()
	}
	return o
}

// jobDeletable is the persistence recorded in a job's options.
func jobDeletable(o jobs.Options) bool { return !o.Permanent }
