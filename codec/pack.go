package codec

// A symbol of s bytes holds s/2 GF(2^16) elements: each whole 64-byte block
// is 32 low bytes then 32 high bytes, and a last partial block of t bytes is
// t/2 low bytes then t/2 high bytes (Walrus's, and reed-solomon-simd's,
// layout). The Reed-Solomon code acts on each element position alone, so a
// batch of symbols can be coded at once by laying their elements out as one
// long shard: the whole blocks of every symbol copied as they are, then the
// tail elements of all symbols packed 32 to a block. That turns thousands of
// tiny FFTs into one FFT over long shards.

// packer converts between symbols and packed shards for a batch of count
// symbols of symbolSize bytes.
type packer struct {
	symbolSize int
	count      int
	whole      int // bytes of whole 64-byte blocks per symbol
	tailElems  int // elements in the partial block of each symbol
	tailBase   int // offset of the packed tail area in a shard
	shardBytes int // packed shard length, a multiple of 64
}

func newPacker(symbolSize, count int) packer {
	p := packer{symbolSize: symbolSize, count: count}
	p.whole = symbolSize / 64 * 64
	p.tailElems = (symbolSize % 64) / 2
	p.tailBase = count * p.whole
	p.shardBytes = p.tailBase + (count*p.tailElems+31)/32*64
	return p
}

// clearTail zeroes the packed tail area, whose last block may be partly
// unused; stale bytes there would leak into the code's unused positions.
func (p packer) clearTail(shard []byte) { clear(shard[p.tailBase:p.shardBytes]) }

// put writes symbol b of the batch into shard. sym may be shorter than the
// symbol size (the blob's zero padding): missing bytes are written as zero.
func (p packer) put(shard []byte, b int, sym []byte) {
	if len(sym) < p.symbolSize {
		var full [65536]byte
		copy(full[:], sym)
		sym = full[:p.symbolSize]
	}
	copy(shard[b*p.whole:(b+1)*p.whole], sym[:p.whole])
	if p.tailElems == 0 {
		return
	}
	lo := sym[p.whole : p.whole+p.tailElems]
	hi := sym[p.whole+p.tailElems : p.whole+2*p.tailElems]
	q := b * p.tailElems
	for e := 0; e < p.tailElems; {
		blk := p.tailBase + q/32*64
		off := q % 32
		n := min(32-off, p.tailElems-e)
		copy(shard[blk+off:blk+off+n], lo[e:e+n])
		copy(shard[blk+32+off:blk+32+off+n], hi[e:e+n])
		e += n
		q += n
	}
}

// get reads symbol b of the batch from shard into dst (symbolSize bytes).
func (p packer) get(dst, shard []byte, b int) {
	copy(dst[:p.whole], shard[b*p.whole:(b+1)*p.whole])
	if p.tailElems == 0 {
		return
	}
	lo := dst[p.whole : p.whole+p.tailElems]
	hi := dst[p.whole+p.tailElems : p.whole+2*p.tailElems]
	q := b * p.tailElems
	for e := 0; e < p.tailElems; {
		blk := p.tailBase + q/32*64
		off := q % 32
		n := min(32-off, p.tailElems-e)
		copy(lo[e:e+n], shard[blk+off:blk+off+n])
		copy(hi[e:e+n], shard[blk+32+off:blk+32+off+n])
		e += n
		q += n
	}
}
