//go:build unix

package publisher

import (
	"fmt"
	"os"
	"syscall"
)

// mappedBlob is a spool file's bytes, mapped read-only: the blob lives in
// the page cache, not in the heap, and the kernel may drop its pages under
// pressure and read them again.
type mappedBlob struct {
	data []byte
}

// heapCost is what a mapped blob adds to the heap: nothing.
const mappedHeapCost = false

func mapBlob(path string, size int64) (*mappedBlob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() != size {
		return nil, fmt.Errorf("%w: %s holds %d bytes, the upload had %d", errSpool, path, info.Size(), size)
	}
	if size == 0 {
		return &mappedBlob{data: []byte{}}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%w: %d bytes do not fit in memory", errSpool, size)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	return &mappedBlob{data: b}, nil
}

func (m *mappedBlob) Bytes() []byte { return m.data }

// Close unmaps the blob; its bytes must not be used afterwards.
func (m *mappedBlob) Close() error {
	if len(m.data) == 0 {
		return nil
	}
	err := syscall.Munmap(m.data)
	m.data = nil
	return err
}
