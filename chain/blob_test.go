package chain

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/haulout/haulout/codec"
)

// Vectors from contracts/walrus/sources/system/redstuff.move.
func TestEncodedBlobLength(t *testing.T) {
	tests := []struct {
		size    uint64
		nShards uint16
		want    uint64
	}{
		{1, 10, 10 * (2*(4+7) + 10*2*32 + 32)},
		{0, 10, 10 * (2*(4+7) + 10*2*32 + 32)},
		{1, 1000, 1000 * (2*(334+667) + 1000*2*32 + 32)},
		{(4 * 7) * 100, 10, 10 * ((4+7)*100 + 10*2*32 + 32)},
		{(334 * 667) * 100, 1000, 1000 * ((334+667)*100 + 1000*2*32 + 32)},
	}
	for _, tt := range tests {
		got, err := EncodedBlobLength(tt.size, tt.nShards)
		if err != nil || got != tt.want {
			t.Errorf("EncodedBlobLength(%d, %d) = %d, %v; want %d", tt.size, tt.nShards, got, err, tt.want)
		}
	}
	// The largest blob for 4 shards has 2*3 source symbols of 65534 bytes.
	if MaxBlobSize(4) != 393204 {
		t.Fatalf("MaxBlobSize(4) = %d", MaxBlobSize(4))
	}
	if _, err := EncodedBlobLength(393204, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := EncodedBlobLength(393205, 4); !errors.Is(err, ErrInvalidSize) {
		t.Fatalf("too large: %v", err)
	}
}

// Vectors from Walrus's own encoder (codec/testdata/golden/vectors.json).
func TestDeriveBlobID(t *testing.T) {
	tests := []struct {
		size   uint64
		root   string
		blobID string
	}{
		{0, "669f802f68a03496fb92340718031ee1cf14cbe78a9ebd7d065f2e72b1e3bc1d", "CmzciFdWJP1IIM-rD3cqXlVBXYM0fpAfHahZBvkaZUI"},
		{12, "d4d805760e774c8a3b9c02b98664673127ef700562f32a4521a853caf98c0688", "3oOygaoEvR-2uyUc7JTezP0udlJliFyZqaqCNfzR-JY"},
		{393204, "614e894470791a976c41741eabcc887b59774f7b8bc067d59a5f30d4081fc775", "SJ4efn35bT0akU5RR_dZ7n64c8EMMlOzOYWtj9rHQck"},
	}
	for _, tt := range tests {
		var root Hash
		b, _ := hex.DecodeString(tt.root)
		copy(root[:], b)
		want, err := codec.ParseBlobID(tt.blobID)
		if err != nil {
			t.Fatal(err)
		}
		if got := DeriveBlobID(root, EncodingRS2, tt.size); got != want {
			t.Errorf("size %d: blob ID %s, want %s", tt.size, got, want)
		}
	}
}
