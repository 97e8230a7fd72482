package store

import (
	"bytes"
	"errors"
	"testing"

	"github.com/haulout/haulout/codec"
)

func TestKeys(t *testing.T) {
	id := testID(42)
	for _, sid := range []SliverID{{0, Primary}, {1, Secondary}, {999, Primary}, {65535, Secondary}} {
		k := sliverKey(id, sid)
		gotID, gotSID, err := parseSliverKey(k)
		if err != nil || gotID != id || gotSID != sid {
			t.Fatalf("parseSliverKey(sliverKey(%v)) = %v, %v, %v", sid, gotID, gotSID, err)
		}
		start, end := sliverSpan(id)
		if bytes.Compare(k, start) < 0 || bytes.Compare(k, end) >= 0 {
			t.Fatalf("sliver key %x outside its span [%x, %x)", k, start, end)
		}
		for _, other := range []codec.BlobID{testID(41), testID(43)} {
			if o := sliverKey(other, sid); bytes.Compare(o, start) >= 0 && bytes.Compare(o, end) < 0 {
				t.Fatalf("sliver key of another blob %x inside the span [%x, %x)", o, start, end)
			}
		}
	}
	// Slivers order by pair, then primary before secondary.
	if bytes.Compare(sliverKey(id, SliverID{1, Secondary}), sliverKey(id, SliverID{2, Primary})) >= 0 ||
		bytes.Compare(sliverKey(id, SliverID{256, Primary}), sliverKey(id, SliverID{256, Secondary})) >= 0 {
		t.Fatal("sliver keys out of order")
	}
	for _, kind := range []byte{kindInfo, kindMetadata} {
		got, err := parseBlobKey(blobKey(kind, id), kind)
		if err != nil || got != id {
			t.Fatalf("parseBlobKey(%c) = %v, %v", kind, got, err)
		}
	}
	var ff codec.BlobID
	for i := range ff {
		ff[i] = 0xff
	}
	if _, end := sliverSpan(ff); !bytes.Equal(end, []byte{kindSliver + 1}) {
		t.Fatalf("span end of the all-0xff blob: %x", end)
	}
	if prefixEnd([]byte{0xff, 0xff}) != nil {
		t.Fatal("prefixEnd of all-0xff is not unbounded")
	}
	bad := [][]byte{nil, {kindSliver}, append(sliverKey(id, SliverID{}), 0), blobKey(kindInfo, id)}
	bad = append(bad, sliverKey(id, SliverID{}))
	bad[len(bad)-1][sliverKeyLen-1] = 2 // axis 2
	for _, k := range bad {
		if _, _, err := parseSliverKey(k); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseSliverKey(%x): %v, want ErrCorrupt", k, err)
		}
	}
	if _, err := parseBlobKey(blobKey(kindMetadata, id), kindInfo); !errors.Is(err, ErrCorrupt) {
		t.Errorf("parseBlobKey of the wrong kind: %v", err)
	}
}

// FuzzParseKey checks that the key decoders accept exactly the keys the
// encoders make: whatever parses re-encodes to the same bytes, and that
// prefixEnd bounds every extension of its prefix.
func FuzzParseKey(f *testing.F) {
	f.Add(sliverKey(testID(1), SliverID{7, Secondary}))
	f.Add(blobKey(kindInfo, testID(2)))
	f.Add(blobKey(kindMetadata, testID(3)))
	f.Add([]byte{kindSliver, 0xff})
	f.Fuzz(func(t *testing.T, k []byte) {
		if id, sid, err := parseSliverKey(k); err == nil {
			if !bytes.Equal(sliverKey(id, sid), k) {
				t.Fatalf("sliver key %x re-encodes as %x", k, sliverKey(id, sid))
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("parseSliverKey(%x): %v", k, err)
		}
		for _, kind := range []byte{kindInfo, kindMetadata} {
			if id, err := parseBlobKey(k, kind); err == nil {
				if !bytes.Equal(blobKey(kind, id), k) {
					t.Fatalf("blob key %x re-encodes as %x", k, blobKey(kind, id))
				}
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("parseBlobKey(%x): %v", k, err)
			}
		}
		end := prefixEnd(k)
		if end == nil {
			if len(bytes.Trim(k, "\xff")) != 0 {
				t.Fatalf("prefixEnd(%x) unbounded", k)
			}
			return
		}
		for _, ext := range [][]byte{k, append(bytes.Clone(k), 0), append(bytes.Clone(k), 0xff, 0xff)} {
			if bytes.Compare(ext, end) >= 0 {
				t.Fatalf("prefixEnd(%x) = %x is not above %x", k, end, ext)
			}
		}
		if bytes.HasPrefix(end, k) {
			t.Fatalf("prefixEnd(%x) = %x has the prefix", k, end)
		}
	})
}
