package ledgerhttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/haulout/haulout/chain"
)

// Domain is the ErrorInfo domain of the ledger API's errors.
const Domain = "ledger.haulout"

type envelope struct {
	Error status `json:"error"`
}

type status struct {
	Status  string      `json:"status"`
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Details []errorInfo `json:"details"`
}

type errorInfo struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

// httpStatus maps a chain error to Walrus's (status, code) pair.
func httpStatus(err error) (string, int) {
	switch {
	case errors.Is(err, chain.ErrBlobNotFound), errors.Is(err, chain.ErrAttributeNotFound):
		return "NOT_FOUND", http.StatusNotFound
	case errors.Is(err, chain.ErrClosed):
		return "UNAVAILABLE", http.StatusServiceUnavailable
	case errors.Is(err, chain.ErrNotRegistered), errors.Is(err, chain.ErrExpired),
		errors.Is(err, chain.ErrAlreadyCertified), errors.Is(err, chain.ErrNotCertified),
		errors.Is(err, chain.ErrNotDeletable), errors.Is(err, chain.ErrEpochMismatch):
		return "FAILED_PRECONDITION", http.StatusBadRequest
	case chain.Reason(err) != "":
		return "INVALID_ARGUMENT", http.StatusBadRequest
	default:
		return "INTERNAL", http.StatusInternalServerError
	}
}

func newEnvelope(err error) (envelope, int) {
	st, code := httpStatus(err)
	reason := chain.Reason(err)
	if reason == "" {
		reason = "INTERNAL_ERROR"
	}
	return envelope{Error: status{
		Status:  st,
		Code:    code,
		Message: err.Error(),
		Details: []errorInfo{{Type: "ErrorInfo", Reason: reason, Domain: Domain, Metadata: map[string]string{}}},
	}}, code
}

// Error is an error answered by a ledger server. It unwraps to the chain
// sentinel of its reason, if any, so errors.Is works as on the server.
type Error struct {
	HTTPStatus int
	Status     string
	Reason     string
	Message    string
	sentinel   error
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("ledger: HTTP %d %s (%s)", e.HTTPStatus, e.Status, e.Reason)
}

// Unwrap returns the chain sentinel error of the reason, or nil.
func (e *Error) Unwrap() error { return e.sentinel }
