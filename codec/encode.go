package codec

// Encoded is a blob encoded for a committee: its metadata and every sliver.
type Encoded struct {
	Metadata   *Metadata
	SymbolSize int
	Primary    []Sliver // by sliver index
	Secondary  []Sliver // by sliver index
}

// Pair returns the slivers of sliver pair p: primary p and secondary n-1-p.
func (e *Encoded) Pair(p int) (primary, secondary *Sliver) {
	return &e.Primary[p], &e.Secondary[len(e.Secondary)-1-p]
}

// ComputeBlobID returns the Walrus blob ID of data for nShards shards.
func ComputeBlobID(data []byte, nShards int) (BlobID, error) {
	c, err := NewConfig(nShards)
	if err != nil {
		return BlobID{}, err
	}
	m, err := c.ComputeMetadata(data)
	if err != nil {
		return BlobID{}, err
	}
	return m.ID, nil
}

// ComputeMetadata returns the metadata and blob ID of blob without keeping
// the slivers: it needs the blob plus about half its size again.
func (c Config) ComputeMetadata(blob []byte) (*Metadata, error) {
	e, err := c.encode(blob, false)
	if err != nil {
		return nil, err
	}
	return e.Metadata, nil
}

// Encode returns the metadata and all slivers of blob. The slivers take
// about n/(n-2f) + n/(n-f) times the blob (4.5x at 1000 shards) and do not
// alias blob.
func (c Config) Encode(blob []byte) (*Encoded, error) { return c.encode(blob, true) }

// encoding is the state of one blob's encoding.
type encoding struct {
	c      Config
	blob   []byte
	s      int
	keep   bool
	prim   []byte // keep: all n primary slivers (rows), n*k2*s
	sec    []byte // keep: all n secondary slivers; else only columns k2..n
	leaves []Hash // leaf hash of every cell of the n x n expanded matrix
}

// cell returns the blob bytes of matrix cell (r, col) for col < k2: short or
// empty where the cell runs into the zero padding.
func (e *encoding) cell(r, col int) []byte {
	start := (r*e.c.k2 + col) * e.s
	if start >= len(e.blob) {
		return nil
	}
	return e.blob[start:min(start+e.s, len(e.blob))]
}

// secSym returns symbol r of secondary sliver (column) col.
func (e *encoding) secSym(col, r int) []byte {
	if !e.keep {
		col -= e.c.k2
	}
	off := (col*e.c.k1 + r) * e.s
	return e.sec[off : off+e.s : off+e.s]
}

func (e *encoding) primSym(row, col int) []byte {
	off := (row*e.c.k2 + col) * e.s
	return e.prim[off : off+e.s : off+e.s]
}

func (c Config) encode(blob []byte, keep bool) (*Encoded, error) {
	s, err := c.SymbolSize(uint64(len(blob)))
	if err != nil {
		return nil, err
	}
	n, k1, k2 := c.nShards, c.k1, c.k2
	e := &encoding{c: c, blob: blob, s: s, keep: keep, leaves: make([]Hash, n*n)}
	if keep {
		e.prim = make([]byte, n*k2*s)
		copy(e.prim, blob) // rows 0..k1 are the zero-padded blob itself
		e.sec = make([]byte, n*k1*s)
	} else {
		e.sec = make([]byte, (n-k2)*k1*s)
	}
	e.expandRows()
	e.expandColumns()

	rowRoots, colRoots := e.roots()
	md := &Metadata{BlobMetadata: BlobMetadata{
		EncodingType:    RS2,
		UnencodedLength: uint64(len(blob)),
		Hashes:          make([]SliverPairMetadata, n),
	}}
	for p := range md.Hashes {
		md.Hashes[p] = SliverPairMetadata{Primary: digestNode(rowRoots[p]), Secondary: digestNode(colRoots[n-1-p])}
	}
	md.ID = md.BlobID()
	out := &Encoded{Metadata: md, SymbolSize: s}
	if keep {
		out.Primary = make([]Sliver, n)
		out.Secondary = make([]Sliver, n)
		for i := 0; i < n; i++ {
			out.Primary[i] = Sliver{Axis: Primary, Index: uint16(i), SymbolSize: uint16(s), Data: e.prim[i*k2*s : (i+1)*k2*s : (i+1)*k2*s]}
			out.Secondary[i] = Sliver{Axis: Secondary, Index: uint16(i), SymbolSize: uint16(s), Data: e.sec[i*k1*s : (i+1)*k1*s : (i+1)*k1*s]}
		}
	}
	return out, nil
}

// expandRows runs the secondary code over every row: the k2 blob symbols of
// row r give the symbols of row r in columns k2..n.
func (e *encoding) expandRows() {
	c, s := e.c, e.s
	batch := batchSize(c.k1, s)
	maxShard := newPacker(s, batch).shardBytes
	forBatches(c.k1, batch, func() *rsEncoder { return c.second.newEncoder(maxShard) },
		func(enc *rsEncoder, lo, hi int) {
			p := newPacker(s, hi-lo)
			enc.setLen(p.shardBytes)
			for col := 0; col < c.k2; col++ {
				shard := enc.source(col)
				p.clearTail(shard)
				for r := lo; r < hi; r++ {
					sym := e.cell(r, col)
					p.put(shard, r-lo, sym)
					if e.keep {
						copy(e.secSym(col, r), sym)
					}
				}
			}
			enc.encode()
			for j := 0; j < c.nShards-c.k2; j++ {
				shard := enc.recovery(j)
				for r := lo; r < hi; r++ {
					p.get(e.secSym(c.k2+j, r), shard, r-lo)
				}
			}
		})
}

type columnState struct {
	enc *rsEncoder
	h   *leafHasher
	buf []byte
}

// expandColumns runs the primary code over every one of the n columns and
// hashes all n x n cells; for columns < k2 the new cells are the symbols of
// primary slivers k1..n.
func (e *encoding) expandColumns() {
	c, s, n := e.c, e.s, e.c.nShards
	batch := batchSize(n, s)
	maxShard := newPacker(s, batch).shardBytes
	forBatches(n, batch, func() *columnState {
		return &columnState{enc: c.primary.newEncoder(maxShard), h: newLeafHasher(), buf: make([]byte, s)}
	}, func(st *columnState, lo, hi int) {
		p := newPacker(s, hi-lo)
		st.enc.setLen(p.shardBytes)
		for r := 0; r < c.k1; r++ {
			shard := st.enc.source(r)
			p.clearTail(shard)
			for col := lo; col < hi; col++ {
				var sym []byte
				if col < c.k2 {
					sym = e.cell(r, col)
					if len(sym) < s {
						clear(st.buf)
						copy(st.buf, sym)
						sym = st.buf
					}
				} else {
					sym = e.secSym(col, r)
				}
				p.put(shard, col-lo, sym)
				st.h.add(&e.leaves[r*n+col], sym)
			}
		}
		st.enc.encode()
		for j := 0; j < n-c.k1; j++ {
			shard := st.enc.recovery(j)
			row := c.k1 + j
			for col := lo; col < hi; col++ {
				dst := st.buf
				if e.keep && col < c.k2 {
					dst = e.primSym(row, col)
				}
				p.get(dst, shard, col-lo)
				st.h.add(&e.leaves[row*n+col], dst)
			}
		}
		st.h.flush()
	})
}

// roots returns the Merkle root of every row and every column of leaves.
func (e *encoding) roots() (rows, cols []Hash) {
	n := e.c.nShards
	rows, cols = make([]Hash, n), make([]Hash, n)
	forBatches(2*n, max(1, (2*n)/(8*4)), func() []Hash { return make([]Hash, n) },
		func(tmp []Hash, lo, hi int) {
			for i := lo; i < hi; i++ {
				if i < n {
					copy(tmp, e.leaves[i*n:(i+1)*n])
					rows[i] = merkleRoot(tmp)
					continue
				}
				col := i - n
				for r := 0; r < n; r++ {
					tmp[r] = e.leaves[r*n+col]
				}
				cols[col] = merkleRoot(tmp)
			}
		})
	return rows, cols
}
