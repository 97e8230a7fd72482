package aggregator

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Walrus's reasons (domain daemon.walrus.space) for the aggregator.
const (
	reasonBlobNotFound       = "BLOB_NOT_FOUND"
	reasonBlobUnavailable    = "BLOB_UNAVAILABLE"
	reasonBlobTooLarge       = "BLOB_TOO_LARGE"
	reasonInvalidByteRange   = "INVALID_BYTE_RANGE"
	reasonInvalidConsistency = "INVALID_CONSISTENCY_CHECK"
)

// overloadMessage is Walrus's text for a shed request (429, plain text).
const overloadMessage = "the aggregator is receiving too many requests; please try again later"

// errOverloaded is what a request gets when the aggregator sheds load.
var errOverloaded = echo.NewHTTPError(http.StatusTooManyRequests, overloadMessage)

func errBlobNotFound(why string) *apierr.Error {
	e := apierr.New(apierr.NotFound, apierr.DomainDaemon, reasonBlobNotFound,
		"the requested blob ID does not exist on Walrus, ensure that it was entered correctly")
	if why != "" {
		e.Metadata = map[string]string{"cause": why}
	}
	return e
}

// errUnavailable is 503 BLOB_UNAVAILABLE: the blob exists but could not be
// read and verified now; clients retry with backoff.
func errUnavailable(cause error) *apierr.Error {
	e := apierr.Wrap(cause, apierr.Unavailable, apierr.DomainDaemon, reasonBlobUnavailable,
		"the blob could not be read and verified from the storage nodes at this time, please retry later")
	switch {
	case errors.Is(cause, codec.ErrInconsistentEncoding):
		e.Metadata = map[string]string{"cause": "the blob is inconsistently encoded"}
	case errors.Is(cause, codec.ErrNotEnoughSlivers):
		e.Metadata = map[string]string{"cause": "not enough valid slivers"}
	case errors.Is(cause, errNoMetadata):
		e.Metadata = map[string]string{"cause": "no valid metadata"}
	}
	return e
}

func errBlobTooLarge(size, limit uint64) *apierr.Error {
	return apierr.New(apierr.SizeExceeded, apierr.DomainDaemon, reasonBlobTooLarge,
		"the blob is %d bytes, more than the %d bytes this aggregator serves", size, limit)
}

func errRangeNotSatisfiable(h string, size int64) *apierr.Error {
	return apierr.New(apierr.RangeNotSatisfiable, apierr.DomainDaemon, reasonInvalidByteRange,
		"the byte range %q cannot be satisfied for a blob of %d bytes", h, size)
}

func errInvalidByteRange(format string, args ...any) *apierr.Error {
	return apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidByteRange, format, args...)
}

func errBadQuery(format string, args ...any) error {
	return echo.NewHTTPError(http.StatusBadRequest, "Failed to deserialize query string: "+fmt.Sprintf(format, args...))
}

func errBadPath(format string, args ...any) error {
	return echo.NewHTTPError(http.StatusBadRequest, "Invalid URL: "+fmt.Sprintf(format, args...))
}

// errNoMetadata: no node sent metadata that commits to the blob ID.
var errNoMetadata = errors.New("no valid metadata from the storage nodes")
