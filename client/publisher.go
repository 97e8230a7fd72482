package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/walrusapi"
)

// Publisher is a publisher's HTTP API at URL.
type Publisher struct {
	// URL is the publisher's root, e.g. http://127.0.0.1:31416.
	URL string
	// HTTP sends the requests (default http.DefaultClient).
	HTTP *http.Client
	// Token, if set, is sent as a bearer token (an authenticated publisher
	// asks for a JWT).
	Token string
}

// StoreOptions are the query parameters of PUT /v1/blobs, Walrus's names in
// the comments.
type StoreOptions struct {
	// Epochs to store for (epochs); 0 leaves it to the publisher (1 on
	// Walrus).
	Epochs uint32
	// Permanent makes a permanent blob (permanent); blobs are deletable by
	// default.
	Permanent bool
	// Deletable is Walrus's deprecated no-op flag (deletable); with
	// Permanent it is an error.
	Deletable bool
	// Force creates a new Blob object even if the blob is already certified
	// long enough (force).
	Force bool
	// Share wraps the Blob object into a shared one (share).
	Share bool
	// SendObjectTo transfers the Blob object to this address
	// (send_object_to); empty: the publisher keeps it.
	SendObjectTo string
	// Progress, if set, is called with the number of body bytes sent so
	// far, as they go; it must be quick.
	Progress func(sent int64)
	// Resumable asks a haulout publisher to answer as soon as the body is
	// durable (wait=false) and then follows the upload's job until the
	// blob is certified, riding out a publisher restart meanwhile. A
	// publisher without jobs (Walrus's) ignores the parameter and answers
	// as usual. Publisher.StoreBlob only.
	Resumable bool
	// OnJob, if set, is called with the upload's job ID when a resumable
	// store's body is durable at the publisher.
	OnJob func(jobID string)
}

// query returns o as the query string of PUT /v1/blobs (and /v1/quilts).
func (o StoreOptions) query() url.Values {
	q := url.Values{}
	if o.Epochs > 0 {
		q.Set("epochs", strconv.FormatUint(uint64(o.Epochs), 10))
	}
	for _, b := range []struct {
		key string
		on  bool
	}{{"permanent", o.Permanent}, {"deletable", o.Deletable}, {"force", o.Force}, {"share", o.Share}} {
		if b.on {
			q.Set(b.key, "true")
		}
	}
	if o.SendObjectTo != "" {
		q.Set("send_object_to", o.SendObjectTo)
	}
	return q
}

// StoreResult is a publisher's answer to a store: Walrus's BlobStoreResult,
// exactly one of its variants set.
type StoreResult struct {
	NewlyCreated     *NewlyCreated     `json:"newlyCreated,omitempty"`
	AlreadyCertified *AlreadyCertified `json:"alreadyCertified,omitempty"`
	// Raw is the answer as received, for output that must match the
	// publisher's byte for byte (JSON mode).
	Raw json.RawMessage `json:"-"`
	// JobID is the haulout publisher's upload job (empty from Walrus).
	JobID string `json:"-"`
}

// The variants of a StoreResult, shared with haulout's publisher.
type (
	// NewlyCreated is a store that made a new Blob object.
	NewlyCreated = walrusapi.NewlyCreated
	// BlobObject is Walrus's Blob object as the publisher reports it.
	BlobObject = walrusapi.BlobObject
	// AlreadyCertified is a store that found the blob certified long enough.
	AlreadyCertified = walrusapi.AlreadyCertified
)

// BlobObjectOf is rec in the shape publishers report Blob objects. The
// storage resource's ID is derived from the object's as haulout's publisher
// derives it (the local ledger keeps no separate Storage objects).
func BlobObjectOf(rec chain.BlobRecord) BlobObject { return walrusapi.BlobObjectOf(rec) }

// BlobID is the stored blob's ID, whichever the variant.
func (r *StoreResult) BlobID() codec.BlobID {
	switch {
	case r.NewlyCreated != nil:
		return r.NewlyCreated.BlobObject.BlobID
	case r.AlreadyCertified != nil:
		return r.AlreadyCertified.BlobID
	}
	return codec.BlobID{}
}

// EndEpoch is the first epoch in which the blob is no longer stored.
func (r *StoreResult) EndEpoch() chain.Epoch {
	switch {
	case r.NewlyCreated != nil:
		return r.NewlyCreated.BlobObject.Storage.EndEpoch
	case r.AlreadyCertified != nil:
		return r.AlreadyCertified.EndEpoch
	}
	return 0
}

// ObjectID is the Blob object that stores the blob, if the answer names one.
func (r *StoreResult) ObjectID() (chain.ObjectID, bool) {
	switch {
	case r.NewlyCreated != nil:
		return r.NewlyCreated.BlobObject.ID, true
	case r.AlreadyCertified != nil && r.AlreadyCertified.Object != nil:
		return *r.AlreadyCertified.Object, true
	}
	return chain.ObjectID{}, false
}

// parseStoreResult decodes a BlobStoreResult.
func parseStoreResult(raw []byte) (*StoreResult, error) {
	var r StoreResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode store result: %w", err)
	}
	if r.NewlyCreated == nil && r.AlreadyCertified == nil {
		return nil, fmt.Errorf("store result names no known variant: %.200s", raw)
	}
	r.Raw = append(json.RawMessage(nil), raw...)
	return &r, nil
}

// maxResultSize bounds a store answer (a quilt's lists its patches).
const maxResultSize = 16 << 20

func (p *Publisher) client() *http.Client {
	if p.HTTP != nil {
		return p.HTTP
	}
	return http.DefaultClient
}

func (p *Publisher) endpoint(path string, q url.Values) string {
	u := strings.TrimSuffix(p.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// StoreBlob stores the size bytes read from r as one blob and returns the
// publisher's answer once the blob is certified. The body is streamed: r is
// read as the request goes out. size < 0 sends the body chunked, which
// Walrus's publisher accepts too.
func (p *Publisher) StoreBlob(ctx context.Context, r io.Reader, size int64, opts StoreOptions) (*StoreResult, error) {
	q := opts.query()
	if opts.Resumable {
		q.Set("wait", "false")
	}
	resp, err := p.put(ctx, "/v1/blobs", q, r, size, "application/octet-stream", opts.Progress)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		var acc struct {
			JobID string `json:"jobId"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResultSize)).Decode(&acc); err != nil || acc.JobID == "" {
			return nil, fmt.Errorf("publisher: 202 without a job ID (%v)", err)
		}
		if opts.OnJob != nil {
			opts.OnJob(acc.JobID)
		}
		return p.WaitJob(ctx, acc.JobID, 0)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResultSize))
	if err != nil {
		return nil, fmt.Errorf("publisher: read answer: %w", err)
	}
	res, err := parseStoreResult(raw)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	res.JobID = resp.Header.Get(jobHeader)
	return res, nil
}

// jobHeader names the haulout publisher's upload job in its answers.
const jobHeader = "X-Haulout-Job"

// put sends body to path and returns a 2xx answer; any other answer is an
// *APIError. The caller closes the answer's body.
func (p *Publisher) put(ctx context.Context, path string, q url.Values, body io.Reader, size int64, contentType string, progress func(int64)) (*http.Response, error) {
	if body == nil {
		body = http.NoBody
	}
	if progress != nil {
		body = &countingReader{r: body, f: progress}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.endpoint(path, q), io.NopCloser(body))
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", contentType)
	p.authorize(req)
	resp, err := p.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("publisher %s: PUT %s: %w", p.URL, path, transportError(err))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, fmt.Errorf("publisher: PUT %s: %w", path, apiError(resp))
	}
	return resp, nil
}

func (p *Publisher) authorize(req *http.Request) {
	if p.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.Token)
	}
}

// Job is a haulout publisher's upload job (GET /v1/jobs/{id}).
type Job struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	BlobID string `json:"blobId,omitempty"`
	Size   int64  `json:"size"`
	// Failure says why a failed job failed.
	Failure   string `json:"failure,omitempty"`
	LastError string `json:"lastError,omitempty"`
	Attempts  int    `json:"attempts"`
	Progress  struct {
		Nodes     int `json:"nodes"`
		Pending   int `json:"pending"`
		Sent      int `json:"sent"`
		Confirmed int `json:"confirmed"`
		GivenUp   int `json:"givenUp"`
	} `json:"progress"`
	// Result is the store's answer, once the blob is certified.
	Result json.RawMessage `json:"result,omitempty"`
}

// Job states that matter to a client (publisher/jobs): from certified on
// the job holds the store's answer; done and failed end it.
const (
	JobCertified = "certified"
	JobDone      = "done"
	JobFailed    = "failed"
)

// Job returns the upload job id of a haulout publisher.
func (p *Publisher) Job(ctx context.Context, id string) (*Job, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.endpoint("/v1/jobs/"+url.PathEscape(id), nil), nil)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p.authorize(req)
	resp, err := p.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("publisher %s: job %s: %w", p.URL, id, transportError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("publisher: job %s: %w", id, apiError(resp))
	}
	var j Job
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResultSize)).Decode(&j); err != nil {
		return nil, fmt.Errorf("publisher: job %s: decode: %w", id, err)
	}
	return &j, nil
}

// WaitJob polls the job every interval (0: from 50 ms, doubling up to a
// second) until the blob is certified, and returns the store's answer, or
// until the job failed. Transport errors and 5xx answers, as from a
// publisher that is restarting, are retried until ctx ends.
func (p *Publisher) WaitJob(ctx context.Context, id string, interval time.Duration) (*StoreResult, error) {
	adaptive := interval <= 0
	if adaptive {
		interval = 50 * time.Millisecond
	}
	var lastErr error
	for {
		j, err := p.Job(ctx, id)
		var apiErr *APIError
		switch {
		case err == nil && (j.State == JobCertified || j.State == JobDone) && len(j.Result) > 0:
			res, err := parseStoreResult(j.Result)
			if err != nil {
				return nil, fmt.Errorf("publisher: job %s: %w", id, err)
			}
			res.JobID = id
			return res, nil
		case err == nil && j.State == JobFailed:
			return nil, fmt.Errorf("publisher: job %s failed: %s", id, j.Failure)
		case errors.As(err, &apiErr) && apiErr.Code < 500:
			return nil, err
		case err != nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		if adaptive {
			interval = min(2*interval, time.Second)
		}
	}
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
	f func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.f(c.n)
	}
	return n, err
}
