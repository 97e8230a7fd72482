package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

// HTTPNetwork is a Network over a publisher's and an aggregator's HTTP
// APIs (Walrus's: PUT /v1/quilts, PUT /v1/blobs, GET /v1/blobs/{id}).
type HTTPNetwork struct {
	Publisher  *client.Publisher
	Aggregator *client.Aggregator
}

// StoreBlob stores data through the publisher; fresh sets force=true.
func (n *HTTPNetwork) StoreBlob(ctx context.Context, data []byte, epochs uint32, fresh bool) (codec.BlobID, *chain.ObjectID, error) {
	res, err := n.Publisher.StoreBlob(ctx, bytes.NewReader(data), int64(len(data)), client.StoreOptions{Epochs: epochs, Force: fresh})
	if err != nil {
		return codec.BlobID{}, nil, err
	}
	oid, ok := res.ObjectID()
	if !ok {
		return res.BlobID(), nil, nil
	}
	return res.BlobID(), &oid, nil
}

// ReadBlob reads a blob through the aggregator.
func (n *HTTPNetwork) ReadBlob(ctx context.Context, id codec.BlobID, max int64) ([]byte, error) {
	b, err := n.Aggregator.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if b.Size > max {
		return nil, fmt.Errorf("blob %s is %d bytes, more than %d", id, b.Size, max)
	}
	data, err := io.ReadAll(io.LimitReader(b.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id, err)
	}
	if int64(len(data)) > max || (b.Size >= 0 && int64(len(data)) != b.Size) {
		return nil, fmt.Errorf("read blob %s: got %d bytes, announced %d (at most %d)", id, len(data), b.Size, max)
	}
	return data, nil
}

// StoreQuilt stores the files as one quilt through the publisher (client's
// PUT /v1/quilts, streamed), each read from disk as it is sent and checked
// again against the SHA-256 and size it was planned with.
func (n *HTTPNetwork) StoreQuilt(ctx context.Context, files []File, epochs uint32) (codec.BlobID, map[string]codec.QuiltPatchID, error) {
	qf := make([]client.QuiltFile, len(files))
	for i := range files {
		qf[i] = client.QuiltFile{Identifier: files[i].Path, Body: &plannedFile{f: &files[i]}}
	}
	res, err := n.Publisher.StoreQuilt(ctx, qf, client.StoreOptions{Epochs: epochs})
	if err != nil {
		return codec.BlobID{}, nil, err
	}
	quilt := res.BlobStoreResult.BlobID()
	out := make(map[string]codec.QuiltPatchID, len(res.StoredQuiltBlobs))
	for _, p := range res.StoredQuiltBlobs {
		out[p.Identifier] = p.QuiltPatchID
	}
	return quilt, out, nil
}

// plannedFile reads a planned file from disk, opened at the first Read
// (the form is written one file at a time), and fails at the end if the
// file is not what the plan hashed.
type plannedFile struct {
	f   *File
	r   *os.File
	h   hash.Hash
	n   int64
	err error
}

func (p *plannedFile) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.r == nil {
		if p.r, p.err = os.Open(p.f.Source); p.err != nil {
			return 0, p.err
		}
		p.h = sha256.New()
	}
	k, err := p.r.Read(b)
	p.h.Write(b[:k])
	p.n += int64(k)
	if err == io.EOF {
		p.r.Close()
		if p.n != p.f.Size || Hash(p.h.Sum(nil)) != p.f.SHA256 {
			err = fmt.Errorf("%s changed while it was being deployed; deploy again", p.f.Source)
		}
		p.err = err
	} else if err != nil {
		p.r.Close()
		p.err = fmt.Errorf("read %s: %w", p.f.Source, err)
		err = p.err
	}
	return k, err
}
