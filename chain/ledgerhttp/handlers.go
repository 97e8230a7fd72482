package ledgerhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

type handlers struct {
	l       Ledger
	log     *slog.Logger
	maxWait time.Duration
}

type epochBody struct {
	Epoch chain.Epoch `json:"epoch"`
}

type extendBody struct {
	Epochs uint32 `json:"epochs"`
}

type attributeBody struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (h *handlers) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		// Routing and framework errors: unknown route, method, body too large.
		msg := fmt.Sprint(he.Message)
		reason := "INVALID_ARGUMENT"
		st := "INVALID_ARGUMENT"
		switch he.Code {
		case http.StatusNotFound:
			reason, st = "NOT_FOUND", "NOT_FOUND"
		case http.StatusRequestEntityTooLarge:
			reason, st = "SIZE_EXCEEDED", "SIZE_EXCEEDED"
		case http.StatusMethodNotAllowed:
			reason = "METHOD_NOT_ALLOWED"
		}
		body := envelope{Error: status{Status: st, Code: he.Code, Message: msg,
			Details: []errorInfo{{Type: "ErrorInfo", Reason: reason, Domain: Domain, Metadata: map[string]string{}}}}}
		h.write(c, he.Code, body)
		return
	}
	if c.Request().Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away (a long poll it gave up on): nobody to answer.
		return
	}
	body, code := newEnvelope(err)
	if code >= 500 {
		h.log.Error("ledger request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	h.write(c, code, body)
}

func (h *handlers) write(c echo.Context, code int, body envelope) {
	if err := c.JSON(code, body); err != nil {
		h.log.Debug("write error response", "err", err)
	}
}

// bind decodes a JSON body; malformed bodies are chain.ErrInvalidArgument.
func bind(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		return fmt.Errorf("%w: request body: %w", chain.ErrInvalidArgument, err)
	}
	return nil
}

func objectID(c echo.Context) (chain.ObjectID, error) {
	return chain.ParseObjectID(c.Param("objectId"))
}

func blobID(c echo.Context) (codec.BlobID, error) {
	id, err := codec.ParseBlobID(c.Param("blobId"))
	if err != nil {
		return id, fmt.Errorf("%w: %w", chain.ErrInvalidArgument, err)
	}
	return id, nil
}

func ctx(c echo.Context) context.Context { return c.Request().Context() }

func (h *handlers) systemInfo(c echo.Context) error {
	info, err := h.l.SystemInfo(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

func (h *handlers) currentEpoch(c echo.Context) error {
	e, err := h.l.CurrentEpoch(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, epochBody{e})
}

func (h *handlers) advanceEpoch(c echo.Context) error {
	e, err := h.l.AdvanceEpoch(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, epochBody{e})
}

func (h *handlers) currentCommittee(c echo.Context) error {
	cm, err := h.l.CurrentCommittee(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cm)
}

func (h *handlers) committee(c echo.Context) error {
	e, err := strconv.ParseUint(c.Param("epoch"), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: epoch %q", chain.ErrInvalidArgument, c.Param("epoch"))
	}
	cm, err := h.l.Committee(ctx(c), chain.Epoch(e))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cm)
}

func (h *handlers) setNextCommittee(c echo.Context) error {
	var regs []chain.NodeRegistration
	if err := bind(c, &regs); err != nil {
		return err
	}
	cm, err := h.l.SetNextCommittee(ctx(c), regs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cm)
}

func (h *handlers) register(c echo.Context) error {
	var req chain.RegisterRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	rec, err := h.l.Register(ctx(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rec)
}

func (h *handlers) blobStatus(c echo.Context) error {
	id, err := blobID(c)
	if err != nil {
		return err
	}
	st, err := h.l.BlobStatus(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (h *handlers) blobObjects(c echo.Context) error {
	id, err := blobID(c)
	if err != nil {
		return err
	}
	recs, err := h.l.BlobObjects(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recs)
}

func (h *handlers) invalidate(c echo.Context) error {
	var cert chain.Certificate
	if err := bind(c, &cert); err != nil {
		return err
	}
	ev, err := h.l.InvalidateBlobID(ctx(c), cert)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ev)
}

func (h *handlers) blob(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	rec, err := h.l.Blob(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h *handlers) delete(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	rec, err := h.l.Delete(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h *handlers) certify(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	var cert chain.Certificate
	if err := bind(c, &cert); err != nil {
		return err
	}
	rec, err := h.l.Certify(ctx(c), id, cert)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h *handlers) extend(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	var body extendBody
	if err := bind(c, &body); err != nil {
		return err
	}
	rec, err := h.l.Extend(ctx(c), id, body.Epochs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (h *handlers) setAttribute(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	var body attributeBody
	if err := bind(c, &body); err != nil {
		return err
	}
	if err := h.l.SetAttribute(ctx(c), id, body.Key, body.Value); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) removeAttribute(c echo.Context) error {
	id, err := objectID(c)
	if err != nil {
		return err
	}
	var body attributeBody
	if err := bind(c, &body); err != nil {
		return err
	}
	if err := h.l.RemoveAttribute(ctx(c), id, body.Key); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) events(c echo.Context) error {
	q := c.QueryParams()
	parse := func(name string, bits int) (uint64, error) {
		v := q.Get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return 0, fmt.Errorf("%w: %s=%q", chain.ErrInvalidArgument, name, v)
		}
		return n, nil
	}
	from, err := parse("from", 64)
	if err != nil {
		return err
	}
	limit, err := parse("limit", 31)
	if err != nil {
		return err
	}
	waitMS, err := parse("wait", 31)
	if err != nil {
		return err
	}
	var events []chain.Event
	if waitMS == 0 {
		events, err = h.l.Events(ctx(c), from, int(limit))
	} else {
		wctx, cancel := context.WithTimeout(ctx(c), min(time.Duration(waitMS)*time.Millisecond, h.maxWait))
		events, err = h.l.WaitEvents(wctx, from, int(limit))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx(c).Err() == nil {
			events, err = []chain.Event{}, nil
		}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, events)
}
