package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/publisher/jobs"
)

// putBlob serves PUT /v1/blobs: the body is the blob.
func (p *Publisher) putBlob(c echo.Context) error {
	q := c.Get(ctxQuery).(storeQuery)
	slot := c.Get(ctxSlot).(*jobSlot)
	r := c.Request()
	ctx := r.Context()
	if err := p.checkEpochs(ctx, q.Epochs); err != nil {
		return err
	}
	if r.ContentLength > p.cfg.MaxBodySize {
		p.metrics.refusals.WithLabelValues("too_large").Inc()
		return echo.ErrStatusRequestEntityTooLarge
	}
	id, err := jobs.NewID()
	if err != nil {
		return err
	}
	start := time.Now()
	path, n, err := p.spool.write(id, r.Body, p.cfg.MaxBodySize)
	if errors.Is(err, errTooLarge) {
		p.metrics.refusals.WithLabelValues("too_large").Inc()
		return echo.ErrStatusRequestEntityTooLarge
	}
	if err != nil {
		if ctx.Err() != nil {
			// The client went away mid-body: nobody is left to answer.
			p.log.Debug("client gone while sending its body", "err", err)
			return nil
		}
		return apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainDaemon, reasonMalformedRequest,
			"the request body could not be read")
	}
	p.metrics.stepDuration.WithLabelValues("spool").Observe(time.Since(start).Seconds())
	if err := checkExactSize(r, uint64(n)); err != nil {
		p.spool.remove(path)
		return err
	}
	opts := q.options()
	if len(p.cfg.Plugins) > 0 {
		size, attrs, err := p.transform(ctx, id, path)
		if err != nil {
			p.spool.remove(path)
			return err
		}
		n = size
		if len(attrs) > 0 {
			opts.Attributes = attrs
		}
	}
	return p.submit(c, slot, q, jobs.NewJob{ID: id, Size: n, SpoolPath: path, Options: opts})
}

// checkEpochs refuses, before any work, epochs the ledger would refuse:
// Walrus answers those with 500 after its chain transaction fails; haulout
// with 400 INVALID_EPOCHS.
func (p *Publisher) checkEpochs(ctx context.Context, epochs uint32) error {
	sys, err := p.systemInfo(ctx)
	if err != nil {
		return err
	}
	if epochs == 0 || epochs > sys.MaxEpochsAhead {
		return errEpochs(epochs, sys.MaxEpochsAhead)
	}
	return nil
}

// submit turns a spooled upload into a job leased to this publisher,
// starts it, and answers: at once with 202 when the client asked not to
// wait, else when the job has its answer. A client that goes away does not
// stop the job.
func (p *Publisher) submit(c echo.Context, slot *jobSlot, q storeQuery, n jobs.NewJob) error {
	ctx := c.Request().Context()
	p.metrics.uploadBytes.Add(float64(n.Size))
	j, err := p.cfg.Jobs.Create(ctx, n, p.cfg.Owner, p.cfg.LeaseDuration)
	if err != nil {
		p.spool.remove(n.SpoolPath)
		return err
	}
	slot.keep()
	t := p.start(j, slot.free)
	// Beyond Walrus: the job that follows the upload, for GET /v1/jobs/{id}.
	c.Response().Header().Set(jobHeader, j.ID)
	if !q.Wait {
		c.Response().Header().Set("Location", "/v1/jobs/"+j.ID)
		return c.JSON(http.StatusAccepted, jobAccepted{JobID: j.ID, State: j.State, StatusURL: "/v1/jobs/" + j.ID})
	}
	select {
	case <-t.answered:
	case <-ctx.Done():
		// The client went away; its job goes on.
		p.log.Debug("client gone while its upload goes on", "job", j.ID)
		return nil
	}
	if t.answerErr != nil && t.answerErr.Reason == reasonTakenOver {
		// This publisher stalled and the job went on elsewhere (or in
		// this publisher's runner): follow it in the store.
		return p.follow(c, j.ID)
	}
	if t.answerErr != nil {
		return t.answerErr
	}
	return c.JSONBlob(http.StatusOK, t.answer)
}

// follow waits, for a client still connected, until the job has an answer
// in the store: its result once certified, or its failure.
func (p *Publisher) follow(c echo.Context, id string) error {
	ctx := c.Request().Context()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := p.cfg.Jobs.Get(ctx, id)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case j.Result != nil && (j.State == jobs.StateCertified || j.State == jobs.StateDone):
			return c.JSONBlob(http.StatusOK, j.Result)
		case j.State == jobs.StateFailed:
			return apierr.From(errors.New(j.Failure))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// jobHeader names the job of an upload in every answer after the body was
// received.
const jobHeader = "X-Haulout-Job"

// marshalAnswer is the JSON body of a job's answer.
func marshalAnswer(v any) (json.RawMessage, error) {
	return json.Marshal(v)
}
