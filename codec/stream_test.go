package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// memSliverFile is a SliverFile in memory, for tests.
type memSliverFile struct {
	mu sync.Mutex
	b  []byte
}

func (m *memSliverFile) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memSliverFile) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

// streamAndCompare encodes blob with the streaming encoder (buffer bytes of
// block buffers) and checks metadata and every sliver against Encode.
func streamAndCompare(t *testing.T, c Config, blob []byte, buffer int) *Metadata {
	t.Helper()
	want, err := c.Encode(blob)
	if err != nil {
		t.Fatal(err)
	}
	out := &memSliverFile{}
	md, err := StreamEncoder{Config: c, BufferBytes: buffer}.Encode(context.Background(), bytes.NewReader(blob), int64(len(blob)), out)
	if err != nil {
		t.Fatalf("n=%d size=%d buffer=%d: %v", c.NShards(), len(blob), buffer, err)
	}
	if md.ID != want.Metadata.ID || !bytes.Equal(md.MarshalBCS(), want.Metadata.MarshalBCS()) {
		t.Fatalf("n=%d size=%d buffer=%d: metadata differs from Encode's", c.NShards(), len(blob), buffer)
	}
	l, err := c.SliverLayout(uint64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out.b)) != l.Size() {
		t.Fatalf("sliver file holds %d bytes, layout says %d", len(out.b), l.Size())
	}
	for i := 0; i < c.NShards(); i++ {
		for _, a := range []Axis{Primary, Secondary} {
			got, err := l.ReadSliver(out, a, uint16(i), nil)
			if err != nil {
				t.Fatal(err)
			}
			w := &want.Primary[i]
			if a == Secondary {
				w = &want.Secondary[i]
			}
			if !bytes.Equal(got.MarshalBCS(), w.MarshalBCS()) {
				t.Fatalf("n=%d size=%d buffer=%d: %s sliver %d differs", c.NShards(), len(blob), buffer, a, i)
			}
		}
	}
	return md
}

// TestStreamMatchesEncode: same slivers and metadata as the in-memory
// encoder, with buffers from one row or column per block to all at once,
// on symbol sizes with and without partial 64-byte blocks.
func TestStreamMatchesEncode(t *testing.T) {
	cases := []struct{ n, size int }{
		{4, 0}, {4, 1}, {4, 5000}, {7, 100001}, {10, 3333}, {13, 70000}, {100, 1 << 20}, {100, 12345}, {334, 400000},
	}
	if !testing.Short() {
		cases = append(cases, struct{ n, size int }{1000, 5 << 20})
	}
	for _, tc := range cases {
		c, err := NewConfig(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		blob := goldenInput(tc.size, uint32(tc.n))
		for _, buffer := range []int{1, 64 << 10, 1 << 20, 1 << 30} {
			t.Run(fmt.Sprintf("n=%d/size=%d/buffer=%d", tc.n, tc.size, buffer), func(t *testing.T) {
				streamAndCompare(t, c, blob, buffer)
			})
		}
	}
}

// TestStreamGolden checks the streaming encoder against Walrus's encoder
// through the golden vectors: blob ID, metadata and the recorded slivers.
func TestStreamGolden(t *testing.T) {
	for _, ref := range loadGoldens(t) {
		if ref.Error != "" || (testing.Short() && ref.NShards == 1000 && ref.Size > 1<<20) {
			continue
		}
		t.Run(ref.Name, func(t *testing.T) {
			input := goldenCaseInput(t, &ref)
			c, err := NewConfig(ref.NShards)
			if err != nil {
				t.Fatal(err)
			}
			out := &memSliverFile{}
			md, err := StreamEncoder{Config: c, BufferBytes: 256 << 10}.Encode(context.Background(), bytes.NewReader(input), int64(len(input)), out)
			if err != nil {
				t.Fatal(err)
			}
			if md.ID.String() != ref.BlobID {
				t.Fatalf("blob ID %s, reference %s", md.ID, ref.BlobID)
			}
			if ref.MetadataBCS != nil && !bytes.Equal(md.BlobMetadata.MarshalBCS(), ref.MetadataBCS) {
				t.Errorf("metadata BCS differs")
			}
			l, _ := c.SliverLayout(uint64(len(input)))
			for _, sl := range ref.Slivers {
				p, err := l.ReadSliver(out, Primary, uint16(sl.Pair), nil)
				if err != nil {
					t.Fatal(err)
				}
				s, err := l.ReadSliver(out, Secondary, SliverIndex(uint16(sl.Pair), Secondary, c.NShards()), nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(p.MarshalBCS(), sl.Primary) || !bytes.Equal(s.MarshalBCS(), sl.Secondary) {
					t.Errorf("slivers of pair %d differ", sl.Pair)
				}
			}
		})
	}
}

// TestStreamFile encodes to a real file, as the publisher does.
func TestStreamFile(t *testing.T) {
	c, _ := NewConfig(10)
	blob := goldenInput(200000, 3)
	f, err := os.Create(filepath.Join(t.TempDir(), "slivers"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	md, err := c.EncodeStream(context.Background(), bytes.NewReader(blob), int64(len(blob)), f)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.Encode(blob)
	if md.ID != want.Metadata.ID {
		t.Fatal("blob ID differs")
	}
	l, _ := c.SliverLayout(uint64(len(blob)))
	for i := range c.NShards() {
		got, err := l.ReadSliver(f, Secondary, uint16(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Data, want.Secondary[i].Data) {
			t.Fatalf("secondary sliver %d differs", i)
		}
		if err := c.VerifySliver(&md.BlobMetadata, &got); err != nil {
			t.Fatalf("secondary sliver %d: %v", i, err)
		}
	}
}

type failingReader struct{ after int64 }

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.after {
		return 0, errDisk
	}
	clear(p)
	return len(p), nil
}

type failingWriter struct{ memSliverFile }

func (w *failingWriter) WriteAt(p []byte, off int64) (int, error) {
	if off > 1000 {
		return 0, errDisk
	}
	return w.memSliverFile.WriteAt(p, off)
}

// TestStreamErrors: read and write errors, a short blob, a cancelled
// context and a blob too large give errors, not slivers.
func TestStreamErrors(t *testing.T) {
	c, _ := NewConfig(7)
	ctx := context.Background()
	enc := StreamEncoder{Config: c, BufferBytes: 1}
	if _, err := enc.Encode(ctx, failingReader{after: 5000}, 100000, &memSliverFile{}); !errors.Is(err, errDisk) {
		t.Errorf("read error: got %v", err)
	}
	if _, err := enc.Encode(ctx, bytes.NewReader(make([]byte, 100)), 100000, &memSliverFile{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short blob: got %v", err)
	}
	if _, err := enc.Encode(ctx, bytes.NewReader(make([]byte, 100000)), 100000, &failingWriter{}); !errors.Is(err, errDisk) {
		t.Errorf("write error: got %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := enc.Encode(cctx, bytes.NewReader(make([]byte, 100000)), 100000, &memSliverFile{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, err := enc.Encode(ctx, bytes.NewReader(nil), int64(c.MaxBlobSize())+1, &memSliverFile{}); !errors.Is(err, ErrBlobTooLarge) {
		t.Errorf("too large: got %v", err)
	}
	if _, err := (StreamEncoder{}).Encode(ctx, bytes.NewReader(nil), 0, &memSliverFile{}); !errors.Is(err, ErrInvalidShardCount) {
		t.Errorf("zero config: got %v", err)
	}
}
