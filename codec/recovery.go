package codec

import (
	"fmt"
)

// RedStuff's cheap repair: a lost sliver is rebuilt from one symbol of each
// of enough slivers of the other axis, so repair moves about one sliver's
// worth of data instead of the blob. The symbol that sliver j of axis A gives
// towards target sliver t of the other axis is symbol t of j's expansion,
// and it comes with a Merkle proof against j's hash in the metadata.

// RecoverySymbol is one symbol towards rebuilding a sliver.
type RecoverySymbol struct {
	Target      Axis   // axis of the sliver being rebuilt
	TargetIndex uint16 // its sliver index
	Source      uint16 // sliver index (of the other axis) the symbol comes from
	Data        []byte
	Proof       MerkleProof // against the source sliver's hash
}

// RecoverySymbols returns the symbols that sliver src (already checked
// against the metadata) gives towards each target sliver index of the other
// axis.
func (c Config) RecoverySymbols(src *Sliver, targets []uint16) ([]RecoverySymbol, error) {
	s := int(src.SymbolSize)
	if s == 0 || len(src.Data) != s*c.SliverSymbols(src.Axis) || int(src.Index) >= c.nShards {
		return nil, fmt.Errorf("%w: %s sliver %d of %d bytes", ErrInvalidSliver, src.Axis, src.Index, len(src.Data))
	}
	n := c.nShards
	syms := make([]byte, n*s)
	leaves := make([]Hash, n)
	c.expandLines(src.Axis, s, [][]byte{src.Data}, func(h *leafHasher, _, j int, sym []byte) {
		copy(syms[j*s:], sym)
		h.add(&leaves[j], sym)
	})
	out := make([]RecoverySymbol, 0, len(targets))
	for _, t := range targets {
		if int(t) >= n {
			return nil, fmt.Errorf("recovery target %d out of range for %d shards", t, n)
		}
		out = append(out, RecoverySymbol{
			Target:      src.Axis.Other(),
			TargetIndex: t,
			Source:      src.Index,
			Data:        syms[int(t)*s : (int(t)+1)*s : (int(t)+1)*s],
			Proof:       merkleProof(leaves, int(t)),
		})
	}
	return out, nil
}

// VerifyRecoverySymbol checks a symbol's proof against the metadata.
func (c Config) VerifyRecoverySymbol(md *BlobMetadata, sym *RecoverySymbol) error {
	s, err := c.SymbolSize(md.UnencodedLength)
	if err != nil {
		return err
	}
	if len(sym.Data) != s || int(sym.Source) >= c.nShards || int(sym.TargetIndex) >= c.nShards {
		return fmt.Errorf("%w: recovery symbol from %d has %d bytes, want %d", ErrInvalidSliver, sym.Source, len(sym.Data), s)
	}
	root := md.SliverHash(sym.Target.Other(), sym.Source)
	if err := sym.Proof.verify(root, c.nShards, int(sym.TargetIndex), sym.Data); err != nil {
		return fmt.Errorf("%w: recovery symbol from %s sliver %d: %w", ErrInvalidSliver, sym.Target.Other(), sym.Source, err)
	}
	return nil
}

// RecoverSliver rebuilds sliver index of axis target from recovery symbols.
// Symbols whose proofs fail, or that are for another target, are skipped;
// with fewer than SourceSymbols(target.Other()) good ones the error wraps
// ErrNotEnoughSymbols. The rebuilt sliver is checked against the metadata:
// if verified symbols give a sliver that does not match, the blob was
// encoded inconsistently (ErrInconsistentEncoding).
func (c Config) RecoverSliver(md *BlobMetadata, target Axis, index uint16, symbols []RecoverySymbol) (*Sliver, error) {
	if len(md.Hashes) != c.nShards {
		return nil, fmt.Errorf("%w: %d sliver pairs for %d shards", ErrInvalidMetadata, len(md.Hashes), c.nShards)
	}
	s, err := c.SymbolSize(md.UnencodedLength)
	if err != nil {
		return nil, err
	}
	// The target is a line of the target axis; its symbols are coded by the
	// code of that line: k = SliverSymbols(target) sources among n symbols.
	code := c.sliverCode(target)
	seen := make(map[uint16]bool)
	var good []*RecoverySymbol
	for i := range symbols {
		sym := &symbols[i]
		if sym.Target != target || sym.TargetIndex != index || seen[sym.Source] {
			continue
		}
		if c.VerifyRecoverySymbol(md, sym) != nil {
			continue
		}
		seen[sym.Source] = true
		good = append(good, sym)
		if len(good) == code.k {
			break
		}
	}
	if len(good) < code.k {
		return nil, fmt.Errorf("%w: %d valid, need %d", ErrNotEnoughSymbols, len(good), code.k)
	}
	present := make([]int, len(good))
	for i, g := range good {
		present[i] = int(g.Source)
	}
	plan, err := code.newDecodePlan(present)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEnoughSymbols, err)
	}
	p := newPacker(s, 1)
	dec := plan.newDecoder(p.shardBytes)
	dec.setLen(p.shardBytes)
	for _, g := range good {
		shard := dec.slot(int(g.Source))
		p.clearTail(shard)
		p.put(shard, 0, g.Data)
	}
	dec.decode()
	out := &Sliver{Axis: target, Index: index, SymbolSize: uint16(s), Data: make([]byte, code.k*s)}
	for _, g := range good {
		if int(g.Source) < code.k {
			copy(out.Data[int(g.Source)*s:], g.Data)
		}
	}
	for i := 0; i < code.k; i++ {
		if dec.pos[i] < 0 { // given sources were copied above; decoding overwrote their slots
			p.get(out.Data[i*s:(i+1)*s], dec.source(i), 0)
		}
	}
	if err := c.VerifySliver(md, out); err != nil {
		return nil, fmt.Errorf("%w: rebuilt %s sliver %d does not match the metadata", ErrInconsistentEncoding, target, index)
	}
	return out, nil
}
