package codec

import "errors"

// Merkle trees as Walrus builds them: Blake2b-256, leaves H(0x00 || data),
// inner nodes H(0x01 || left || right), an odd level padded with the empty
// node (32 zero bytes), and the empty node as the root of no leaves.

// Hash is a 32-byte Blake2b-256 digest or Merkle node.
type Hash [32]byte

// emptyNode is the Merkle node "Empty": 32 zero bytes.
var emptyNode Hash

// leafHasher hashes leaves: one at a time with leaf, or in batches with
// add and flush, which take the four-way path for leaves of one block.
type leafHasher struct {
	batch hasher4
	dst   [4]*Hash
	n     int
	// Leaves longer than a block, four at a time, all of length longLen,
	// lane i at long[i*longStride:].
	long       []byte
	longLen    int
	longStride int
	longDst    [4]*Hash
	longN      int
}

func newLeafHasher() *leafHasher { return &leafHasher{} }

func (l *leafHasher) leaf(data []byte) Hash { return hashPrefixed(0, data) }

// add schedules *dst = H(0x00 || data); the result is there after flush.
// data is copied, so the caller may reuse it at once.
func (l *leafHasher) add(dst *Hash, data []byte) {
	if 1+len(data) > blake2bBlock {
		l.addLong(dst, data)
		return
	}
	lane := l.n
	l.batch.setLen(lane, 1+len(data))
	l.batch.blocks[lane][0] = 0
	copy(l.batch.blocks[lane][1:], data)
	l.dst[lane] = dst
	if l.n++; l.n == 4 {
		l.flush()
	}
}

// addLong batches a leaf of more than one block.
func (l *leafHasher) addLong(dst *Hash, data []byte) {
	if !hash4Fast {
		*dst = l.leaf(data)
		return
	}
	n := 1 + len(data)
	if n != l.longLen {
		l.flushLong()
		l.longLen, l.longStride = n, roundUp(n, blake2bBlock)
		if cap(l.long) < 4*l.longStride {
			l.long = make([]byte, 4*l.longStride)
		}
		l.long = l.long[:4*l.longStride]
		clear(l.long) // the padding after each message must be zero
	}
	lane := l.long[l.longN*l.longStride:]
	lane[0] = 0
	copy(lane[1:n], data)
	l.longDst[l.longN] = dst
	if l.longN++; l.longN == 4 {
		l.flushLong()
	}
}

func (l *leafHasher) flushLong() {
	if l.longN == 0 {
		return
	}
	var out [4]Hash
	hash4Multi(l.long, l.longStride, l.longLen, &out)
	for i := 0; i < l.longN; i++ {
		*l.longDst[i] = out[i]
	}
	l.longN = 0
}

// flush completes every scheduled leaf.
func (l *leafHasher) flush() {
	l.flushLong()
	if l.n == 0 {
		return
	}
	l.batch.run(l.n)
	for i := 0; i < l.n; i++ {
		*l.dst[i] = l.batch.out[i]
	}
	l.n = 0
}

// leafHash returns H(0x00 || data).
func leafHash(data []byte) Hash { return newLeafHasher().leaf(data) }

func innerHash(left, right *Hash) Hash {
	var block [blake2bBlock]byte
	block[0] = 1
	copy(block[1:33], left[:])
	copy(block[33:65], right[:])
	return hashBlock(&block, 65)
}

// merkleRoot computes the root over leaf hashes. It overwrites leaves.
func merkleRoot(leaves []Hash) Hash {
	n := len(leaves)
	if n == 0 {
		return emptyNode
	}
	var h hasher4
	for lane := 0; lane < 4; lane++ {
		h.setLen(lane, 65)
		h.blocks[lane][0] = 1
	}
	for n > 1 {
		half := (n + 1) / 2
		for i := 0; i < half; i += 4 {
			count := min(4, half-i)
			for lane := 0; lane < count; lane++ {
				j := 2 * (i + lane)
				right := &emptyNode
				if j+1 < n {
					right = &leaves[j+1]
				}
				copy(h.blocks[lane][1:33], leaves[j][:])
				copy(h.blocks[lane][33:65], right[:])
			}
			h.run(count)
			copy(leaves[i:i+count], h.out[:count])
		}
		n = half
	}
	return leaves[0]
}

// MerkleProof is the sibling path from a leaf to the root.
type MerkleProof []Hash

// merkleProof returns the proof for leaf index i over the given leaf hashes
// (not modified).
func merkleProof(leaves []Hash, i int) MerkleProof {
	level := append([]Hash(nil), leaves...)
	var path MerkleProof
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, emptyNode)
		}
		path = append(path, level[i^1])
		next := make([]Hash, len(level)/2)
		for j := range next {
			next[j] = innerHash(&level[2*j], &level[2*j+1])
		}
		level, i = next, i/2
	}
	return path
}

// ErrMerkleProof reports a proof that does not lead to the expected root.
var ErrMerkleProof = errors.New("merkle proof does not verify")

// verify checks that leaf data sits at index i of a tree with nLeaves leaves
// and the given root.
func (p MerkleProof) verify(root Hash, nLeaves, i int, data []byte) error {
	depth := 0
	for n := nLeaves; n > 1; n = (n + 1) / 2 {
		depth++
	}
	if len(p) != depth || i < 0 || i >= nLeaves {
		return ErrMerkleProof
	}
	h := leafHash(data)
	for _, sib := range p {
		if i%2 == 0 {
			h = innerHash(&h, &sib)
		} else {
			h = innerHash(&sib, &h)
		}
		i /= 2
	}
	if h != root {
		return ErrMerkleProof
	}
	return nil
}
