package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/haulout/haulout/codec"
)

func testOptions() Options { return Options{Logger: slog.New(slog.DiscardHandler)} }

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testID(n uint64) codec.BlobID {
	var id codec.BlobID
	binary.BigEndian.PutUint64(id[:8], n)
	binary.BigEndian.PutUint64(id[24:], ^n)
	return id
}

// sliverBytes is deterministic in (blob, sliver, size), so that any reader
// can tell a right value from a wrong or torn one.
func sliverBytes(id codec.BlobID, sid SliverID, size int) []byte {
	v := make([]byte, size)
	seed := binary.BigEndian.Uint64(id[:8])*131071 + uint64(sid.Pair)*2 + uint64(sid.Axis)
	fillValue(v, seed)
	for i := 0; i < size%8; i++ { // fillValue leaves a tail shorter than 8
		v[size-1-i] = byte(seed >> (8 * i))
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	sizes := []int{0, 1, 100, separateValuesFrom - 1, separateValuesFrom, 64 << 10, 1 << 20, 3<<20 + 5}
	id, other := testID(1), testID(2)

	md := sliverBytes(id, SliverID{Pair: 9999}, 64012)
	if err := s.PutMetadata(ctx, id, md); err != nil {
		t.Fatal(err)
	}
	if err := s.PutBlobInfo(ctx, id, []byte("registered")); err != nil {
		t.Fatal(err)
	}
	var want []SliverID
	for i, size := range sizes {
		for _, axis := range []Axis{Primary, Secondary} {
			sid := SliverID{Pair: uint16(i * 3), Axis: axis}
			if err := s.PutSliver(ctx, id, sid, sliverBytes(id, sid, size)); err != nil {
				t.Fatalf("put %v (%d bytes): %v", sid, size, err)
			}
			want = append(want, sid)
		}
	}

	check := func(t *testing.T, s *Store) {
		got, err := s.GetMetadata(ctx, id)
		if err != nil || !bytes.Equal(got, md) {
			t.Fatalf("GetMetadata: %d bytes, %v", len(got), err)
		}
		if ok, err := s.HasMetadata(ctx, id); !ok || err != nil {
			t.Fatalf("HasMetadata = %v, %v", ok, err)
		}
		if ok, err := s.HasMetadata(ctx, other); ok || err != nil {
			t.Fatalf("HasMetadata(other) = %v, %v", ok, err)
		}
		if _, err := s.GetMetadata(ctx, other); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetMetadata(other): %v, want ErrNotFound", err)
		}
		info, err := s.GetBlobInfo(ctx, id)
		if err != nil || string(info) != "registered" {
			t.Fatalf("GetBlobInfo = %q, %v", info, err)
		}
		for i, size := range sizes {
			for _, axis := range []Axis{Primary, Secondary} {
				sid := SliverID{Pair: uint16(i * 3), Axis: axis}
				wantV := sliverBytes(id, sid, size)
				got, err := s.GetSliver(ctx, id, sid)
				if err != nil || !bytes.Equal(got, wantV) {
					t.Fatalf("GetSliver %v: %d bytes, %v; want %d bytes", sid, len(got), err, size)
				}
				if got == nil {
					t.Fatalf("GetSliver %v: nil for a stored empty sliver", sid)
				}
				err = s.ViewSliver(ctx, id, sid, func(v []byte) error {
					if !bytes.Equal(v, wantV) {
						return fmt.Errorf("view %v: %d bytes, want %d", sid, len(v), size)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := s.HasSliver(ctx, id, sid); !ok || err != nil {
					t.Fatalf("HasSliver %v = %v, %v", sid, ok, err)
				}
			}
		}
		missing := SliverID{Pair: 1, Axis: Primary}
		if _, err := s.GetSliver(ctx, id, missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetSliver(missing): %v", err)
		}
		if ok, err := s.HasSliver(ctx, id, missing); ok || err != nil {
			t.Fatalf("HasSliver(missing) = %v, %v", ok, err)
		}
		called := false
		err = s.ViewSliver(ctx, id, missing, func([]byte) error { called = true; return nil })
		if !errors.Is(err, ErrNotFound) || called {
			t.Fatalf("ViewSliver(missing): %v, called %v", err, called)
		}
		list, err := s.ListSlivers(ctx, id)
		if err != nil || fmt.Sprint(list) != fmt.Sprint(want) {
			t.Fatalf("ListSlivers = %v, %v; want %v", list, err, want)
		}
		if list, err := s.ListSlivers(ctx, other); err != nil || len(list) != 0 {
			t.Fatalf("ListSlivers(other) = %v, %v", list, err)
		}
	}
	check(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(t, openTest(t, dir, testOptions()))
}

func TestViewSliverError(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), testOptions())
	id, sid := testID(1), SliverID{Pair: 3, Axis: Secondary}
	if err := s.PutSliver(ctx, id, sid, []byte("x")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.ViewSliver(ctx, id, sid, func([]byte) error { return boom }); err != boom {
		t.Fatalf("ViewSliver returned %v, want fn's error", err)
	}
}

func TestOverwrite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), testOptions())
	id, sid := testID(1), SliverID{Pair: 0, Axis: Primary}
	for _, v := range [][]byte{bytes.Repeat([]byte{1}, 1<<20), []byte("short"), bytes.Repeat([]byte{2}, 8<<10)} {
		if err := s.PutSliver(ctx, id, sid, v); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSliver(ctx, id, sid)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("after overwrite: %d bytes, %v; want %d", len(got), err, len(v))
		}
	}
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.CommitBytes = 100 << 10 // force several commits per batch
	s := openTest(t, t.TempDir(), opts)
	id := testID(7)

	b := s.NewBatch()
	b.PutMetadata(id, []byte("md"))
	b.PutBlobInfo(id, []byte("info"))
	const n = 40
	for p := range n {
		for _, axis := range []Axis{Primary, Secondary} {
			sid := SliverID{Pair: uint16(p), Axis: axis}
			b.PutSliver(id, sid, sliverBytes(id, sid, 30<<10))
		}
	}
	b.SetCursor("events", []byte("cursor-1"))
	if b.Len() != 2*n+3 || b.Size() != 2*n*(30<<10)+2+4+8 {
		t.Fatalf("Len, Size = %d, %d", b.Len(), b.Size())
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 0 || b.Size() != 0 {
		t.Fatalf("after Commit: Len, Size = %d, %d; want 0, 0", b.Len(), b.Size())
	}
	list, err := s.ListSlivers(ctx, id)
	if err != nil || len(list) != 2*n {
		t.Fatalf("ListSlivers: %d, %v", len(list), err)
	}
	if c, err := s.Cursor(ctx, "events"); err != nil || string(c) != "cursor-1" {
		t.Fatalf("Cursor = %q, %v", c, err)
	}

	// Reuse the batch: deletion then a new write to the same blob, in order.
	b.DeleteBlob(id)
	b.PutSliver(id, SliverID{Pair: 5, Axis: Secondary}, []byte("again"))
	b.SetCursor("events", []byte("cursor-2"))
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	list, err = s.ListSlivers(ctx, id)
	if err != nil || fmt.Sprint(list) != "[5/secondary]" {
		t.Fatalf("after delete and put: ListSlivers = %v, %v", list, err)
	}
	if _, err := s.GetMetadata(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("metadata after DeleteBlob: %v", err)
	}
	if _, err := s.GetBlobInfo(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("info after DeleteBlob: %v", err)
	}
	if c, err := s.Cursor(ctx, "events"); err != nil || string(c) != "cursor-2" {
		t.Fatalf("Cursor = %q, %v", c, err)
	}

	// An empty batch commits nothing and succeeds.
	if err := s.NewBatch().Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBatchCancelled(t *testing.T) {
	s := openTest(t, t.TempDir(), testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := s.NewBatch()
	b.PutBlobInfo(testID(1), []byte("x"))
	if err := b.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with cancelled context: %v", err)
	}
	if _, err := s.GetBlobInfo(context.Background(), testID(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelled batch was written: %v", err)
	}
	if _, err := s.GetBlobInfo(ctx, testID(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetBlobInfo with cancelled context: %v", err)
	}
}

func TestInvalid(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), testOptions())
	id := testID(1)
	bad := SliverID{Pair: 1, Axis: 2}
	tests := []struct {
		name string
		run  func() error
	}{
		{"put axis", func() error { return s.PutSliver(ctx, id, bad, []byte("x")) }},
		{"get axis", func() error { _, err := s.GetSliver(ctx, id, bad); return err }},
		{"has axis", func() error { _, err := s.HasSliver(ctx, id, bad); return err }},
		{"view axis", func() error { return s.ViewSliver(ctx, id, bad, func([]byte) error { return nil }) }},
		{"oversized", func() error { return s.PutBlobInfo(ctx, id, make([]byte, MaxValueSize+1)) }},
		{"empty cursor name", func() error { return s.SetCursor(ctx, "", nil) }},
		{"long cursor name", func() error { return s.SetCursor(ctx, string(make([]byte, 256)), nil) }},
		{"get empty cursor name", func() error { _, err := s.Cursor(ctx, ""); return err }},
		{"batch with one bad write", func() error {
			b := s.NewBatch()
			b.PutBlobInfo(id, []byte("good"))
			b.PutSliver(id, bad, []byte("x"))
			return b.Commit(ctx)
		}},
	}
	for _, tt := range tests {
		if err := tt.run(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
	if _, err := s.GetBlobInfo(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a batch with an invalid write wrote: %v", err)
	}
}

func TestListBlobs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), testOptions())
	const n = 2*listPage + 37
	b := s.NewBatch()
	for i := range n {
		b.PutBlobInfo(testID(uint64(i)), fmt.Appendf(nil, "info-%d", i))
		b.PutMetadata(testID(uint64(i)), []byte("md")) // not listed
	}
	b.PutMetadata(testID(n+1), []byte("metadata only")) // no info: not listed
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var got []codec.BlobID
	err := s.ListBlobs(ctx, codec.BlobID{}, func(id codec.BlobID, info []byte) error {
		i := binary.BigEndian.Uint64(id[:8])
		if string(info) != fmt.Sprintf("info-%d", i) {
			return fmt.Errorf("blob %d: info %q", i, info)
		}
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("listed %d blobs, want %d", len(got), n)
	}
	for i := range got {
		if got[i] != testID(uint64(i)) {
			t.Fatalf("blob %d is %v, want %v (ID order)", i, got[i], testID(uint64(i)))
		}
	}

	// From a given ID, and stopping early with fn's error.
	stop := errors.New("stop")
	var from []codec.BlobID
	err = s.ListBlobs(ctx, testID(700), func(id codec.BlobID, _ []byte) error {
		from = append(from, id)
		if len(from) == 3 {
			return stop
		}
		return nil
	})
	if err != stop || fmt.Sprint(from) != fmt.Sprint([]codec.BlobID{testID(700), testID(701), testID(702)}) {
		t.Fatalf("ListBlobs from 700 = %v, %v", from, err)
	}

	// fn may change the store: delete every blob while listing.
	err = s.ListBlobs(ctx, codec.BlobID{}, func(id codec.BlobID, _ []byte) error {
		return s.DeleteBlob(ctx, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ListBlobs(ctx, codec.BlobID{}, func(id codec.BlobID, _ []byte) error {
		return fmt.Errorf("blob %v still listed", id)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCursor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	if _, err := s.Cursor(ctx, "ledger"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset cursor: %v", err)
	}
	for _, v := range []string{"", "tx1:0", "tx2:17"} {
		if err := s.SetCursor(ctx, "ledger", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Cursor(ctx, "ledger")
		if err != nil || string(got) != v || got == nil {
			t.Fatalf("Cursor = %q (nil %v), %v; want %q", got, got == nil, err, v)
		}
	}
	if err := s.SetCursor(ctx, "other", []byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir, testOptions())
	if got, err := s.Cursor(ctx, "ledger"); err != nil || string(got) != "tx2:17" {
		t.Fatalf("after reopen: Cursor = %q, %v", got, err)
	}
}

// fillBlobs stores blobs [first, first+n) with perBlob slivers of size bytes.
func fillBlobs(t testing.TB, s *Store, first, n, perBlob, size int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		id := testID(uint64(i))
		b := s.NewBatch()
		b.PutBlobInfo(id, []byte("certified"))
		b.PutMetadata(id, sliverBytes(id, SliverID{Pair: 65535}, 16<<10))
		for p := range perBlob {
			sid := SliverID{Pair: uint16(p / 2), Axis: Axis(p % 2)}
			b.PutSliver(id, sid, sliverBytes(id, sid, size))
		}
		if err := b.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeleteBlobReclaims(t *testing.T) {
	ctx := context.Background()
	const blobs, perBlob, size = 32, 8, 512 << 10 // 128 MiB of slivers
	const live = blobs / 4 * perBlob * size

	for _, mode := range []string{"Reclaim", "background"} {
		t.Run(mode, func(t *testing.T) {
			opts := testOptions()
			opts.ReclaimDelay = 50 * time.Millisecond
			s := openTest(t, t.TempDir(), opts)
			fillBlobs(t, s, 0, blobs, perBlob, size)
			before, err := s.Usage()
			if err != nil {
				t.Fatal(err)
			}
			if before.BlobFileBytes < blobs*perBlob*size {
				// Recently written slivers may still be in the memtable and WAL.
				if err := s.db.Flush(); err != nil {
					t.Fatal(err)
				}
				before, _ = s.Usage()
			}
			for i := range blobs {
				if i%4 != 0 {
					if err := s.DeleteBlob(ctx, testID(uint64(i))); err != nil {
						t.Fatal(err)
					}
				}
			}
			if mode == "Reclaim" {
				if err := s.Reclaim(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var after Usage
			deadline := time.Now().Add(30 * time.Second)
			for {
				after, err = s.Usage()
				if err != nil {
					t.Fatal(err)
				}
				if after.BlobFileBytes < live+live/2 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("blob files %d MiB -> %d MiB (live %d MiB, garbage awaiting rewrite %d MiB); disk %d MiB -> %d MiB, of which WAL %d MiB",
				before.BlobFileBytes>>20, after.BlobFileBytes>>20, live>>20, after.GarbageBytes>>20,
				before.DiskBytes>>20, after.DiskBytes>>20, after.WALBytes>>20)
			// Blob files shared by a deleted and a live blob wait for a
			// rewrite (RewriteMinimumAge); the rest must be gone.
			if after.BlobFileBytes >= live+live/2 {
				t.Fatalf("blob files hold %d MiB after deleting all but %d MiB", after.BlobFileBytes>>20, live>>20)
			}
			if after.DiskBytes >= before.DiskBytes-(blobs*perBlob*size-live)/2 {
				t.Fatalf("disk usage %d MiB -> %d MiB: deleted space not given back", before.DiskBytes>>20, after.DiskBytes>>20)
			}
			// The survivors are intact and the deleted are gone.
			for i := range blobs {
				id := testID(uint64(i))
				list, err := s.ListSlivers(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if i%4 != 0 {
					if len(list) != 0 {
						t.Fatalf("deleted blob %d still has %d slivers", i, len(list))
					}
					continue
				}
				if len(list) != perBlob {
					t.Fatalf("blob %d has %d slivers, want %d", i, len(list), perBlob)
				}
				got, err := s.GetSliver(ctx, id, list[3])
				if err != nil || !bytes.Equal(got, sliverBytes(id, list[3], size)) {
					t.Fatalf("blob %d sliver %v: %v", i, list[3], err)
				}
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	opts := testOptions()
	opts.ReclaimDelay = 20 * time.Millisecond
	opts.CommitBytes = 64 << 10
	s := openTest(t, t.TempDir(), opts)
	const writers, perWriter, perBlob = 3, 30, 6
	sizes := []int{10, 5000, 70 << 10}

	// done[i] is closed once blob i is committed; readers only check those.
	total := writers * perWriter
	done := make([]chan struct{}, total)
	for i := range done {
		done[i] = make(chan struct{})
	}
	size := func(i int) int { return sizes[i%len(sizes)] }

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWriter {
				i := w*perWriter + j
				id := testID(uint64(i))
				b := s.NewBatch()
				b.PutBlobInfo(id, []byte{byte(i)})
				for p := range perBlob {
					sid := SliverID{Pair: uint16(p), Axis: Axis(p % 2)}
					b.PutSliver(id, sid, sliverBytes(id, sid, size(i)))
				}
				if err := b.Commit(ctx); err != nil {
					errs <- err
					return
				}
				close(done[i])
				if i%5 == 4 { // delete some blobs again, concurrently with readers
					if err := s.DeleteBlob(ctx, testID(uint64(i-2))); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	stopReaders := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-stopReaders:
					return
				default:
				}
				i := rng.IntN(total)
				select {
				case <-done[i]:
				default:
					continue
				}
				id := testID(uint64(i))
				sid := SliverID{Pair: uint16(rng.IntN(perBlob))}
				sid.Axis = Axis(sid.Pair % 2)
				err := s.ViewSliver(ctx, id, sid, func(v []byte) error {
					if !bytes.Equal(v, sliverBytes(id, sid, size(i))) {
						return fmt.Errorf("blob %d sliver %v: wrong bytes", i, sid)
					}
					return nil
				})
				if err != nil && !errors.Is(err, ErrNotFound) { // not found: deleted meanwhile
					errs <- err
					return
				}
				if _, err := s.ListSlivers(ctx, id); err != nil {
					errs <- err
					return
				}
				if r == 0 {
					err := s.ListBlobs(ctx, codec.BlobID{}, func(codec.BlobID, []byte) error { return nil })
					if err != nil {
						errs <- err
						return
					}
					if _, err := s.Usage(); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stopReaders)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := s.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	// Every blob not deleted is complete.
	for i := range total {
		deleted := i%5 == 2 && i+2 < total && (i+2)%perWriter >= 2
		list, err := s.ListSlivers(ctx, testID(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: perBlob, true: 0}[deleted]; len(list) != want {
			t.Errorf("blob %d: %d slivers, want %d", i, len(list), want)
		}
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	id, sid := testID(1), SliverID{Pair: 1}
	if err := s.PutSliver(ctx, id, sid, []byte("v")); err != nil {
		t.Fatal(err)
	}

	// A call made from a callback while Close waits gets ErrClosed, and
	// Close waits for the outer call.
	entered, closing := make(chan struct{}), make(chan error)
	var inner error
	go func() {
		<-entered
		closing <- s.Close()
	}()
	err = s.ViewSliver(ctx, id, sid, func([]byte) error {
		close(entered)
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, inner = s.GetSliver(ctx, id, sid)
			if inner != nil || time.Now().After(deadline) {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(inner, ErrClosed) {
		t.Fatalf("call during Close: %v, want ErrClosed", inner)
	}
	if err := <-closing; err != nil {
		t.Fatal(err)
	}

	calls := map[string]func() error{
		"PutSliver":  func() error { return s.PutSliver(ctx, id, sid, nil) },
		"GetSliver":  func() error { _, err := s.GetSliver(ctx, id, sid); return err },
		"HasSliver":  func() error { _, err := s.HasSliver(ctx, id, sid); return err },
		"ListBlobs":  func() error { return s.ListBlobs(ctx, id, func(codec.BlobID, []byte) error { return nil }) },
		"DeleteBlob": func() error { return s.DeleteBlob(ctx, id) },
		"Reclaim":    func() error { return s.Reclaim(ctx) },
		"Usage":      func() error { _, err := s.Usage(); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, testOptions())
	if s, err := Open(context.Background(), dir, testOptions()); err == nil {
		s.Close()
		t.Fatal("a second Open of an open store succeeded")
	}
}

func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	s.Close()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(versionKey, []byte{formatVersion + 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(context.Background(), dir, testOptions()); !errors.Is(err, ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a newer format: %v, want ErrCorrupt", err)
	}
}

// TestLargeValue stores a sliver larger than the memtable and than
// CommitBytes, which pebble commits as a batch of its own.
func TestLargeValue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), testOptions())
	id, sid := testID(1), SliverID{Pair: 2, Axis: Secondary}
	v := bytes.Repeat([]byte("0123456789abcdef"), 44<<20/16)
	if err := s.PutSliver(ctx, id, sid, v); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSliver(ctx, id, sid)
	if err != nil || !bytes.Equal(got, v) {
		t.Fatalf("GetSliver: %d bytes, %v", len(got), err)
	}
}
