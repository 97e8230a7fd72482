package nodeclient

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/haulout/haulout/codec"
)

func TestRecoverySymbolsBCS(t *testing.T) {
	var digest codec.Hash
	for i := range digest {
		digest[i] = byte(i)
	}
	syms := []codec.RecoverySymbol{
		{Target: codec.Primary, TargetIndex: 0x0102, Source: 0x0304, Data: []byte{0xaa, 0xbb}, Proof: codec.MerkleProof{digest, {}}},
		{Target: codec.Secondary, TargetIndex: 7, Source: 9, Data: []byte{}, Proof: nil},
	}
	// Walrus's Vec<GeneralRecoverySymbol>, byte by byte.
	want := []byte{2,
		0x00, 0x04, 0x03, 2, 0xaa, 0xbb, 0x02, 0x01, 2, 1}
	want = append(want, digest[:]...)
	want = append(want, 0, // the Empty node
		0x01, 9, 0, 0, 7, 0, 0)
	got := MarshalRecoverySymbols(syms)
	if !bytes.Equal(got, want) {
		t.Fatalf("BCS\n got %x\nwant %x", got, want)
	}
	back, err := UnmarshalRecoverySymbols(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].TargetIndex != 0x0102 || back[0].Source != 0x0304 || back[0].Proof[0] != digest ||
		back[0].Proof[1] != (codec.Hash{}) || back[1].Target != codec.Secondary || len(back[1].Proof) != 0 {
		t.Fatalf("round trip: %+v", back)
	}
	for _, bad := range [][]byte{
		nil,
		{1},
		{1, 2, 0, 0, 0, 0, 0, 0},        // axis variant 2
		{1, 0, 0, 0, 0, 0, 0, 1, 2},     // proof node variant 2
		append(bytes.Clone(want), 0),    // trailing byte
		{0x80, 0x80, 0x80, 0x80, 0x08},  // count too large
		{200, 0, 0, 0, 0, 0, 0, 0, 0},   // more symbols than bytes
		{1, 0, 0, 0, 0x81, 0, 0, 0, 0},  // non-canonical length
		{1, 0, 0, 0, 5, 1, 2, 0, 0, 33}, // proof too long
	} {
		if _, err := UnmarshalRecoverySymbols(bad); !errors.Is(err, ErrMalformed) || !errors.Is(err, codec.ErrBCS) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

func TestSymbolID(t *testing.T) {
	id, err := ParseSymbolID("12-345")
	if err != nil || id != (SymbolID{12, 345}) || id.String() != "12-345" {
		t.Fatalf("%v %v", id, err)
	}
	for _, bad := range []string{"", "1", "1-", "-1", "1-2-3", "65536-1", "a-b"} {
		if _, err := ParseSymbolID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func testBatch() []BatchSliver {
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	return []BatchSliver{
		{Pair: 3, Sliver: &codec.Sliver{Axis: codec.Primary, Index: 3, SymbolSize: 4, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}},
		{Pair: 3, Sliver: &codec.Sliver{Axis: codec.Secondary, Index: 6, SymbolSize: 2, Data: []byte{9, 10}}},
		{Pair: 500, Sliver: &codec.Sliver{Axis: codec.Primary, Index: 500, SymbolSize: 1000, Data: big}},
	}
}

func TestBatchFraming(t *testing.T) {
	slivers := testBatch()
	body := AppendBatch(nil, slivers)
	if int64(len(body)) != BatchSize(slivers) {
		t.Fatalf("BatchSize %d, body %d bytes", BatchSize(slivers), len(body))
	}
	// Each entry is pair, axis and the sliver's own BCS.
	wantHead := append([]byte{3, 3, 0, 0}, slivers[0].Sliver.MarshalBCS()...)
	if !bytes.Equal(body[:len(wantHead)], wantHead) {
		t.Fatalf("first entry %x, want %x", body[:len(wantHead)], wantHead)
	}
	// The streamed form is the same bytes.
	streamed, err := io.ReadAll(newPiecesReader(batchPieces(slivers)))
	if err != nil || !bytes.Equal(streamed, body) {
		t.Fatalf("streamed body differs: %v", err)
	}
	var buf bytes.Buffer
	if _, err := newPiecesReader(batchPieces(slivers)).WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("WriteTo differs: %v", err)
	}
	if empty := AppendBatch(nil, nil); !bytes.Equal(empty, []byte{0}) {
		t.Fatalf("empty batch %x", empty)
	}

	// Read back, one byte at a time as from a slow network.
	br := NewBatchReader(iotest.OneByteReader(bytes.NewReader(body)), BatchLimits{MaxSlivers: 3, MaxSliverBytes: 300_000})
	if n, err := br.Len(); n != 3 || err != nil {
		t.Fatalf("Len %d, %v", n, err)
	}
	for i, want := range slivers {
		got, err := br.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got.Pair != want.Pair || got.Sliver.Axis != want.Sliver.Axis || got.Sliver.Index != want.Sliver.Index ||
			got.Sliver.SymbolSize != want.Sliver.SymbolSize || !bytes.Equal(got.Sliver.Data, want.Sliver.Data) {
			t.Fatalf("entry %d differs", i)
		}
		if !bytes.Equal(br.LastBCS(), want.Sliver.MarshalBCS()) {
			t.Fatalf("entry %d: LastBCS is not the sliver's BCS", i)
		}
	}
	if _, err := br.Next(); err != io.EOF {
		t.Fatalf("after the last: %v", err)
	}

	for _, tc := range []struct {
		name   string
		body   []byte
		limits BatchLimits
		want   error
	}{
		{"too many", body, BatchLimits{MaxSlivers: 2, MaxSliverBytes: 1 << 20}, ErrBatchLimit},
		{"too large", body, BatchLimits{MaxSlivers: 3, MaxSliverBytes: 1000}, ErrBatchLimit},
		{"truncated", body[:len(body)-1], BatchLimits{MaxSlivers: 3, MaxSliverBytes: 1 << 20}, ErrMalformed},
		{"trailing", append(bytes.Clone(body), 0), BatchLimits{MaxSlivers: 3, MaxSliverBytes: 1 << 20}, ErrMalformed},
		{"bad axis", []byte{1, 0, 0, 2, 0, 1, 0, 0, 0}, BatchLimits{MaxSlivers: 3, MaxSliverBytes: 10}, ErrMalformed},
		{"zero symbol size", []byte{1, 0, 0, 0, 2, 1, 2, 0, 0, 0, 0}, BatchLimits{MaxSlivers: 3, MaxSliverBytes: 10}, ErrMalformed},
		{"empty", nil, BatchLimits{MaxSlivers: 3, MaxSliverBytes: 10}, ErrMalformed},
	} {
		br := NewBatchReader(bytes.NewReader(tc.body), tc.limits)
		var err error
		for err == nil {
			_, err = br.Next()
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if _, again := br.Next(); again != err {
			t.Errorf("%s: Next after an error gave %v", tc.name, again)
		}
	}
}
