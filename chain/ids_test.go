package chain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

func TestObjectIDText(t *testing.T) {
	full := "0x" + "0a" + string(bytes.Repeat([]byte("ff"), 31))
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{full, full, false},
		{"0X0A" + string(bytes.Repeat([]byte("FF"), 31)), full, false},
		{"0x2", "0x" + string(bytes.Repeat([]byte("0"), 63)) + "2", false},
		{"abc", "0x" + string(bytes.Repeat([]byte("0"), 61)) + "abc", false},
		{"0x", "", true},
		{"", "", true},
		{"0x" + string(bytes.Repeat([]byte("1"), 65)), "", true},
		{"0xzz", "", true},
	}
	for _, tt := range tests {
		id, err := ParseObjectID(tt.in)
		if tt.err {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("ParseObjectID(%q) = %v, want ErrInvalidArgument", tt.in, err)
			}
			continue
		}
		if err != nil || id.String() != tt.want {
			t.Errorf("ParseObjectID(%q) = %s, %v; want %s", tt.in, id, err, tt.want)
		}
	}
}

func TestBase58(t *testing.T) {
	tests := []struct{ hex, b58 string }{
		{"", ""},
		{"00", "1"},
		{"0000", "11"},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"516b6fcd0f", "ABnLTmg"},
		{"00000000000000000000", "1111111111"},
		{"000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		if got := encodeBase58(b); got != tt.b58 {
			t.Errorf("encode(%s) = %q, want %q", tt.hex, got, tt.b58)
		}
		if tt.b58 == "" {
			continue
		}
		back, err := decodeBase58(tt.b58)
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("decode(%q) = %x, %v; want %s", tt.b58, back, err, tt.hex)
		}
	}
	for _, bad := range []string{"", "0", "O", "I", "l", "abc+"} {
		if _, err := decodeBase58(bad); err == nil {
			t.Errorf("decode(%q) succeeded", bad)
		}
	}
}

func TestEventIDJSON(t *testing.T) {
	var d Digest
	for i := range d {
		d[i] = byte(i)
	}
	id := EventID{TxDigest: d, EventSeq: 3}
	b, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"txDigest":"` + encodeBase58(d[:]) + `","eventSeq":"3"}`
	if string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
	var back EventID
	if err := json.Unmarshal(b, &back); err != nil || back != id {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"txDigest":"abc","eventSeq":"1"}`), &back); err == nil {
		t.Fatal("short digest accepted")
	}
}

func TestReasonsRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range reasons {
		if seen[r.reason] {
			t.Fatalf("reason %s used twice", r.reason)
		}
		seen[r.reason] = true
		wrapped := errors.Join(errors.New("context"), r.err)
		if Reason(wrapped) != r.reason {
			t.Errorf("Reason(%v) = %q, want %q", wrapped, Reason(wrapped), r.reason)
		}
		if ErrorForReason(r.reason) != r.err {
			t.Errorf("ErrorForReason(%q) is not %v", r.reason, r.err)
		}
	}
	if Reason(errors.New("other")) != "" || ErrorForReason("NOPE") != nil {
		t.Fatal("unknown errors map to a reason")
	}
}
