package publisher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
)

// encoded is a job's encoding: its metadata, and its slivers either in
// memory (blobs up to StreamThreshold) or in the job's sliver file (larger
// blobs, encoded from the spool file by the codec's streaming encoder).
type encoded struct {
	Metadata *codec.Metadata
	mem      *codec.Encoded

	file   *os.File
	layout codec.SliverLayout
	p      *Publisher
	once   sync.Once
}

// sendBufs are the buffers of batches read from sliver files.
var sendBufs = sync.Pool{New: func() any { return new([]byte) }}

// sliverRef names one sliver of a node's batch.
type sliverRef struct {
	pair  uint16
	axis  codec.Axis
	index uint16
	size  int
}

// batch returns the slivers of refs ready to send, and a function to call
// once they have been sent. Slivers read from the sliver file take their
// bytes from the publisher's send budget (SendMemory) until then.
func (e *encoded) batch(ctx context.Context, refs []sliverRef) ([]nodeclient.BatchSliver, func(), error) {
	out := make([]nodeclient.BatchSliver, len(refs))
	if e.mem != nil {
		for i, r := range refs {
			sl := &e.mem.Primary[r.index]
			if r.axis == codec.Secondary {
				sl = &e.mem.Secondary[r.index]
			}
			out[i] = nodeclient.BatchSliver{Pair: r.pair, Sliver: sl}
		}
		return out, func() {}, nil
	}
	total := 0
	for _, r := range refs {
		total += r.size
	}
	held, err := e.p.sendMem.acquire(ctx, int64(total))
	if err != nil {
		return nil, nil, err
	}
	bp := sendBufs.Get().(*[]byte)
	buf := *bp
	if cap(buf) < total {
		buf = make([]byte, total)
	}
	buf = buf[:total]
	free := func() {
		*bp = buf[:0]
		sendBufs.Put(bp)
		e.p.sendMem.release(held)
	}
	off := 0
	for i, r := range refs {
		sl, err := e.layout.ReadSliver(e.file, r.axis, r.index, buf[off:off+r.size:off+r.size])
		if err != nil {
			free()
			return nil, nil, fmt.Errorf("%w: %v", errSpool, err)
		}
		out[i] = nodeclient.BatchSliver{Pair: r.pair, Sliver: &sl}
		off += r.size
	}
	return out, free, nil
}

// close removes the sliver file, once every node has been served or given
// up on (or the job stops here).
func (e *encoded) close() {
	if e.file == nil {
		return
	}
	e.once.Do(func() {
		name := e.file.Name()
		e.file.Close()
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.p.log.Warn("removing a sliver file", "file", name, "err", err)
		}
	})
}

// streams reports whether a job's blob is encoded to a sliver file.
func (p *Publisher) streams(size int64, quilt bool) bool {
	return !quilt && p.cfg.StreamThreshold >= 0 && size > p.cfg.StreamThreshold
}

// encodeToFile encodes the spool file of a job with the streaming encoder
// into the job's sliver file (rewritten from scratch), holding only the
// encoder's bounded memory from the budget while it runs.
func (t *task) encodeToFile(ctx context.Context, code codec.Config, id, spoolPath string, size int64) (*encoded, error) {
	p := t.p
	enc := codec.StreamEncoder{Config: code, BufferBytes: p.cfg.StreamBuffer}
	held, err := p.mem.acquire(ctx, enc.StreamMemory(uint64(size)))
	if err != nil {
		return nil, err
	}
	defer p.mem.release(held)
	blob, err := os.Open(spoolPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is missing", errSpool, spoolPath)
		}
		return nil, fmt.Errorf("%w: %v", errSpool, err)
	}
	defer blob.Close()
	info, err := blob.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSpool, err)
	}
	if info.Size() != size {
		return nil, fmt.Errorf("%w: %s holds %d bytes, the upload had %d", errSpool, spoolPath, info.Size(), size)
	}
	layout, err := code.SliverLayout(uint64(size))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	f, err := os.OpenFile(p.spool.sliverPath(id), os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("%w: sliver file: %v", errSpool, err)
	}
	e := &encoded{file: f, layout: layout, p: p}
	start := time.Now()
	md, err := enc.Encode(ctx, blob, size, f)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("encode: %w", err)
	}
	e.Metadata = md
	p.metrics.stepDuration.WithLabelValues("encode").Observe(time.Since(start).Seconds())
	return e, nil
}
