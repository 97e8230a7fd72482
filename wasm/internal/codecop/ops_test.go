package codecop

import (
	"errors"
	"fmt"
	"testing"

	"github.com/haulout/haulout/codec"
)

func TestParseMetadata(t *testing.T) {
	c, _ := codec.NewConfig(10)
	enc, err := c.Encode([]byte("hello world"))
	if err != nil {
		t.Fatal(err)
	}
	id := enc.Metadata.ID
	for _, form := range []struct {
		name string
		b    []byte
	}{{"with ID", enc.Metadata.MarshalBCS()}, {"without ID", enc.Metadata.BlobMetadata.MarshalBCS()}} {
		md, cfg, err := ParseMetadata(form.b, &id, 10)
		if err != nil || md.ID != id || cfg.NShards() != 10 {
			t.Fatalf("%s: %v, %v", form.name, md, err)
		}
	}
	other := codec.BlobID{1}
	forged := enc.Metadata.MarshalBCS()
	copy(forged, other[:])
	for _, tc := range []struct {
		name string
		b    []byte
		want *codec.BlobID
		n    int
		err  error
	}{
		{"garbage", []byte("junk"), nil, 0, codec.ErrBCS},
		{"forged ID", forged, nil, 0, codec.ErrBlobIDMismatch},
		{"another blob", enc.Metadata.MarshalBCS(), &other, 0, codec.ErrBlobIDMismatch},
		{"other shard count", enc.Metadata.MarshalBCS(), nil, 100, codec.ErrInvalidMetadata},
	} {
		if _, _, err := ParseMetadata(tc.b, tc.want, tc.n); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestDecodeFallsBack(t *testing.T) {
	c, _ := codec.NewConfig(10)
	data := []byte("a blob decoded from whichever slivers are valid")
	enc, err := c.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	var prim, sec []*codec.Sliver
	for i := range 10 {
		p := enc.Primary[i]
		p.Data = append([]byte(nil), p.Data...)
		if i < 8 {
			p.Data[0] ^= 1 // only 2 valid primary slivers: fewer than k1 = 4
		}
		prim = append(prim, &p)
		sec = append(sec, &enc.Secondary[i])
	}
	// The first k1 primaries are corrupt: decodeAxis must retry with all.
	if _, err := Decode(c, enc.Metadata, prim, nil, codec.ConsistencyDefault); !errors.Is(err, codec.ErrNotEnoughSlivers) {
		t.Fatalf("primaries alone: %v", err)
	}
	blob, err := Decode(c, enc.Metadata, prim, sec, codec.ConsistencyDefault)
	if err != nil || string(blob) != string(data) {
		t.Fatalf("with secondaries: %q, %v", blob, err)
	}
	if _, err := Decode(c, enc.Metadata, nil, nil, codec.ConsistencyDefault); !errors.Is(err, codec.ErrNotEnoughSlivers) {
		t.Fatalf("no slivers: %v", err)
	}
	// Enough valid primaries after two corrupt ones.
	mixed := []*codec.Sliver{prim[0], prim[1]}
	for i := 2; i < 10; i++ {
		mixed = append(mixed, &enc.Primary[i])
	}
	if blob, err := Decode(c, enc.Metadata, mixed, nil, codec.ConsistencySkip); err != nil || string(blob) != string(data) {
		t.Fatalf("valid primaries after corrupt ones: %q, %v", blob, err)
	}
}

func TestErrorCodes(t *testing.T) {
	_, errShards := codec.NewConfig(2)
	c, _ := codec.NewConfig(4)
	_, errLarge := c.SymbolSize(1 << 30)
	for _, tc := range []struct {
		err  error
		code string
	}{
		{errShards, CodeInvalidShards},
		{errLarge, CodeTooLarge},
		{&MemoryError{Op: "encode"}, CodeOutOfMemory},
		{fmt.Errorf("%w: metadata: %w", codec.ErrInvalidMetadata, errShards), CodeInvalidMetadata},
		{fmt.Errorf("x: %w", ErrFrame), CodeMalformedFrame},
		{errors.New("something else"), CodeInternal},
	} {
		if got := ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %s, want %s", tc.err, got, tc.code)
		}
		if s := Sentinel(tc.code); tc.code != CodeInternal && !errors.Is(tc.err, s) {
			t.Errorf("Sentinel(%s) = %v, which %v does not wrap", tc.code, s, tc.err)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for b, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 16 << 20: "16.0 MiB", 3 << 30: "3.0 GiB", 5 << 40: "5.0 TiB"} {
		if got := FormatBytes(b); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", b, got, want)
		}
	}
}
