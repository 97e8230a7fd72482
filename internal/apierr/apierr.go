package apierr

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Status is a Google-API-style status name; each maps to one HTTP code.
type Status string

// The statuses Walrus's services use, with their HTTP codes.
const (
	InvalidArgument            Status = "INVALID_ARGUMENT"
	FailedPrecondition         Status = "FAILED_PRECONDITION"
	NotFound                   Status = "NOT_FOUND"
	PermissionDenied           Status = "PERMISSION_DENIED"
	SizeExceeded               Status = "SIZE_EXCEEDED"
	Unauthenticated            Status = "UNAUTHENTICATED"
	RangeNotSatisfiable        Status = "RANGE_NOT_SATISFIABLE"
	ResourceExhausted          Status = "RESOURCE_EXHAUSTED"
	UnavailableForLegalReasons Status = "UNAVAILABLE_FOR_LEGAL_REASONS"
	Internal                   Status = "INTERNAL"
	Unavailable                Status = "UNAVAILABLE"
	DeadlineExceeded           Status = "DEADLINE_EXCEEDED"
)

var httpCodes = map[Status]int{
	InvalidArgument:            http.StatusBadRequest,
	FailedPrecondition:         http.StatusBadRequest,
	NotFound:                   http.StatusNotFound,
	PermissionDenied:           http.StatusForbidden,
	SizeExceeded:               http.StatusForbidden,
	Unauthenticated:            http.StatusUnauthorized,
	RangeNotSatisfiable:        http.StatusRequestedRangeNotSatisfiable,
	ResourceExhausted:          http.StatusTooManyRequests,
	UnavailableForLegalReasons: http.StatusUnavailableForLegalReasons,
	Internal:                   http.StatusInternalServerError,
	Unavailable:                http.StatusServiceUnavailable,
	DeadlineExceeded:           http.StatusGatewayTimeout,
}

// Code returns the HTTP status code of s (500 for an unknown status).
func (s Status) Code() int {
	if c, ok := httpCodes[s]; ok {
		return c
	}
	return http.StatusInternalServerError
}

// Error domains.
const (
	DomainDaemon  = "daemon.walrus.space"  // publisher and aggregator
	DomainStorage = "storage.walrus.space" // storage nodes
	DomainAuth    = "auth.publisher.walrus.space"
	DomainGlobal  = "global"
)

// Error is an error a client may see: status, a human message, and the
// machine-readable (reason, domain) that clients branch on.
type Error struct {
	Status   Status
	Reason   string
	Domain   string
	Message  string
	Metadata map[string]string
	// TraceID is set on internal errors: the same ID is logged with the cause.
	TraceID string
	// Err is the cause, kept for errors.Is/As and logs; never sent.
	Err error
}

// New returns an error in the given domain.
func New(status Status, domain, reason, format string, args ...any) *Error {
	return &Error{Status: status, Domain: domain, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wrap is New with a cause kept for errors.Is and logs.
func Wrap(err error, status Status, domain, reason, format string, args ...any) *Error {
	e := New(status, domain, reason, format, args...)
	e.Err = err
	return e
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %s: %v", e.Reason, e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%s (%s): %s", e.Reason, e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Code is the HTTP status code.
func (e *Error) Code() int { return e.Status.Code() }

// Is matches errors of the same reason and domain, so that a client can
// test errors.Is(err, &apierr.Error{Reason: "BLOB_NOT_FOUND"}) and friends
// (an empty Domain in the target matches any domain).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Reason == "" {
		return false
	}
	return t.Reason == e.Reason && (t.Domain == "" || t.Domain == e.Domain)
}

// detail is an entry of "details": ErrorInfo carries reason, domain and
// metadata (always present, maybe empty); DebugInfo the trace ID.
type detail struct {
	Type         string            `json:"@type"`
	Reason       string            `json:"reason,omitempty"`
	Domain       string            `json:"domain,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	StackEntries []string          `json:"stackEntries,omitempty"`
	Detail       string            `json:"detail,omitempty"`
}

type errorInfo struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

type debugInfo struct {
	Type         string   `json:"@type"`
	StackEntries []string `json:"stackEntries"`
	Detail       string   `json:"detail"`
}

type body struct {
	Status  Status `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

type envelope struct {
	Error body `json:"error"`
}

// MarshalJSON writes the envelope, fields in Walrus's order.
func (e *Error) MarshalJSON() ([]byte, error) {
	md := e.Metadata
	if md == nil {
		md = map[string]string{}
	}
	b := body{Status: e.Status, Code: e.Code(), Message: e.Message,
		Details: []any{errorInfo{Type: "ErrorInfo", Reason: e.Reason, Domain: e.Domain, Metadata: md}}}
	if e.TraceID != "" {
		b.Details = append(b.Details, debugInfo{Type: "DebugInfo", StackEntries: []string{}, Detail: "TraceID: " + e.TraceID})
	}
	out, err := json.Marshal(envelope{Error: b})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// internalMessage is Walrus's fixed message for internal errors.
const internalMessage = "an internal error has occurred, please report it"

// From returns err as an *Error: itself if it is (or wraps) one, else an
// internal error with a fresh trace ID.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &Error{Status: Internal, Domain: DomainGlobal, Reason: "INTERNAL_ERROR", Message: internalMessage,
		TraceID: hex.EncodeToString(id), Err: err}
}

// Write sends err as the envelope on w, logging internal errors with their
// cause and trace ID.
func Write(w http.ResponseWriter, log *slog.Logger, err error) {
	e := From(err)
	if e.Status == Internal && log != nil {
		log.Error("internal error", "trace_id", e.TraceID, "err", e.Err)
	}
	b, _ := e.MarshalJSON()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Code())
	_, _ = w.Write(b)
}

// EchoHandler returns an echo error handler: *Error values as the envelope;
// echo's own errors as Walrus's framework does (an unknown route is 404
// with an empty body, 405 likewise, a too-large body 413 in plain text);
// anything else as an internal error.
func EchoHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) && !isAPIError(err) {
			switch he.Code {
			case http.StatusNotFound, http.StatusMethodNotAllowed:
				_ = c.NoContent(he.Code)
				return
			case http.StatusRequestEntityTooLarge:
				_ = c.String(he.Code, "Failed to buffer the request body: length limit exceeded")
				return
			}
			if he.Code < 500 {
				_ = c.String(he.Code, fmt.Sprint(he.Message))
				return
			}
		}
		if c.Request().Method == http.MethodHead {
			e := From(err)
			_ = c.NoContent(e.Code())
			return
		}
		Write(c.Response(), log, err)
	}
}

func isAPIError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Parse reads an error envelope from a response body (already known to be
// an error status). A body that is not the envelope gives an *Error with
// the response's status and the body text as the message.
func Parse(code int, r io.Reader) *Error {
	raw, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	var env struct {
		Error struct {
			Status  Status   `json:"status"`
			Code    int      `json:"code"`
			Message string   `json:"message"`
			Details []detail `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err == nil && env.Error.Status != "" {
		e := &Error{Status: env.Error.Status, Message: env.Error.Message}
		for _, d := range env.Error.Details {
			if d.Type == "ErrorInfo" {
				e.Reason, e.Domain, e.Metadata = d.Reason, d.Domain, d.Metadata
			}
		}
		return e
	}
	status := Internal
	for s, c := range httpCodes {
		if c == code && s != FailedPrecondition && s != SizeExceeded {
			status = s
			break
		}
	}
	return &Error{Status: status, Reason: http.StatusText(code), Message: string(raw)}
}
