package publisher

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/apierr"
)

// Walrus's reasons in domain daemon.walrus.space, and haulout's own.
const (
	reasonInvalidPersistence       = "INVALID_BLOB_PERSISTENCE"
	reasonMalformedRequest         = "MALFORMED_REQUEST"
	reasonInsufficientConfirmation = "INSUFFICIENT_CONFIRMATIONS"
	reasonForbiddenBlob            = "FORBIDDEN_BLOB"
	// Walrus answers these with 500 (the chain refuses); haulout says what
	// is wrong with 400 and 403.
	reasonInvalidEpochs = "INVALID_EPOCHS"
	reasonBlobTooLarge  = "BLOB_TOO_LARGE"
	// haulout's job routes.
	reasonJobNotFound = "JOB_NOT_FOUND"
	reasonInvalidJob  = "INVALID_JOB_ID"
)

// overloadMessage is Walrus's plain-text answer when its load shedder
// refuses a request.
const overloadMessage = "the publisher is receiving too many requests; please try again later"

// Sentinel causes of failed jobs that map to Walrus's answers.
var (
	// errNoQuorum: the confirmations gathered cannot, or did not in time,
	// reach a quorum.
	errNoQuorum = errors.New("not enough storage confirmations for a quorum")
	// errBlocked: the blob ID is on the blocklist.
	errBlocked = errors.New("blob ID is blocked")
	// errSpool: the spool file is missing or no longer the upload.
	errSpool = errors.New("spool file unusable")
	// errMarkedInvalid: the ledger marked the blob ID invalid (its slivers
	// were found inconsistently encoded).
	errMarkedInvalid = errors.New("the blob was marked invalid, which is likely a system error, please report it")
)

// queryError is a query string that does not parse: Walrus (axum) answers
// 400 in plain text.
func queryError(format string, args ...any) error {
	return echo.NewHTTPError(http.StatusBadRequest, "Failed to deserialize query string: "+fmt.Sprintf(format, args...))
}

func errInvalidPersistence() error {
	return apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidPersistence,
		"a blob cannot be both deletable and permanent")
}

func errMalformed(format string, args ...any) error {
	return apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonMalformedRequest, format, args...)
}

func errEpochs(epochs, maxAhead uint32) error {
	e := apierr.New(apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidEpochs,
		"epochs must be between 1 and %d, the most epochs ahead the system allows; got %d", maxAhead, epochs)
	e.Metadata = map[string]string{"min": "1", "max": fmt.Sprint(maxAhead)}
	return e
}

func errOverloaded() error {
	return echo.NewHTTPError(http.StatusTooManyRequests, overloadMessage)
}

// answerError turns the cause of a failed job into what its client is told,
// as Walrus's StoreBlobError does, with clearer statuses where Walrus says
// only 500.
func answerError(err error) *apierr.Error {
	var ae *apierr.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, errNoQuorum):
		return apierr.Wrap(err, apierr.DeadlineExceeded, apierr.DomainDaemon, reasonInsufficientConfirmation,
			"the service timed-out while waiting for confirmations, please try again")
	case errors.Is(err, errBlocked):
		return apierr.Wrap(err, apierr.UnavailableForLegalReasons, apierr.DomainDaemon, reasonForbiddenBlob,
			"the requested metadata is blocked")
	case errors.Is(err, chain.ErrInvalidEpochs):
		return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainDaemon, reasonInvalidEpochs,
			"the ledger refused the epochs: %v", err)
	case errors.Is(err, codec.ErrBlobTooLarge), errors.Is(err, chain.ErrInvalidSize):
		return apierr.Wrap(err, apierr.SizeExceeded, apierr.DomainDaemon, reasonBlobTooLarge,
			"the blob is too large for the committee's shards: %v", err)
	}
	return apierr.From(err)
}
