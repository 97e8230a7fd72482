package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/walrusapi"
)

// Quilts: many small files stored as one blob (Walrus's PUT /v1/quilts),
// each read back alone as a patch through an aggregator.

// QuiltFile is one file to store in a quilt.
type QuiltFile struct {
	// Identifier names the file in the quilt (the multipart field name);
	// Walrus's rules apply (codec.ValidateQuiltIdentifier), and _metadata
	// is reserved.
	Identifier string
	// Tags are sent in the _metadata field; nil or empty: none.
	Tags map[string]string
	// Body is the file's bytes, read as the request goes out.
	Body io.Reader
}

// StoredQuiltPatch is one file of a stored quilt: its patch ID and the
// columns [start, end) it occupies (nil if the publisher does not say), as
// haulout's publisher writes it.
type StoredQuiltPatch = walrusapi.StoredQuiltPatch

// QuiltStoreResult is a publisher's answer to PUT /v1/quilts.
type QuiltStoreResult struct {
	// BlobStoreResult is the store of the quilt blob (its blob ID is the
	// quilt ID).
	BlobStoreResult *StoreResult
	// StoredQuiltBlobs lists the files, empty if the store failed.
	StoredQuiltBlobs []StoredQuiltPatch
	// Raw is the answer as received (JSON mode).
	Raw json.RawMessage
	// JobID is the haulout publisher's upload job (empty from Walrus).
	JobID string
}

// quiltMetadataField is the multipart field that carries the tags.
const quiltMetadataField = "_metadata"

// StoreQuilt stores the files as one quilt and returns the publisher's
// answer once the quilt blob is certified. The body is streamed as
// multipart/form-data (chunked): each file is read as it is sent. The
// query is opts' (Walrus's PUT /v1/blobs parameters, quilt_version v1).
func (p *Publisher) StoreQuilt(ctx context.Context, files []QuiltFile, opts StoreOptions) (*QuiltStoreResult, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("publisher: store quilt: no files")
	}
	var metas []quiltMeta
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := codec.ValidateQuiltIdentifier(f.Identifier); err != nil {
			return nil, fmt.Errorf("publisher: store quilt: %w", err)
		}
		if f.Identifier == quiltMetadataField {
			return nil, fmt.Errorf("publisher: store quilt: %w: %s is reserved", codec.ErrInvalidQuiltIdentifier, quiltMetadataField)
		}
		if seen[f.Identifier] {
			return nil, fmt.Errorf("publisher: store quilt: %w: %q", codec.ErrDuplicateQuiltIdentifier, f.Identifier)
		}
		seen[f.Identifier] = true
		if len(f.Tags) > 0 {
			metas = append(metas, quiltMeta{f.Identifier, f.Tags})
		}
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeQuiltForm(mw, files, metas))
	}()
	defer pr.Close() // ends the writer if the request fails early
	q := opts.query()
	q.Set("quilt_version", "v1")
	resp, err := p.put(ctx, "/v1/quilts", q, pr, -1, mw.FormDataContentType(), opts.Progress)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResultSize))
	if err != nil {
		return nil, fmt.Errorf("publisher: read answer: %w", err)
	}
	res, err := parseQuiltStoreResult(raw)
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	res.JobID = resp.Header.Get(jobHeader)
	return res, nil
}

// quiltMeta is one entry of the _metadata field.
type quiltMeta struct {
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
}

// writeQuiltForm writes the multipart body: the _metadata field (if any
// file has tags), then one field per file named by its identifier.
func writeQuiltForm(mw *multipart.Writer, files []QuiltFile, metas []quiltMeta) error {
	if len(metas) > 0 {
		b, err := json.Marshal(metas)
		if err != nil {
			return err
		}
		if err := mw.WriteField(quiltMetadataField, string(b)); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, escapeQuotes(f.Identifier), escapeQuotes(f.Identifier)))
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if f.Body != nil {
			if _, err := io.Copy(w, f.Body); err != nil {
				return fmt.Errorf("file %q: %w", f.Identifier, err)
			}
		}
	}
	return mw.Close()
}

// escapeQuotes escapes a form field name as mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

func parseQuiltStoreResult(raw []byte) (*QuiltStoreResult, error) {
	// walrusapi's shape, but the blob store result kept as received for
	// parseStoreResult: the outer field shadows the embedded one.
	var wire struct {
		walrusapi.QuiltStoreResult
		BlobStoreResult json.RawMessage `json:"blobStoreResult"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, fmt.Errorf("decode quilt store result: %w", err)
	}
	res, err := parseStoreResult(wire.BlobStoreResult)
	if err != nil {
		return nil, err
	}
	return &QuiltStoreResult{BlobStoreResult: res, StoredQuiltBlobs: wire.StoredQuiltBlobs, Raw: append(json.RawMessage(nil), raw...)}, nil
}

// QuiltID is the stored quilt's blob ID.
func (r *QuiltStoreResult) QuiltID() codec.BlobID { return r.BlobStoreResult.BlobID() }

// QuiltPatch is one entry of a quilt's patch list (GET
// /v1/quilts/{id}/patches).
type QuiltPatch struct {
	Identifier string             `json:"identifier"`
	PatchID    codec.QuiltPatchID `json:"patch_id"`
	Tags       map[string]string  `json:"tags"`
}

// maxPatchList bounds a patch list answer: at most 666 patches at 1000
// shards, the index at most ten columns.
const maxPatchList = 64 << 20

// ListPatches returns the patches of the quilt, in quilt order.
func (a *Aggregator) ListPatches(ctx context.Context, quilt codec.BlobID) ([]QuiltPatch, error) {
	b, err := a.open(ctx, "/v1/quilts/"+quilt.String()+"/patches", nil)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var out []QuiltPatch
	if err := json.NewDecoder(io.LimitReader(b.Body, maxPatchList)).Decode(&out); err != nil {
		return nil, fmt.Errorf("aggregator: patches of %s: %w", quilt, err)
	}
	for i := range out {
		if out[i].Tags == nil {
			out[i].Tags = map[string]string{}
		}
	}
	return out, nil
}

// OpenPatch starts reading the patch a patch ID names; the caller closes
// the Blob. Its Header carries X-Quilt-Patch-Identifier and the tags the
// aggregator lets through.
func (a *Aggregator) OpenPatch(ctx context.Context, id codec.QuiltPatchID) (*Blob, error) {
	return a.open(ctx, "/v1/blobs/by-quilt-patch-id/"+id.String(), nil)
}

// OpenPatchByIdentifier starts reading the patch of the quilt that has
// the identifier (sent percent-encoded: a / travels as %2F).
func (a *Aggregator) OpenPatchByIdentifier(ctx context.Context, quilt codec.BlobID, identifier string) (*Blob, error) {
	return a.open(ctx, "/v1/blobs/by-quilt-id/"+quilt.String()+"/"+url.PathEscape(identifier), nil)
}

// PatchInfo is what a patch read learns besides the bytes.
type PatchInfo struct {
	// Identifier is the patch's, from X-Quilt-Patch-Identifier.
	Identifier string
	// Size is the bytes written.
	Size int64
	// Header is the aggregator's answer's headers.
	Header http.Header
}

// ReadPatch writes the patch a patch ID names to w.
func (a *Aggregator) ReadPatch(ctx context.Context, id codec.QuiltPatchID, w io.Writer) (PatchInfo, error) {
	b, err := a.OpenPatch(ctx, id)
	if err != nil {
		return PatchInfo{}, err
	}
	return b.copyPatch(w, id.String())
}

// ReadPatchByIdentifier writes the patch of the quilt that has the
// identifier to w.
func (a *Aggregator) ReadPatchByIdentifier(ctx context.Context, quilt codec.BlobID, identifier string, w io.Writer) (PatchInfo, error) {
	b, err := a.OpenPatchByIdentifier(ctx, quilt, identifier)
	if err != nil {
		return PatchInfo{}, err
	}
	return b.copyPatch(w, quilt.String()+"/"+identifier)
}

func (b *Blob) copyPatch(w io.Writer, what string) (PatchInfo, error) {
	defer b.Close()
	n, err := io.Copy(w, b.Body)
	info := PatchInfo{Identifier: b.Header.Get("X-Quilt-Patch-Identifier"), Size: n, Header: b.Header}
	if err != nil {
		return info, fmt.Errorf("aggregator: read patch %s: %w", what, err)
	}
	if b.Size >= 0 && n != b.Size {
		return info, fmt.Errorf("aggregator: read patch %s: got %d of %d bytes", what, n, b.Size)
	}
	return info, nil
}
