package local

import (
	"bytes"
	"errors"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("ab"), 5000)} {
		b := appendRecord([]byte("prefix"), payload)
		got, n, err := decodeRecord(b[len("prefix"):])
		if err != nil || n != len(b)-len("prefix") || !bytes.Equal(got, payload) {
			t.Fatalf("round trip of %d bytes: %d, %v", len(payload), n, err)
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	good := appendRecord(nil, []byte(`{"op":"genesis"}`))
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"short header", good[:7], errTruncated},
		{"short payload", good[:len(good)-1], errTruncated},
		{"flipped payload", flip(10), errBadRecord},
		{"flipped checksum", flip(4), errBadRecord},
		{"length up", flip(0), errTruncated},
		{"length down", func() []byte { b := bytes.Clone(good); b[0]--; return b }(), errBadRecord},
		{"huge length", append([]byte{0xff, 0xff, 0xff, 0xff}, good[4:]...), errBadRecord},
	}
	for _, tt := range tests {
		if _, _, err := decodeRecord(tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

// FuzzDecodeRecord: the decoder never panics, never reads past its input,
// and whatever it accepts re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(appendRecord(nil, []byte(`{"op":"genesis","tx":1}`)))
	f.Add(appendRecord(nil, nil))
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, n, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errTruncated) && !errors.Is(err, errBadRecord) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if n > len(b) || n != recordHeaderSize+len(payload) {
			t.Fatalf("consumed %d of %d bytes for a %d-byte payload", n, len(b), len(payload))
		}
		if again := appendRecord(nil, payload); !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b[:n])
		}
	})
}
