package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/codecop"
)

// The protocol, run natively: the same code the WASI build runs.

func frames(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		codecop.WriteFrame(&b, p)
	}
	return b.Bytes()
}

func runOp(t *testing.T, stdin []byte, budget string, args ...string) (stdout []byte, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errb, budget)
	return out.Bytes(), errb.String(), code
}

func readFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	r := bytes.NewReader(b)
	for r.Len() > 0 {
		f, err := codecop.ReadFrame(r, 1<<32)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestOperations(t *testing.T) {
	blob := []byte("hello world")
	out, stderr, code := runOp(t, frames(blob), "", "blob-id", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if f := readFrames(t, out); len(f) != 1 || codec.BlobID(f[0]).String() != "kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg" {
		t.Fatalf("blob-id wrote %x", out)
	}

	out, _, code = runOp(t, frames(blob), "", "encode", "10")
	enc := readFrames(t, out)
	if code != 0 || len(enc) != 21 {
		t.Fatalf("encode: exit %d, %d frames", code, len(enc))
	}
	meta, _, _ := runOp(t, frames(blob), "", "metadata", "10")
	if !bytes.Equal(readFrames(t, meta)[0], enc[0]) {
		t.Fatal("metadata and encode disagree")
	}
	// Decode from the secondary slivers of pairs 0..6 (k2 = 7).
	parts := [][]byte{enc[0]}
	for p := range 7 {
		parts = append(parts, append([]byte{1}, enc[2+2*p]...))
	}
	out, stderr, code = runOp(t, frames(parts...), "", "decode", "0", "strict")
	if code != 0 {
		t.Fatalf("decode: exit %d: %s", code, stderr)
	}
	if f := readFrames(t, out); len(f) != 1 || string(f[0]) != "hello world" {
		t.Fatalf("decode wrote %q", out)
	}
}

func TestRefusals(t *testing.T) {
	blob := frames([]byte("hello world"))
	for _, tc := range []struct {
		name   string
		stdin  []byte
		budget string
		args   []string
		code   int
		stderr string
	}{
		{"no args", nil, "", nil, 2, "usage:"},
		{"unknown op", blob, "", []string{"frobnicate", "10"}, 2, `unknown operation "frobnicate"`},
		{"shards not a number", blob, "", []string{"encode", "ten"}, 2, "is not a number"},
		{"bad budget", blob, "-1", []string{"encode", "10"}, 2, "HAULOUT_MEMORY_BUDGET"},
		{"bad shards", blob, "", []string{"blob-id", "3"}, 1, "blob-id: invalid-shards: invalid number of shards: 3"},
		{"empty stdin", nil, "", []string{"blob-id", "10"}, 1, "malformed-frame: malformed frame: no blob frame"},
		{"short frame", []byte{10, 0, 0, 0, 'a'}, "", []string{"blob-id", "10"}, 1, "malformed-frame: malformed frame: 10-byte frame cut short"},
		{"trailing bytes", append(blob, 0), "", []string{"blob-id", "10"}, 1, "bytes after the blob frame"},
		{"too large", frames(make([]byte, 393205)), "", []string{"blob-id", "4"}, 1, "too-large"},
		{"over budget", frames(make([]byte, 1<<20)), "1000000", []string{"encode", "100"}, 1, "out-of-memory: encode of 1.0 MiB at 100 shards needs about"},
		{"bad consistency", frames(nil), "", []string{"decode", "0", "lax"}, 1, "invalid-argument"},
		{"no metadata", nil, "", []string{"decode", "0"}, 1, "no metadata frame"},
		{"garbage metadata", frames([]byte("junk")), "", []string{"decode", "0"}, 1, "malformed-bcs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runOp(t, tc.stdin, tc.budget, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestDecodeFrames(t *testing.T) {
	blob := []byte("hello world")
	out, _, _ := runOp(t, frames(blob), "", "encode", "10")
	enc := readFrames(t, out)
	for _, tc := range []struct {
		name   string
		sliver []byte
		stderr string
	}{
		{"no axis", nil, "does not start with an axis byte"},
		{"bad axis", append([]byte{7}, enc[1]...), "does not start with an axis byte"},
		{"bad bcs", []byte{0, 1, 2}, "malformed-bcs"},
		{"oversized", make([]byte, 1<<20), "more than any sliver at 10 shards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runOp(t, frames(enc[0], tc.sliver), "", "decode", "10")
			if code != 1 || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %q", code, stderr, tc.stderr)
			}
		})
	}
}
