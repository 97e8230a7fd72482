package site

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/haulout/haulout/codec"
)

// The blob form of a manifest: the magic, then the manifest in BCS, the
// encoding Walrus's Move objects have on chain:
//
//	magic "haulout-site" | version u8 | name String | nonce [u8; 16]
//	| link, image_url, description, project_url, creator: String
//	| resources: vector<{path String, patch [u8; 37], headers VecMap<String,String>,
//	                     sha256 [u8; 32], size u64}>
//	| routes: vector<{pattern String, target String}>
//	| redirects: vector<{pattern String, location String, status u16}>
//
// Lengths are ULEB128; header maps are sorted by key. The encoding is
// canonical: Decode refuses anything Encode would not write.

// manifestMagic starts every manifest blob.
const manifestMagic = "haulout-site"

// IsManifest reports whether b starts like a manifest blob.
func IsManifest(b []byte) bool {
	return len(b) > len(manifestMagic) && string(b[:len(manifestMagic)]) == manifestMagic
}

// Encode returns the blob form of a valid manifest.
func (m *Manifest) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b := append([]byte(manifestMagic), m.Version)
	b = appendString(b, m.Name)
	b = append(b, m.Nonce[:]...)
	md := m.Metadata
	for _, f := range md.fields() {
		b = appendString(b, *f)
	}
	b = appendULEB(b, uint64(len(m.Resources)))
	for _, r := range m.Resources {
		b = appendString(b, r.Path)
		b = append(b, r.Patch.Bytes()...)
		keys := slices.Sorted(maps.Keys(r.Headers))
		b = appendULEB(b, uint64(len(keys)))
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, r.Headers[k])
		}
		b = append(b, r.SHA256[:]...)
		b = binary.LittleEndian.AppendUint64(b, r.Size)
	}
	b = appendULEB(b, uint64(len(m.Routes)))
	for _, rt := range m.Routes {
		b = appendString(b, rt.Pattern)
		b = appendString(b, rt.Target)
	}
	b = appendULEB(b, uint64(len(m.Redirects)))
	for _, rd := range m.Redirects {
		b = appendString(b, rd.Pattern)
		b = appendString(b, rd.Location)
		b = binary.LittleEndian.AppendUint16(b, uint16(rd.Status))
	}
	return b, nil
}

// DecodeManifest reads the blob form of a manifest and validates it.
func DecodeManifest(b []byte) (*Manifest, error) {
	if !IsManifest(b) {
		return nil, fmt.Errorf("%w: not a haulout site manifest (no %q magic)", ErrInvalidManifest, manifestMagic)
	}
	r := &reader{b: b, off: len(manifestMagic)}
	m := &Manifest{}
	m.Version = r.u8()
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidManifest, m.Version, ManifestVersion)
	}
	m.Name = r.str()
	copy(m.Nonce[:], r.bytes(len(m.Nonce)))
	for _, f := range m.Metadata.fields() {
		*f = r.str()
	}
	n := r.count(MaxResources)
	if n > 0 {
		m.Resources = make([]Resource, 0, min(n, len(b)/16))
	}
	for i := 0; i < n && r.err == nil; i++ {
		var res Resource
		res.Path = r.str()
		if raw := r.bytes(37); r.err == nil {
			copy(res.Patch.Quilt[:], raw[:32])
			p, err := codec.ParseQuiltPatchInternalID(raw[32:])
			if err != nil {
				r.fail("resource %q: %v", clip(res.Path), err)
			}
			res.Patch.Patch = p
		}
		nh := r.count(MaxHeaders)
		res.Headers = make(map[string]string, min(nh, 16))
		prev := ""
		for j := 0; j < nh && r.err == nil; j++ {
			k, v := r.str(), r.str()
			if j > 0 && k <= prev {
				r.fail("resource %q: headers not sorted and unique", clip(res.Path))
			}
			res.Headers[k], prev = v, k
		}
		copy(res.SHA256[:], r.bytes(32))
		res.Size = r.u64()
		m.Resources = append(m.Resources, res)
	}
	n = r.count(MaxRules)
	for i := 0; i < n && r.err == nil; i++ {
		m.Routes = append(m.Routes, Route{Pattern: r.str(), Target: r.str()})
	}
	n = r.count(MaxRules)
	for i := 0; i < n && r.err == nil; i++ {
		m.Redirects = append(m.Redirects, Redirect{Pattern: r.str(), Location: r.str(), Status: int(r.u16())})
	}
	if r.err == nil && r.off != len(b) {
		r.fail("%d trailing bytes", len(b)-r.off)
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func appendULEB(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendString(b []byte, s string) []byte {
	return append(appendULEB(b, uint64(len(s))), s...)
}

// reader reads BCS, keeping the first error; after one, reads return zero
// values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrInvalidManifest, r.off, fmt.Sprintf(format, a...))
	}
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return make([]byte, n)
	}
	if len(r.b)-r.off < n {
		r.fail("truncated: want %d bytes, have %d", n, len(r.b)-r.off)
		return make([]byte, n)
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

func (r *reader) u8() uint8   { return r.bytes(1)[0] }
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.bytes(2)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.bytes(8)) }

// uleb reads a canonical ULEB128 of at most max.
func (r *reader) uleb(max int) int {
	var v uint64
	for shift := 0; shift < 35 && r.err == nil; shift += 7 {
		c := r.u8()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c == 0 && shift > 0 {
				r.fail("non-canonical length")
			}
			if v > uint64(max) {
				r.fail("length %d, at most %d", v, max)
			}
			return int(v)
		}
	}
	r.fail("length too long")
	return 0
}

func (r *reader) count(max int) int {
	n := r.uleb(max)
	if r.err != nil {
		return 0
	}
	return n
}

func (r *reader) str() string {
	n := r.uleb(MaxStringLength)
	if r.err != nil {
		return ""
	}
	s := r.bytes(n)
	if !utf8.Valid(s) {
		r.fail("string is not UTF-8")
	}
	return string(s)
}
