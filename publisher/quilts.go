package publisher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher/jobs"
)

// Quilts over HTTP (spec §2.2): every multipart field but _metadata is a
// file whose field name is its identifier; _metadata is a JSON array of
// {"identifier", "tags"}. The files are laid out as one QuiltV1 blob, which
// is stored as any blob, with the Blob object attribute
// _walrusBlobType=quilt.
const (
	quiltTypeAttr      = "_walrusBlobType"
	quiltTypeValue     = "quilt"
	quiltMetadataField = "_metadata"
)

// quiltPatchMetadata is one entry of the _metadata field.
type quiltPatchMetadata struct {
	Identifier string                     `json:"identifier"`
	Tags       map[string]json.RawMessage `json:"tags"`
}

// putQuilt serves PUT /v1/quilts.
func (p *Publisher) putQuilt(c echo.Context) error {
	q := c.Get(ctxQuery).(storeQuery)
	slot := c.Get(ctxSlot).(*jobSlot)
	r := c.Request()
	ctx := r.Context()
	if err := p.checkEpochs(ctx, q.Epochs); err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		// Walrus's multipart extractor refuses in plain text.
		return echo.NewHTTPError(http.StatusBadRequest, "Invalid `boundary` for `multipart/form-data` request")
	}
	if r.ContentLength > p.cfg.MaxQuiltBodySize {
		p.metrics.refusals.WithLabelValues("too_large").Inc()
		return echo.ErrStatusRequestEntityTooLarge
	}
	sys, err := p.systemInfo(ctx)
	if err != nil {
		return err
	}
	code, err := codec.NewConfig(int(sys.NShards))
	if err != nil {
		return err
	}
	// The files and the quilt built from them are both in memory: about
	// twice the body.
	limit := p.cfg.MaxQuiltBodySize
	if r.ContentLength >= 0 {
		limit = r.ContentLength
	}
	held, err := p.mem.acquire(ctx, 2*limit)
	if err != nil {
		return err
	}
	defer func() { p.mem.release(held) }()

	files, err := readQuiltForm(http.MaxBytesReader(c.Response(), r.Body, p.cfg.MaxQuiltBodySize), params["boundary"], code.MaxQuiltPatches())
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		p.metrics.refusals.WithLabelValues("too_large").Inc()
		return echo.ErrStatusRequestEntityTooLarge
	}
	if err != nil {
		if ctx.Err() != nil {
			p.log.Debug("client gone while sending its body", "err", err)
			return nil
		}
		return errMalformed("failed to parse multipart form: %v", err)
	}
	if len(files) == 0 {
		return errMalformed("no files provided in multipart form")
	}
	quilt, err := code.BuildQuilt(files)
	if err != nil {
		return errMalformed("the quilt could not be built: %v", err)
	}
	files = nil
	if err := checkExactSize(r, uint64(len(quilt.Blob))); err != nil {
		return err
	}
	id, err := jobs.NewID()
	if err != nil {
		return err
	}
	path, err := p.spool.writeBytes(id, quilt.Blob)
	if err != nil {
		return err
	}
	size := int64(len(quilt.Blob))
	quilt = nil
	p.mem.release(held)
	held = 0
	o := q.options()
	o.Attributes = map[string]string{quiltTypeAttr: quiltTypeValue}
	return p.submit(c, slot, q, jobs.NewJob{ID: id, Size: size, SpoolPath: path, Options: o})
}

// readQuiltForm reads the files of a quilt upload and applies the tags of
// _metadata to them. Two files with one identifier, a second _metadata,
// a _metadata that is not the expected JSON or names an identifier twice,
// an invalid identifier, and more than maxFiles files are errors.
func readQuiltForm(body io.Reader, boundary string, maxFiles int) ([]codec.QuiltFile, error) {
	mr := multipart.NewReader(body, boundary)
	data := make(map[string][]byte)
	var meta []quiltPatchMetadata
	seenMeta := false
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name := part.FormName()
		var buf bytes.Buffer
		_, err = buf.ReadFrom(part)
		part.Close()
		if err != nil {
			return nil, err
		}
		switch {
		case name == quiltMetadataField:
			if seenMeta {
				return nil, fmt.Errorf("field %s given twice", quiltMetadataField)
			}
			seenMeta = true
			if err := json.Unmarshal(buf.Bytes(), &meta); err != nil {
				return nil, fmt.Errorf("field %s: %v", quiltMetadataField, err)
			}
		case name == "":
			return nil, errors.New("a form field has no name")
		default:
			if err := codec.ValidateQuiltIdentifier(name); err != nil {
				return nil, fmt.Errorf("identifier %q: %v", name, err)
			}
			if _, dup := data[name]; dup {
				return nil, fmt.Errorf("identifier %q: %w", name, codec.ErrDuplicateQuiltIdentifier)
			}
			if len(data) == maxFiles {
				return nil, fmt.Errorf("%w: more than %d files", codec.ErrTooManyPatches, maxFiles)
			}
			data[name] = buf.Bytes()
		}
	}
	tags := make(map[string]map[string]string, len(meta))
	for _, m := range meta {
		if _, dup := tags[m.Identifier]; dup {
			return nil, fmt.Errorf("field %s: identifier %q twice", quiltMetadataField, m.Identifier)
		}
		t := make(map[string]string, len(m.Tags))
		for k, raw := range m.Tags {
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				t[k] = s
			} else {
				// Tag values that are not JSON strings are kept as their JSON text.
				t[k] = string(raw)
			}
		}
		tags[m.Identifier] = t
	}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	sort.Strings(names)
	files := make([]codec.QuiltFile, len(names))
	for i, name := range names {
		files[i] = codec.QuiltFile{Identifier: name, Tags: tags[name], Data: data[name]}
	}
	return files, nil
}
