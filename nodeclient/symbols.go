package nodeclient

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/haulout/haulout/codec"
)

// The BCS of recovery symbols is Walrus's Vec<GeneralRecoverySymbol>
// (walrus-core encoding/symbols.rs), so that symbols cross between haulout
// and Walrus nodes unchanged:
//
//	GeneralRecoverySymbol = symbol: EitherDecodingSymbol
//	                        || target_index: u16
//	                        || proof: MerkleProof
//	EitherDecodingSymbol  = enum { Primary(DecodingSymbol), Secondary(DecodingSymbol) }
//	DecodingSymbol        = index: u16 || data: Vec<u8>
//	MerkleProof           = path: Vec<MerkleNode>
//	MerkleNode            = enum { Empty, Digest([u8; 32]) }
//
// The variant names the axis of the sliver the symbol helps rebuild (a
// Primary symbol comes from a secondary sliver and rebuilds a primary one);
// DecodingSymbol.index is the index of the source sliver, target_index that
// of the sliver being rebuilt, and the proof leads from the symbol (leaf
// target_index) to the source sliver's hash in the metadata. codec's
// RecoverySymbol holds the same fields. A proof node of 32 zero bytes is the
// Empty node (what pads odd levels of the tree), as Walrus writes it.

// maxProofLength bounds a Merkle path: 65,535 leaves need 16 levels.
const maxProofLength = 32

// recoverySymbolMinSize is the least BCS size of one symbol (tag, index,
// empty data, target, empty proof), which bounds the count a body can
// claim.
const recoverySymbolMinSize = 1 + 2 + 1 + 2 + 1

// MarshalRecoverySymbols returns the BCS Vec<GeneralRecoverySymbol> of syms.
func MarshalRecoverySymbols(syms []codec.RecoverySymbol) []byte {
	size := ulebLen(uint64(len(syms)))
	for i := range syms {
		size += 5 + ulebLen(uint64(len(syms[i].Data))) + len(syms[i].Data) + ulebLen(uint64(len(syms[i].Proof))) + 33*len(syms[i].Proof)
	}
	out := make([]byte, 0, size)
	out = appendULEB(out, uint64(len(syms)))
	for i := range syms {
		out = appendRecoverySymbol(out, &syms[i])
	}
	return out
}

func appendRecoverySymbol(out []byte, s *codec.RecoverySymbol) []byte {
	out = append(out, byte(s.Target))
	out = binary.LittleEndian.AppendUint16(out, s.Source)
	out = appendULEB(out, uint64(len(s.Data)))
	out = append(out, s.Data...)
	out = binary.LittleEndian.AppendUint16(out, s.TargetIndex)
	out = appendULEB(out, uint64(len(s.Proof)))
	for _, h := range s.Proof {
		if h == (codec.Hash{}) {
			out = append(out, 0)
			continue
		}
		out = append(out, 1)
		out = append(out, h[:]...)
	}
	return out
}

// UnmarshalRecoverySymbols decodes a BCS Vec<GeneralRecoverySymbol>. It checks
// the form only; codec.Config.VerifyRecoverySymbol and RecoverSliver check
// each symbol's proof against the blob's metadata.
func UnmarshalRecoverySymbols(b []byte) ([]codec.RecoverySymbol, error) {
	r := &bcsReader{src: bytes.NewReader(b)}
	n, err := r.uleb("symbol count")
	if err != nil {
		return nil, err
	}
	if n > len(b)/recoverySymbolMinSize {
		return nil, fmt.Errorf("%w: %d symbols in %d bytes", ErrMalformed, n, len(b))
	}
	out := make([]codec.RecoverySymbol, n)
	for i := range out {
		if err := readRecoverySymbol(r, &out[i], len(b)); err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return out, nil
}

func readRecoverySymbol(r *bcsReader, s *codec.RecoverySymbol, limit int) error {
	tag, err := r.u8("symbol axis")
	if err != nil {
		return err
	}
	if tag > 1 {
		return fmt.Errorf("%w: symbol axis variant %d", ErrMalformed, tag)
	}
	s.Target = codec.Axis(tag)
	if s.Source, err = r.u16("symbol index"); err != nil {
		return err
	}
	n, err := r.uleb("symbol length")
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("%w: symbol of %d bytes in a body of %d", ErrMalformed, n, limit)
	}
	s.Data = make([]byte, n)
	if err := r.full(s.Data, "symbol data"); err != nil {
		return err
	}
	if s.TargetIndex, err = r.u16("target index"); err != nil {
		return err
	}
	depth, err := r.uleb("proof length")
	if err != nil {
		return err
	}
	if depth > maxProofLength {
		return fmt.Errorf("%w: proof of %d nodes", ErrMalformed, depth)
	}
	s.Proof = make(codec.MerkleProof, depth)
	for j := range s.Proof {
		tag, err := r.u8("proof node")
		if err != nil {
			return err
		}
		switch tag {
		case 0: // Empty: 32 zero bytes in hashing
		case 1:
			if err := r.full(s.Proof[j][:], "proof digest"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: proof node variant %d", ErrMalformed, tag)
		}
	}
	return nil
}

// SymbolID names one recovery symbol of a blob as Walrus does: the
// intersection of a primary and a secondary sliver, written
// "<primary index>-<secondary index>" in the id query parameter.
type SymbolID struct {
	Primary, Secondary uint16
}

// String returns the "<primary>-<secondary>" form.
func (id SymbolID) String() string {
	return strconv.Itoa(int(id.Primary)) + "-" + strconv.Itoa(int(id.Secondary))
}

// ParseSymbolID parses the "<primary>-<secondary>" form.
func ParseSymbolID(s string) (SymbolID, error) {
	p, q, ok := strings.Cut(s, "-")
	if !ok {
		return SymbolID{}, fmt.Errorf("invalid symbol ID %q: want <primary>-<secondary>", s)
	}
	a, err1 := strconv.ParseUint(p, 10, 16)
	b, err2 := strconv.ParseUint(q, 10, 16)
	if err1 != nil || err2 != nil {
		return SymbolID{}, fmt.Errorf("invalid symbol ID %q: want two sliver indices below 65536", s)
	}
	return SymbolID{Primary: uint16(a), Secondary: uint16(b)}, nil
}
