package codec

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"
)

// MerkleNode is a Merkle node as BCS carries it: the Empty variant (hashed
// as 32 zero bytes) or a 32-byte digest.
type MerkleNode struct {
	Empty  bool
	Digest Hash
}

// Bytes returns the 32 bytes the node stands for in hashing.
func (n MerkleNode) Bytes() Hash {
	if n.Empty {
		return Hash{}
	}
	return n.Digest
}

func digestNode(h Hash) MerkleNode { return MerkleNode{Digest: h} }

// SliverPairMetadata holds the Merkle roots of one sliver pair.
type SliverPairMetadata struct {
	Primary, Secondary MerkleNode
}

// BlobMetadata is Walrus's BlobMetadata::V1: what a storage node checks
// every sliver against.
type BlobMetadata struct {
	EncodingType    EncodingType
	UnencodedLength uint64
	Hashes          []SliverPairMetadata // one per sliver pair (= per shard)
}

// Errors of metadata checks.
var (
	ErrInvalidMetadata     = errors.New("invalid blob metadata")
	ErrBlobIDMismatch      = errors.New("metadata does not match the blob ID")
	ErrUnsupportedEncoding = errors.New("unsupported encoding type")
)

// RootHash is the Merkle root over the sliver pairs, whose leaves are
// H(0x00 || primary hash || secondary hash).
func (m *BlobMetadata) RootHash() Hash {
	h := newLeafHasher()
	leaves := make([]Hash, len(m.Hashes))
	var buf [64]byte
	for i, p := range m.Hashes {
		a, b := p.Primary.Bytes(), p.Secondary.Bytes()
		copy(buf[:32], a[:])
		copy(buf[32:], b[:])
		leaves[i] = h.leaf(buf[:])
	}
	return merkleRoot(leaves)
}

// BlobID computes the blob ID the metadata commits to:
// Blake2b-256(encoding type || unencoded length u64 LE || root hash).
func (m *BlobMetadata) BlobID() BlobID {
	var buf [1 + 8 + 32]byte
	buf[0] = byte(m.EncodingType)
	for i := 0; i < 8; i++ {
		buf[1+i] = byte(m.UnencodedLength >> (8 * i))
	}
	root := m.RootHash()
	copy(buf[9:], root[:])
	return BlobID(blake2b.Sum256(buf[:]))
}

// SliverHash returns the Merkle root of the sliver of the given axis and
// sliver index.
func (m *BlobMetadata) SliverHash(a Axis, index uint16) Hash {
	pair := int(index)
	if a == Secondary {
		pair = len(m.Hashes) - 1 - int(index)
	}
	if a == Primary {
		return m.Hashes[pair].Primary.Bytes()
	}
	return m.Hashes[pair].Secondary.Bytes()
}

// Config returns the code the metadata was made with, checking that it
// describes a blob the code can hold.
func (m *BlobMetadata) Config() (Config, error) {
	if m.EncodingType != RS2 {
		return Config{}, fmt.Errorf("%w: %v", ErrUnsupportedEncoding, m.EncodingType)
	}
	c, err := NewConfig(len(m.Hashes))
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	if _, err := c.SymbolSize(m.UnencodedLength); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	return c, nil
}

// Verify checks that the metadata is well formed and commits to id.
func (m *BlobMetadata) Verify(id BlobID) (Config, error) {
	c, err := m.Config()
	if err != nil {
		return Config{}, err
	}
	if got := m.BlobID(); got != id {
		return Config{}, fmt.Errorf("%w: metadata gives %s, want %s", ErrBlobIDMismatch, got, id)
	}
	return c, nil
}

// MarshalBCS returns the BCS form of BlobMetadata (enum variant V1 = 0).
func (m *BlobMetadata) MarshalBCS() []byte {
	out := make([]byte, 0, 16+len(m.Hashes)*66)
	return m.appendBCS(out)
}

func (m *BlobMetadata) appendBCS(out []byte) []byte {
	out = append(out, 0, byte(m.EncodingType))
	for i := 0; i < 8; i++ {
		out = append(out, byte(m.UnencodedLength>>(8*i)))
	}
	out = appendULEB(out, uint64(len(m.Hashes)))
	for _, p := range m.Hashes {
		out = appendNode(out, p.Primary)
		out = appendNode(out, p.Secondary)
	}
	return out
}

func appendNode(out []byte, n MerkleNode) []byte {
	if n.Empty {
		return append(out, 0)
	}
	out = append(out, 1)
	return append(out, n.Digest[:]...)
}

// UnmarshalMetadataBCS decodes a BCS BlobMetadata. It checks the form only;
// use Verify to check it against a blob ID.
func UnmarshalMetadataBCS(b []byte) (*BlobMetadata, error) {
	r := bcsReader{b: b}
	m, err := readMetadata(&r)
	if err != nil {
		return nil, err
	}
	return m, r.end()
}

func readMetadata(r *bcsReader) (*BlobMetadata, error) {
	variant, err := r.uleb()
	if err != nil {
		return nil, err
	}
	if variant != 0 {
		return nil, fmt.Errorf("%w: unknown BlobMetadata variant %d", ErrBCS, variant)
	}
	et, err := r.uleb()
	if err != nil {
		return nil, err
	}
	if et > 1 {
		return nil, fmt.Errorf("%w: unknown encoding type variant %d", ErrBCS, et)
	}
	m := &BlobMetadata{EncodingType: EncodingType(et)}
	if m.UnencodedLength, err = r.u64(); err != nil {
		return nil, err
	}
	n, err := r.uleb()
	if err != nil {
		return nil, err
	}
	if n > MaxShards {
		return nil, fmt.Errorf("%w: %d sliver pairs", ErrBCS, n)
	}
	// Each pair takes at least two bytes: refuse counts the input cannot hold
	// before allocating for them.
	if n*2 > len(r.b)-r.off {
		return nil, fmt.Errorf("%w: %d sliver pairs in %d bytes", ErrBCS, n, len(r.b)-r.off)
	}
	m.Hashes = make([]SliverPairMetadata, n)
	for i := range m.Hashes {
		if m.Hashes[i].Primary, err = readNode(r); err != nil {
			return nil, err
		}
		if m.Hashes[i].Secondary, err = readNode(r); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func readNode(r *bcsReader) (MerkleNode, error) {
	tag, err := r.uleb()
	if err != nil {
		return MerkleNode{}, err
	}
	switch tag {
	case 0:
		return MerkleNode{Empty: true}, nil
	case 1:
		d, err := r.bytes(32)
		if err != nil {
			return MerkleNode{}, err
		}
		return MerkleNode{Digest: Hash(d)}, nil
	}
	return MerkleNode{}, fmt.Errorf("%w: unknown MerkleNode variant %d", ErrBCS, tag)
}

// Metadata is blob metadata together with the blob ID it commits to.
type Metadata struct {
	ID BlobID
	BlobMetadata
}

// MarshalBCS returns the BCS BlobMetadataWithId: blob ID then metadata.
func (m *Metadata) MarshalBCS() []byte {
	out := make([]byte, 0, 48+len(m.Hashes)*66)
	out = append(out, m.ID[:]...)
	return m.appendBCS(out)
}

// UnmarshalMetadataWithIDBCS decodes a BCS BlobMetadataWithId. It does not
// check that the metadata commits to the ID: call Verify.
func UnmarshalMetadataWithIDBCS(b []byte) (*Metadata, error) {
	r := bcsReader{b: b}
	id, err := r.bytes(32)
	if err != nil {
		return nil, err
	}
	bm, err := readMetadata(&r)
	if err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return &Metadata{ID: BlobID(id), BlobMetadata: *bm}, nil
}
