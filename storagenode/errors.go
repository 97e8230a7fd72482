package storagenode

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Walrus's reasons (storage.walrus.space), with their statuses, and the
// few of haulout's own for what Walrus's framework answers in plain text.
const (
	reasonNotRegistered       = "NOT_REGISTERED"            // 400 FAILED_PRECONDITION
	reasonInvalidBlob         = "INVALID_BLOB"              // 400 FAILED_PRECONDITION
	reasonInvalidMetadata     = "INVALID_METADATA"          // 400 INVALID_ARGUMENT
	reasonUnsupportedEncoding = "UNSUPPORTED_ENCODING_TYPE" // 400 INVALID_ARGUMENT
	reasonMetadataNotFound    = "METADATA_NOT_FOUND"        // 404 NOT_FOUND (reads), 400 FAILED_PRECONDITION (sliver uploads)
	reasonSliverNotFound      = "SLIVER_NOT_FOUND"          // 404 NOT_FOUND
	reasonInvalidSliver       = "INVALID_SLIVER"            // 400 INVALID_ARGUMENT
	reasonIndexMismatch       = "SLIVER_INDEX_MISMATCH"     // 400 INVALID_ARGUMENT
	reasonShardNotAssigned    = "SHARD_NOT_ASSIGNED"        // 400 FAILED_PRECONDITION
	reasonIndexOutOfRange     = "INDEX_OUT_OF_RANGE"        // 400 INVALID_ARGUMENT
	reasonMissingSlivers      = "MISSING_SLIVERS"           // 400 FAILED_PRECONDITION
	reasonContentType         = "INVALID_CONTENT_TYPE"      // 400 INVALID_ARGUMENT
	reasonSymbolNotPresent    = "SYMBOL_NOT_PRESENT_AT_SHARDS"
	reasonNoSymbols           = "NO_SYMBOLS_SPECIFIED"
	reasonInvalidFilter       = "INVALID_FILTER"
	reasonSliverCount         = "SLIVER_COUNT_EXCEEDS_LIMIT" // batch route: more slivers than the node's shards hold
	reasonUnavailable         = "UNAVAILABLE"                // 503, domain global

	// haulout's: a path or query value that does not parse (Walrus's
	// framework answers these with a plain-text 400).
	reasonInvalidBlobID   = "INVALID_BLOB_ID"
	reasonInvalidPair     = "INVALID_SLIVER_PAIR_INDEX"
	reasonInvalidAxis     = "INVALID_SLIVER_TYPE"
	reasonInvalidObjectID = "INVALID_OBJECT_ID"
	reasonInvalidQuery    = "INVALID_QUERY"
)

func fail(status apierr.Status, reason, format string, args ...any) *apierr.Error {
	return apierr.New(status, apierr.DomainStorage, reason, format, args...)
}

var (
	errNotRegistered = fail(apierr.FailedPrecondition, reasonNotRegistered, "the blob has not been registered or has already expired")
	errNotFoundMD    = fail(apierr.NotFound, reasonMetadataNotFound, "the requested metadata is unavailable")
	errNotFoundSl    = fail(apierr.NotFound, reasonSliverNotFound, "the requested sliver is unavailable")
	errNeedMetadata  = fail(apierr.FailedPrecondition, reasonMetadataNotFound, "blob metadata is required but missing")
	errMissing       = fail(apierr.FailedPrecondition, reasonMissingSlivers, "the required slivers are not all stored")
	errContentType   = fail(apierr.InvalidArgument, reasonContentType, "Expected request with `Content-Type: application/octet-stream`")
	errUnavailable   = apierr.New(apierr.Unavailable, apierr.DomainGlobal, reasonUnavailable, "the service is currently unavailable")
)

func errBCS(err error) *apierr.Error {
	return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonContentType, "unable to decode request body as BCS")
}

func errOutOfRange(index, max int) *apierr.Error {
	return fail(apierr.InvalidArgument, reasonIndexOutOfRange, "requires 0 <= index (%d) < %d", index, max)
}

func errShardNotAssigned(shard int, epoch chain.Epoch) *apierr.Error {
	return fail(apierr.FailedPrecondition, reasonShardNotAssigned, "shard %d is not assigned to this node in epoch %d", shard, epoch)
}

func errInvalidSliver(err error) *apierr.Error {
	return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonInvalidSliver, "the provided sliver is invalid: %v", err)
}

func errIndexMismatch(pair, index uint16) *apierr.Error {
	return fail(apierr.InvalidArgument, reasonIndexMismatch, "sliver index %d is inconsistent with sliver pair index %d", index, pair)
}

func blobIDParam(c echo.Context) (codec.BlobID, error) {
	id, err := codec.ParseBlobID(c.Param("blob_id"))
	if err != nil {
		return id, apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonInvalidBlobID, "Invalid URL: invalid blob ID %q", c.Param("blob_id"))
	}
	return id, nil
}

// pairParam parses the sliver pair index and checks it against nShards.
func pairParam(c echo.Context, nShards int) (uint16, error) {
	p, err := strconv.ParseUint(c.Param("pair"), 10, 16)
	if err != nil {
		return 0, fail(apierr.InvalidArgument, reasonInvalidPair, "Invalid URL: invalid sliver pair index %q", c.Param("pair"))
	}
	if int(p) >= nShards {
		return 0, errOutOfRange(int(p), nShards)
	}
	return uint16(p), nil
}

func axisParam(c echo.Context) (codec.Axis, error) {
	a, err := codec.ParseAxis(c.Param("axis"))
	if err != nil {
		return 0, apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainStorage, reasonInvalidAxis, "Invalid URL: %v", err)
	}
	return a, nil
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fail(apierr.InvalidArgument, reasonInvalidQuery, "Failed to deserialize query string: %s=%q is not a boolean", name, v)
	}
	return b, nil
}

// checkContentType accepts a BCS body: no Content-Type, or
// application/octet-stream with any parameters.
func checkContentType(c echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/octet-stream" {
		return errContentType
	}
	return nil
}

// readBody reads a body of at most limit bytes, in one allocation when its
// length is announced. A larger body is 413, as Walrus's framework answers.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > limit {
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	body := http.MaxBytesReader(c.Response(), r.Body, limit)
	var b []byte
	var err error
	if r.ContentLength >= 0 {
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, b)
		if err == nil {
			var one [1]byte
			if k, _ := body.Read(one[:]); k > 0 {
				err = fmt.Errorf("body longer than its Content-Length")
			}
		}
	} else {
		b, err = io.ReadAll(body)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	if err != nil {
		return nil, fail(apierr.InvalidArgument, reasonContentType, "Failed to buffer the request body: %v", err)
	}
	return b, nil
}
