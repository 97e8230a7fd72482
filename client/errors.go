package client

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/haulout/haulout/internal/apierr"
)

// APIError is an error answer of a publisher, aggregator or storage node.
type APIError struct {
	// Code is the HTTP status code.
	Code int
	// Status is the envelope's status, e.g. NOT_FOUND (for a body that is
	// not the envelope: the status matching Code).
	Status string
	// Reason and Domain are the envelope's ErrorInfo, e.g. BLOB_NOT_FOUND
	// in daemon.walrus.space; Reason is the HTTP status text when the body
	// is not the envelope (Walrus answers some errors in plain text).
	Reason string
	Domain string
	// Message is the human-readable message, or the plain-text body.
	Message string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	if e.Reason != "" && e.Reason != http.StatusText(e.Code) {
		return fmt.Sprintf("%d %s: %s", e.Code, e.Reason, msg)
	}
	return fmt.Sprintf("%d: %s", e.Code, msg)
}

// IsNotFound reports whether err is (or wraps) a 404 answer.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == http.StatusNotFound
}

// transportError drops the method and URL that net/http puts around a
// transport failure: the callers' messages name the operation already.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// apiError reads resp's body as an error answer.
func apiError(resp *http.Response) *APIError {
	e := apierr.Parse(resp.StatusCode, io.LimitReader(resp.Body, maxErrorBody))
	return &APIError{Code: resp.StatusCode, Status: string(e.Status), Reason: e.Reason, Domain: e.Domain, Message: e.Message}
}
