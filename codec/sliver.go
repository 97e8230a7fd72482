package codec

import (
	"errors"
	"fmt"
)

// Axis says which of the two codes a sliver belongs to.
type Axis uint8

const (
	// Primary slivers are rows of the blob matrix (n-f symbols each).
	Primary Axis = iota
	// Secondary slivers are columns (n-2f symbols each).
	Secondary
)

func (a Axis) String() string {
	if a == Primary {
		return "primary"
	}
	return "secondary"
}

// Other returns the orthogonal axis.
func (a Axis) Other() Axis { return 1 - a }

// ParseAxis parses "primary" or "secondary", as in storage-node URLs.
func ParseAxis(s string) (Axis, error) {
	switch s {
	case "primary":
		return Primary, nil
	case "secondary":
		return Secondary, nil
	}
	return 0, fmt.Errorf("invalid sliver type %q: want primary or secondary", s)
}

// Sliver is one primary or secondary sliver: its symbols concatenated.
// Index is the sliver index (not the pair index: the secondary sliver of
// pair p has index n-1-p).
type Sliver struct {
	Axis       Axis
	Index      uint16
	SymbolSize uint16
	Data       []byte
}

// Symbol returns symbol i of the sliver.
func (s *Sliver) Symbol(i int) []byte {
	sz := int(s.SymbolSize)
	return s.Data[i*sz : (i+1)*sz]
}

// PairIndex returns the sliver pair this sliver belongs to.
func (s *Sliver) PairIndex(nShards int) uint16 {
	if s.Axis == Primary {
		return s.Index
	}
	return uint16(nShards - 1 - int(s.Index))
}

// SliverIndex maps a pair index to the index of its sliver on the axis.
func SliverIndex(pair uint16, a Axis, nShards int) uint16 {
	if a == Primary {
		return pair
	}
	return uint16(nShards - 1 - int(pair))
}

// ErrBCS reports bytes that do not decode as the expected BCS value.
var ErrBCS = errors.New("malformed BCS")

// MarshalBCS returns the BCS form the storage-node API carries:
// symbols (ULEB128 length + bytes), symbol size u16 LE, index u16 LE. The
// axis travels in the URL.
func (s *Sliver) MarshalBCS() []byte {
	out := make([]byte, 0, len(s.Data)+10)
	out = appendULEB(out, uint64(len(s.Data)))
	out = append(out, s.Data...)
	out = append(out, byte(s.SymbolSize), byte(s.SymbolSize>>8), byte(s.Index), byte(s.Index>>8))
	return out
}

// UnmarshalSliverBCS decodes a BCS SliverData of the given axis. It checks
// the form only (non-zero symbol size dividing the data); whether the sliver
// belongs to a blob is checked against the metadata with VerifySliver.
func UnmarshalSliverBCS(b []byte, a Axis) (*Sliver, error) {
	r := bcsReader{b: b}
	n, err := r.uleb()
	if err != nil {
		return nil, err
	}
	data, err := r.bytes(n)
	if err != nil {
		return nil, err
	}
	ss, err := r.u16()
	if err != nil {
		return nil, err
	}
	idx, err := r.u16()
	if err != nil {
		return nil, err
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	if ss == 0 || len(data)%int(ss) != 0 {
		return nil, fmt.Errorf("%w: sliver of %d bytes with symbol size %d", ErrBCS, len(data), ss)
	}
	return &Sliver{Axis: a, Index: idx, SymbolSize: ss, Data: data}, nil
}
