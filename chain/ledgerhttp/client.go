package ledgerhttp

import (
	"bytes"
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
)

// DefaultPollWait is how long one long poll of Client.WaitEvents waits.
const DefaultPollWait = 25 * time.Second

// Client is a ledger reached over HTTP. It has the method set of
// *local.Ledger, and its errors wrap the same chain sentinels.
type Client struct {
	// BaseURL is the server's root, e.g. http://127.0.0.1:31417.
	BaseURL string
	// HTTPClient sends the requests (default http.DefaultClient). Its
	// Timeout, if any, must exceed PollWait.
	HTTPClient *http.Client
	// PollWait is the server-side wait of one long poll (default
	// DefaultPollWait).
	PollWait time.Duration
}

// NewClient returns a client of the ledger served at baseURL.
func NewClient(baseURL string) *Client { return &Client{BaseURL: baseURL} }

// maxResponseSize bounds a response body.
const maxResponseSize = 64 << 20

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("ledger: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("ledger: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("ledger: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return fmt.Errorf("ledger: %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp.StatusCode, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ledger: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

func decodeError(code int, data []byte) error {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Error.Code == 0 {
		return &Error{HTTPStatus: code, Status: http.StatusText(code),
			Message: fmt.Sprintf("ledger: HTTP %d: %s", code, bytes.TrimSpace(data[:min(len(data), 200)]))}
	}
	e := &Error{HTTPStatus: code, Status: env.Error.Status, Message: env.Error.Message}
	for _, d := range env.Error.Details {
		if d.Type == "ErrorInfo" {
			e.Reason = d.Reason
			e.sentinel = chain.ErrorForReason(d.Reason)
			break
		}
	}
	return e
}

// CurrentEpoch returns the current epoch.
func (c *Client) CurrentEpoch(ctx context.Context) (chain.Epoch, error) {
	var out epochBody
	err := c.do(ctx, http.MethodGet, "/v1/epoch", nil, &out)
	return out.Epoch, err
}

// SystemInfo returns the state of the epochs.
func (c *Client) SystemInfo(ctx context.Context) (chain.SystemInfo, error) {
	var out chain.SystemInfo
	err := c.do(ctx, http.MethodGet, "/v1/system", nil, &out)
	return out, err
}

// CurrentCommittee returns the committee of the current epoch.
func (c *Client) CurrentCommittee(ctx context.Context) (chain.Committee, error) {
	var out chain.Committee
	err := c.do(ctx, http.MethodGet, "/v1/committee", nil, &out)
	return out, err
}

// Committee returns the committee of epoch.
func (c *Client) Committee(ctx context.Context, epoch chain.Epoch) (chain.Committee, error) {
	var out chain.Committee
	err := c.do(ctx, http.MethodGet, "/v1/committee/"+strconv.FormatUint(uint64(epoch), 10), nil, &out)
	return out, err
}

// SetNextCommittee sets the committee of the next epoch.
func (c *Client) SetNextCommittee(ctx context.Context, regs []chain.NodeRegistration) (chain.Committee, error) {
	var out chain.Committee
	err := c.do(ctx, http.MethodPut, "/v1/committee/next", regs, &out)
	return out, err
}

// AdvanceEpoch starts the next epoch.
func (c *Client) AdvanceEpoch(ctx context.Context) (chain.Epoch, error) {
	var out epochBody
	err := c.do(ctx, http.MethodPost, "/v1/epoch/advance", nil, &out)
	return out.Epoch, err
}

// Register registers a blob.
func (c *Client) Register(ctx context.Context, req chain.RegisterRequest) (chain.BlobRecord, error) {
	var out chain.BlobRecord
	err := c.do(ctx, http.MethodPost, "/v1/blobs", req, &out)
	return out, err
}

// Certify certifies a Blob object with a certificate.
func (c *Client) Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error) {
	var out chain.BlobRecord
	err := c.do(ctx, http.MethodPost, "/v1/objects/"+id.String()+"/certify", cert, &out)
	return out, err
}

// Extend extends a certified Blob object by epochs.
func (c *Client) Extend(ctx context.Context, id chain.ObjectID, epochs uint32) (chain.BlobRecord, error) {
	var out chain.BlobRecord
	err := c.do(ctx, http.MethodPost, "/v1/objects/"+id.String()+"/extend", extendBody{Epochs: epochs}, &out)
	return out, err
}

// Delete deletes a deletable Blob object.
func (c *Client) Delete(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error) {
	var out chain.BlobRecord
	err := c.do(ctx, http.MethodDelete, "/v1/objects/"+id.String(), nil, &out)
	return out, err
}

// SetAttribute sets an attribute of a Blob object.
func (c *Client) SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error {
	return c.do(ctx, http.MethodPost, "/v1/objects/"+id.String()+"/attributes", attributeBody{Key: key, Value: value}, nil)
}

// RemoveAttribute removes an attribute of a Blob object.
func (c *Client) RemoveAttribute(ctx context.Context, id chain.ObjectID, key string) error {
	return c.do(ctx, http.MethodPost, "/v1/objects/"+id.String()+"/attributes/remove", attributeBody{Key: key}, nil)
}

// InvalidateBlobID marks a blob ID invalid with a certificate.
func (c *Client) InvalidateBlobID(ctx context.Context, cert chain.Certificate) (chain.Event, error) {
	var out chain.Event
	err := c.do(ctx, http.MethodPost, "/v1/invalid-blob-ids", cert, &out)
	return out, err
}

// Blob returns a Blob object.
func (c *Client) Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error) {
	var out chain.BlobRecord
	err := c.do(ctx, http.MethodGet, "/v1/objects/"+id.String(), nil, &out)
	return out, err
}

// BlobObjects returns every Blob object of a blob ID.
func (c *Client) BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error) {
	var out []chain.BlobRecord
	err := c.do(ctx, http.MethodGet, "/v1/blobs/"+blobID.String()+"/objects", nil, &out)
	return out, err
}

// BlobStatus returns the aggregated status of a blob ID.
func (c *Client) BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error) {
	var out chain.BlobStatus
	err := c.do(ctx, http.MethodGet, "/v1/blobs/"+blobID.String()+"/status", nil, &out)
	return out, err
}

func eventsPath(from uint64, limit int, wait time.Duration) string {
	q := url.Values{}
	q.Set("from", strconv.FormatUint(from, 10))
	q.Set("limit", strconv.Itoa(chain.ClampEventLimit(limit)))
	if wait > 0 {
		q.Set("wait", strconv.FormatInt(max(wait.Milliseconds(), 1), 10))
	}
	return "/v1/events?" + q.Encode()
}

// Events returns up to limit events from cursor from on.
func (c *Client) Events(ctx context.Context, from uint64, limit int) ([]chain.Event, error) {
	var out []chain.Event
	err := c.do(ctx, http.MethodGet, eventsPath(from, limit, 0), nil, &out)
	return out, err
}

// WaitEvents long-polls until there is at least one event from cursor from
// on, or ctx is done.
func (c *Client) WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error) {
	wait := c.PollWait
	if wait <= 0 {
		wait = DefaultPollWait
	}
	for {
		var out []chain.Event
		if err := c.do(ctx, http.MethodGet, eventsPath(from, limit, wait), nil, &out); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
				return nil, fmt.Errorf("%w: %w", ctxErr, err)
			}
			return nil, err
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}
