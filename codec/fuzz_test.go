package codec

import (
	"bytes"
	"errors"
	"testing"
)

// Parsers of untrusted bytes must never panic, must refuse what is not
// canonical BCS, and must round-trip what they accept.

func FuzzUnmarshalMetadata(f *testing.F) {
	c, _ := NewConfig(4)
	e, _ := c.Encode([]byte("seed"))
	f.Add(e.Metadata.BlobMetadata.MarshalBCS())
	f.Add(e.Metadata.MarshalBCS())
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := UnmarshalMetadataBCS(b); err == nil {
			if !bytes.Equal(m.MarshalBCS(), b) {
				t.Fatal("accepted metadata does not round-trip")
			}
			_, _ = m.Config()
			_ = m.BlobID()
		} else if !errors.Is(err, ErrBCS) {
			t.Fatalf("error not wrapping ErrBCS: %v", err)
		}
		if m, err := UnmarshalMetadataWithIDBCS(b); err == nil {
			if !bytes.Equal(m.MarshalBCS(), b) {
				t.Fatal("accepted metadata with ID does not round-trip")
			}
			_, _ = m.Verify(m.ID)
		}
	})
}

func FuzzUnmarshalSliver(f *testing.F) {
	c, _ := NewConfig(4)
	e, _ := c.Encode([]byte("seed sliver"))
	f.Add(e.Primary[0].MarshalBCS())
	f.Add(e.Secondary[3].MarshalBCS())
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSliverBCS(b, Primary)
		if err != nil {
			if !errors.Is(err, ErrBCS) {
				t.Fatalf("error not wrapping ErrBCS: %v", err)
			}
			return
		}
		if !bytes.Equal(s.MarshalBCS(), b) {
			t.Fatal("accepted sliver does not round-trip")
		}
	})
}

// FuzzDecode feeds arbitrary sliver bytes, mixed with genuine slivers, to
// the decoder: it must return the blob exactly or an error, never other
// bytes and never a panic.
func FuzzDecode(f *testing.F) {
	c, _ := NewConfig(7)
	blob := goldenInput(500, 3)
	e, _ := c.Encode(blob)
	md := &e.Metadata.BlobMetadata
	f.Add(e.Primary[0].MarshalBCS(), uint8(0), uint8(2))
	f.Add(e.Secondary[6].MarshalBCS(), uint8(1), uint8(4))
	f.Add([]byte{1, 2, 3}, uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, axis, genuine uint8) {
		a := Axis(axis % 2)
		sl, err := UnmarshalSliverBCS(b, a)
		if err != nil {
			return
		}
		set := []*Sliver{sl}
		for i := 0; i < int(genuine)%8; i++ {
			g := e.Primary[i%7]
			if a == Secondary {
				g = e.Secondary[(i+3)%7]
			}
			set = append(set, &g)
		}
		got, err := c.Decode(md, set, nil, ConsistencyDefault)
		if err == nil && !bytes.Equal(got, blob) {
			t.Fatal("decoder returned bytes that are not the blob")
		}
		_ = c.VerifySliver(md, sl)
	})
}
