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
// memory (blobs up to StreamThreshold, quilts) or in the job's sliver file
// (larger blobs, encoded from the spool file by the codec's streaming
// encoder).
//
// In memory, the codec's slivers share two arrays (all primary, all
// secondary), so no single node's slivers can be let go while any other's
// are needed. Once the blob is certified, keepOnly copies the slivers of
// the nodes still being served and lets the arrays go; drop then lets a
// node's copies go once it is served or given up on. The encode budget is
// given back as the memory held falls (settle).
type encoded struct {
	Metadata *codec.Metadata
	p        *Publisher

	mu   sync.Mutex
	mem  *codec.Encoded // until keepOnly
	kept map[sliverKey]*codec.Sliver
	// pinned counts the batches in flight that point into mem's arrays:
	// those stay alive until the last one is sent.
	pinned    int
	full      int64 // sliver bytes of mem
	keptBytes int64
	retained  int64 // sliver bytes held: full while mem lives, plus keptBytes
	held      int64 // taken from the encode budget

	file   *os.File
	layout codec.SliverLayout
	once   sync.Once
}

// sliverKey names a sliver of the blob.
type sliverKey struct {
	axis  codec.Axis
	index uint16
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
	if e.file == nil {
		return e.memBatch(refs, out)
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

// memBatch returns an in-memory batch: the codec's slivers (pinning its
// arrays until free is called) or, once trimmed, the copies kept.
func (e *encoded) memBatch(refs []sliverRef, out []nodeclient.BatchSliver) ([]nodeclient.BatchSliver, func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range refs {
		var sl *codec.Sliver
		switch {
		case e.mem != nil && r.axis == codec.Secondary:
			sl = &e.mem.Secondary[r.index]
		case e.mem != nil:
			sl = &e.mem.Primary[r.index]
		default:
			sl = e.kept[sliverKey{r.axis, r.index}]
		}
		if sl == nil {
			return nil, nil, fmt.Errorf("%s sliver %d is no longer held: its node was served already", r.axis, r.index)
		}
		out[i] = nodeclient.BatchSliver{Pair: r.pair, Sliver: sl}
	}
	if e.mem == nil {
		return out, func() {}, nil
	}
	e.pinned++
	var once sync.Once
	return out, func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.pinned > 0 { // not after close
				e.pinned--
			}
			e.settle()
		})
	}, nil
}

// keepOnly keeps in memory only the slivers of nodes (each node's list),
// copied out of the codec's arrays, which go once no batch in flight
// points into them. It does nothing for a sliver file or once trimmed.
func (e *encoded) keepOnly(nodes [][]sliverRef) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mem == nil {
		return
	}
	kept := make(map[sliverKey]*codec.Sliver)
	for _, refs := range nodes {
		// One buffer per node: drop lets it go whole.
		size := 0
		for _, r := range refs {
			size += len(e.memSliver(r).Data)
		}
		buf := make([]byte, 0, size)
		for _, r := range refs {
			k := sliverKey{r.axis, r.index}
			if kept[k] != nil {
				continue
			}
			src := e.memSliver(r)
			start := len(buf)
			buf = append(buf, src.Data...)
			c := *src
			c.Data = buf[start:len(buf):len(buf)]
			kept[k] = &c
			e.keptBytes += int64(len(c.Data))
		}
	}
	e.mem, e.kept = nil, kept
	e.settle()
}

func (e *encoded) memSliver(r sliverRef) *codec.Sliver {
	if r.axis == codec.Secondary {
		return &e.mem.Secondary[r.index]
	}
	return &e.mem.Primary[r.index]
}

// drop lets go of the kept copies of refs, a node's slivers once it is
// served or given up on. Before keepOnly it does nothing: the codec's
// arrays are shared.
func (e *encoded) drop(refs []sliverRef) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kept == nil {
		return
	}
	for _, r := range refs {
		k := sliverKey{r.axis, r.index}
		if sl, ok := e.kept[k]; ok {
			e.keptBytes -= int64(len(sl.Data))
			delete(e.kept, k)
		}
	}
	e.settle()
}

// settle recomputes the sliver memory held and gives back to the encode
// budget what it took beyond that. It is never taken again: what is held
// only falls. e.mu is held.
func (e *encoded) settle() {
	e.retained = e.keptBytes
	if e.mem != nil || e.pinned > 0 {
		e.retained += e.full
	}
	if e.held > e.retained {
		e.p.mem.release(e.held - e.retained)
		e.held = e.retained
	}
}

// retainedBytes is the sliver memory the encoding holds.
func (e *encoded) retainedBytes() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.retained
}

// close lets the slivers go: it gives the encode budget back for one in
// memory, and removes the sliver file of one in a file, once every node
// has been served or given up on (or the job stops here).
func (e *encoded) close() {
	if e.file == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.mem, e.kept, e.full, e.keptBytes, e.pinned = nil, nil, 0, 0, 0
		e.settle()
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
