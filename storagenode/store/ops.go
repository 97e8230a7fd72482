package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/haulout/haulout/codec"
)

// PutMetadata durably stores the blob's metadata (BCS bytes), replacing any.
func (s *Store) PutMetadata(ctx context.Context, id codec.BlobID, md []byte) error {
	b := s.NewBatch()
	b.PutMetadata(id, md)
	return b.Commit(ctx)
}

// GetMetadata returns a copy of the blob's metadata, or ErrNotFound.
func (s *Store) GetMetadata(ctx context.Context, id codec.BlobID) ([]byte, error) {
	return s.get(ctx, blobKey(kindMetadata, id))
}

// HasMetadata reports whether the blob's metadata is stored.
func (s *Store) HasMetadata(ctx context.Context, id codec.BlobID) (bool, error) {
	return s.has(ctx, blobKey(kindMetadata, id))
}

// PutSliver durably stores one sliver, replacing any. To store many slivers
// with one fsync, use a Batch.
func (s *Store) PutSliver(ctx context.Context, id codec.BlobID, sid SliverID, data []byte) error {
	b := s.NewBatch()
	b.PutSliver(id, sid, data)
	return b.Commit(ctx)
}

// GetSliver returns a copy of the sliver, or ErrNotFound.
func (s *Store) GetSliver(ctx context.Context, id codec.BlobID, sid SliverID) ([]byte, error) {
	if !sid.Axis.valid() {
		return nil, fmt.Errorf("%w: sliver %v", ErrInvalid, sid)
	}
	return s.get(ctx, sliverKey(id, sid))
}

// ViewSliver calls fn with the sliver's bytes as pebble holds them, without
// copying them first: write them to a response from fn. The slice is valid
// only until fn returns and must not be modified. fn's error is returned.
// ErrNotFound if there is no such sliver (fn is not called).
func (s *Store) ViewSliver(ctx context.Context, id codec.BlobID, sid SliverID, fn func(data []byte) error) error {
	if !sid.Axis.valid() {
		return fmt.Errorf("%w: sliver %v", ErrInvalid, sid)
	}
	return s.view(ctx, sliverKey(id, sid), fn)
}

// HasSliver reports whether the sliver is stored, without reading it.
func (s *Store) HasSliver(ctx context.Context, id codec.BlobID, sid SliverID) (bool, error) {
	if !sid.Axis.valid() {
		return false, fmt.Errorf("%w: sliver %v", ErrInvalid, sid)
	}
	return s.has(ctx, sliverKey(id, sid))
}

// ListSlivers returns the slivers stored for the blob, ordered by pair index
// then axis (primary first), without reading them.
func (s *Store) ListSlivers(ctx context.Context, id codec.BlobID) ([]SliverID, error) {
	leave, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	start, end := sliverSpan(id)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, fmt.Errorf("store: list slivers: %w", err)
	}
	var out []SliverID
	for ok := it.First(); ok; ok = it.Next() {
		_, sid, err := parseSliverKey(it.Key())
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, sid)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("store: list slivers: %w", err)
	}
	return out, nil
}

// PutBlobInfo durably stores the node's record of the blob, replacing any.
// The store does not interpret it.
func (s *Store) PutBlobInfo(ctx context.Context, id codec.BlobID, info []byte) error {
	b := s.NewBatch()
	b.PutBlobInfo(id, info)
	return b.Commit(ctx)
}

// GetBlobInfo returns a copy of the blob's info, or ErrNotFound.
func (s *Store) GetBlobInfo(ctx context.Context, id codec.BlobID) ([]byte, error) {
	return s.get(ctx, blobKey(kindInfo, id))
}

// listPage is how many blobs ListBlobs reads under one iterator. Short-lived
// iterators do not hold back memtables and deleted files while fn runs.
const listPage = 512

// ListBlobs calls fn for every blob that has blob info, in blob ID order,
// starting at from (inclusive; the zero ID lists all). fn may call the
// store, and may keep info. If fn returns an error, listing stops and
// ListBlobs returns it. Blobs written or deleted during the listing may or
// may not be seen; every blob present throughout is seen once.
func (s *Store) ListBlobs(ctx context.Context, from codec.BlobID, fn func(id codec.BlobID, info []byte) error) error {
	next := blobKey(kindInfo, from)
	_, end := kindSpan(kindInfo)
	for next != nil {
		var (
			ids   []codec.BlobID
			infos [][]byte
			err   error
		)
		ids, infos, next, err = s.listBlobsPage(ctx, next, end)
		if err != nil {
			return err
		}
		for i, id := range ids {
			if err := fn(id, infos[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// listBlobsPage reads up to listPage blob infos from start and returns the
// key to continue from, nil at the end.
func (s *Store) listBlobsPage(ctx context.Context, start, end []byte) ([]codec.BlobID, [][]byte, []byte, error) {
	leave, err := s.enter(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	defer leave()
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: list blobs: %w", err)
	}
	var (
		ids   []codec.BlobID
		infos [][]byte
		next  []byte
	)
	for ok := it.First(); ok; ok = it.Next() {
		if len(ids) == listPage {
			next = bytes.Clone(it.Key())
			break
		}
		id, err := parseBlobKey(it.Key(), kindInfo)
		if err != nil {
			it.Close()
			return nil, nil, nil, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, nil, nil, fmt.Errorf("store: list blobs: %w", err)
		}
		ids = append(ids, id)
		infos = append(infos, bytes.Clone(v))
	}
	if err := it.Close(); err != nil {
		return nil, nil, nil, fmt.Errorf("store: list blobs: %w", err)
	}
	return ids, infos, next, nil
}

// DeleteBlob durably deletes the blob's metadata, info and all its slivers.
// Deleting a blob that is not stored is not an error. The space is given
// back in the background as pebble compacts; see Reclaim.
func (s *Store) DeleteBlob(ctx context.Context, id codec.BlobID) error {
	b := s.NewBatch()
	b.DeleteBlob(id)
	return b.Commit(ctx)
}

// Cursor returns a copy of the named cursor, or ErrNotFound if it was never
// set.
func (s *Store) Cursor(ctx context.Context, name string) ([]byte, error) {
	if name == "" || len(name) > maxCursorName {
		return nil, fmt.Errorf("%w: cursor name of %d bytes, want 1 to %d", ErrInvalid, len(name), maxCursorName)
	}
	return s.get(ctx, cursorKey(name))
}

// SetCursor durably stores the named cursor. To move a cursor together with
// the writes it accounts for, use a Batch.
func (s *Store) SetCursor(ctx context.Context, name string, v []byte) error {
	b := s.NewBatch()
	b.SetCursor(name, v)
	return b.Commit(ctx)
}

func (s *Store) get(ctx context.Context, key []byte) ([]byte, error) {
	var out []byte
	err := s.view(ctx, key, func(v []byte) error {
		out = bytes.Clone(v)
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	return out, err
}

func (s *Store) view(ctx context.Context, key []byte, fn func([]byte) error) error {
	leave, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: get: %w", err)
	}
	defer closer.Close()
	return fn(v)
}

// has looks the key up without fetching its value, which for a large
// sliver lives in a separate blob file.
func (s *Store) has(ctx context.Context, key []byte) (bool, error) {
	leave, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer leave()
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: key, UpperBound: append(bytes.Clone(key), 0)})
	if err != nil {
		return false, fmt.Errorf("store: has: %w", err)
	}
	found := it.First()
	if err := it.Close(); err != nil {
		return false, fmt.Errorf("store: has: %w", err)
	}
	return found, nil
}
