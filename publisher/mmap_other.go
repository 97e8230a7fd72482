//go:build !unix

package publisher

import (
	"fmt"
	"os"
)

// mappedBlob is a spool file's bytes, read into the heap where memory maps
// are not available.
type mappedBlob struct {
	data []byte
}

const mappedHeapCost = true

func mapBlob(path string, size int64) (*mappedBlob, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != size {
		return nil, fmt.Errorf("%w: %s holds %d bytes, the upload had %d", errSpool, path, len(b), size)
	}
	return &mappedBlob{data: b}, nil
}

func (m *mappedBlob) Bytes() []byte { return m.data }

func (m *mappedBlob) Close() error {
	m.data = nil
	return nil
}
