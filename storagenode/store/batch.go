package store

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/haulout/haulout/codec"
)

// A Batch collects writes and commits them durably together: when Commit
// returns nil every write in it is on disk (fsynced) and survives a crash.
//
// Writes apply in the order they were added. A batch whose values add up to
// at most Options.CommitBytes is one atomic commit. A larger one is split, in
// order, into several atomic commits, so a crash or a cancelled context during
// Commit may leave a prefix of the batch applied, never part of one value.
//
// A Batch keeps the slices it is given until Commit returns: do not modify
// them before. A Batch is not safe for concurrent use; after Commit it is
// empty and may be reused. Argument errors are remembered and returned by
// Commit, which then writes nothing.
type Batch struct {
	s    *Store
	ops  []batchOp
	size int64
	err  error
}

type batchOp struct {
	key, value []byte
	deleteBlob bool
	id         codec.BlobID
}

// NewBatch returns an empty batch for s.
func (s *Store) NewBatch() *Batch { return &Batch{s: s} }

// Len is the number of writes in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Size is the number of value bytes in the batch.
func (b *Batch) Size() int64 { return b.size }

func (b *Batch) set(key, value []byte, what string) {
	if b.err != nil {
		return
	}
	if len(value) > MaxValueSize {
		b.err = fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalid, what, len(value), MaxValueSize)
		return
	}
	b.ops = append(b.ops, batchOp{key: key, value: value})
	b.size += int64(len(value))
}

// PutMetadata stores the blob's metadata (BCS bytes), replacing any.
func (b *Batch) PutMetadata(id codec.BlobID, md []byte) {
	b.set(blobKey(kindMetadata, id), md, "metadata")
}

// PutSliver stores one sliver, replacing any.
func (b *Batch) PutSliver(id codec.BlobID, s SliverID, data []byte) {
	if b.err == nil && !s.Axis.valid() {
		b.err = fmt.Errorf("%w: sliver %v", ErrInvalid, s)
		return
	}
	b.set(sliverKey(id, s), data, "sliver")
}

// PutBlobInfo stores the node's record of the blob, replacing any.
func (b *Batch) PutBlobInfo(id codec.BlobID, info []byte) {
	b.set(blobKey(kindInfo, id), info, "blob info")
}

// SetCursor stores the named cursor, replacing any.
func (b *Batch) SetCursor(name string, v []byte) {
	if b.err == nil && (name == "" || len(name) > maxCursorName) {
		b.err = fmt.Errorf("%w: cursor name of %d bytes, want 1 to %d", ErrInvalid, len(name), maxCursorName)
		return
	}
	b.set(cursorKey(name), v, "cursor")
}

// DeleteBlob deletes the blob's metadata, info and every sliver. Writes to
// the blob added after it in the same batch are kept.
func (b *Batch) DeleteBlob(id codec.BlobID) {
	if b.err == nil {
		b.ops = append(b.ops, batchOp{deleteBlob: true, id: id})
	}
}

func (b *Batch) reset() {
	clear(b.ops) // drop references to the caller's values
	b.ops, b.size, b.err = b.ops[:0], 0, nil
}

// Commit writes the batch durably; see Batch for what a failure leaves.
func (b *Batch) Commit(ctx context.Context) error {
	defer b.reset()
	if b.err != nil {
		return b.err
	}
	if len(b.ops) == 0 {
		return ctx.Err()
	}
	leave, err := b.s.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()

	var deleted []codec.BlobID
	pb := b.s.db.NewBatchWithSize(b.chunkSize(0))
	defer func() { pb.Close() }()
	var chunk int64
	for i, op := range b.ops {
		if !pb.Empty() && chunk+int64(len(op.value)) > b.s.opts.CommitBytes {
			if err := commitChunk(ctx, pb); err != nil {
				return err
			}
			pb.Close()
			pb, chunk = b.s.db.NewBatchWithSize(b.chunkSize(i)), 0
		}
		if err := applyOp(pb, op); err != nil {
			return fmt.Errorf("store: batch: %w", err)
		}
		chunk += int64(len(op.value))
		if op.deleteBlob {
			deleted = append(deleted, op.id)
		}
	}
	if err := commitChunk(ctx, pb); err != nil {
		return err
	}
	for _, id := range deleted {
		b.s.reclaim.deleted(id)
	}
	return nil
}

// chunkSize estimates the bytes of the pebble batch of the commit that
// starts at op i, so that it is made at its size once: growing it by
// doubling copies every sliver in it again (a large part of a node's CPU
// when it receives slivers).
func (b *Batch) chunkSize(i int) int {
	const opOverhead = 16 // kind and varint lengths
	size, values := 12, int64(0)
	for _, op := range b.ops[i:] {
		if size > 12 && values+int64(len(op.value)) > b.s.opts.CommitBytes {
			break
		}
		values += int64(len(op.value))
		size += opOverhead + len(op.key) + len(op.value)
		if op.deleteBlob {
			size += 3 * (opOverhead + 64)
		}
	}
	return size
}

func commitChunk(ctx context.Context, pb *pebble.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := pb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func applyOp(pb *pebble.Batch, op batchOp) error {
	if !op.deleteBlob {
		return pb.Set(op.key, op.value, nil)
	}
	if err := pb.Delete(blobKey(kindInfo, op.id), nil); err != nil {
		return err
	}
	if err := pb.Delete(blobKey(kindMetadata, op.id), nil); err != nil {
		return err
	}
	start, end := sliverSpan(op.id)
	return pb.DeleteRange(start, end, nil)
}
