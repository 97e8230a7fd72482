package abi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Version is the ABI this package speaks, as the hello record names it.
const Version = "haulout-plugin/1"

// EnvVar is set to "1" in a plugin's environment: the ABI major version.
const EnvVar = "HAULOUT_PLUGIN_ABI"

// Record kinds.
const (
	KindHello     byte = 'H'
	KindData      byte = 'D'
	KindAttribute byte = 'A'
	KindEnd       byte = 'E'
)

// Limits of the ABI.
const (
	MaxChunk      = 1 << 20 // bytes of payload in one data record
	MaxAttributes = 64
	MaxAttrValue  = 1024
	maxNameLen    = 64
	maxHelloLen   = 256
	headerLen     = 5
)

// Attributes the host sets from the hello record; a plugin may not.
const (
	AttrPlugin        = "plugin"
	AttrPluginVersion = "plugin.version"
)

// Direction says which way a blob goes through a plugin.
type Direction int

const (
	// Forward transforms a blob before it is stored.
	Forward Direction = iota
	// Reverse undoes Forward on read.
	Reverse
)

func (d Direction) String() string {
	switch d {
	case Forward:
		return "forward"
	case Reverse:
		return "reverse"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// ParseDirection reads "forward" or "reverse".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "forward":
		return Forward, nil
	case "reverse":
		return Reverse, nil
	}
	return 0, fmt.Errorf("direction %q: want forward or reverse", s)
}

// ValidName reports whether s may be a plugin name or an attribute key:
// [a-z0-9][a-z0-9._-]{0,63}.
func ValidName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i, c := range []byte(s) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func validVersion(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// AppendRecord appends a record to dst.
func AppendRecord(dst []byte, kind byte, payload []byte) []byte {
	dst = append(dst, kind)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// Hello is the payload of the hello record.
func Hello(name, version string) []byte {
	return []byte(Version + " " + name + " " + version)
}

// ErrViolation is wrapped by every error of Decoder: output that breaks the
// ABI.
var ErrViolation = errors.New("plugin ABI violation")

func violation(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrViolation, fmt.Sprintf(format, args...))
}

// Decoder checks and collects a plugin's output as it is written: it is the
// io.Writer the host gives the plugin as stdout. The first rule broken
// makes every later Write fail with the same error.
type Decoder struct {
	// MaxOutput bounds the data bytes (0: no bound beyond memory).
	MaxOutput int64

	data    bytes.Buffer
	attrs   map[string]string
	name    string
	version string
	hdr     [headerLen]byte // the current record's header
	hdrN    int             // bytes of it seen; 0 between records
	size    int             // its payload length
	got     int             // payload bytes seen
	payload []byte          // the payload of a record other than data
	hello   bool
	end     bool
	err     error
}

// Write parses p as the next bytes of the plugin's stdout.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := len(p)
	for len(p) > 0 {
		if d.end {
			d.err = violation("%d bytes after the end record", len(p))
			return 0, d.err
		}
		if d.hdrN < headerLen {
			k := copy(d.hdr[d.hdrN:], p)
			d.hdrN += k
			p = p[k:]
			if d.hdrN < headerLen {
				break
			}
			if d.err = d.checkHeader(); d.err != nil {
				return 0, d.err
			}
			d.size = int(binary.LittleEndian.Uint32(d.hdr[1:]))
			d.got = 0
			d.payload = d.payload[:0]
		}
		// Data goes straight to the output; other payloads are small and
		// gathered whole.
		k := min(d.size-d.got, len(p))
		if d.hdr[0] == KindData {
			d.data.Write(p[:k])
		} else {
			d.payload = append(d.payload, p[:k]...)
		}
		d.got += k
		p = p[k:]
		if d.got == d.size {
			if d.err = d.record(d.hdr[0], d.payload); d.err != nil {
				return 0, d.err
			}
			d.hdrN = 0
		}
	}
	return n, nil
}

// checkHeader checks a record header before its payload arrives, so that
// an oversized record is refused without buffering it.
func (d *Decoder) checkHeader() error {
	kind := d.hdr[0]
	size := int64(binary.LittleEndian.Uint32(d.hdr[1:]))
	if !d.hello && kind != KindHello {
		return violation("first record is %s, want the hello record", kindName(kind))
	}
	switch kind {
	case KindHello:
		if d.hello {
			return violation("second hello record")
		}
		if size > maxHelloLen {
			return violation("hello record of %d bytes (at most %d)", size, maxHelloLen)
		}
	case KindData:
		if size > MaxChunk {
			return violation("data record of %d bytes (at most %d)", size, MaxChunk)
		}
		if d.MaxOutput > 0 && int64(d.data.Len())+size > d.MaxOutput {
			return violation("output exceeds the limit of %d bytes", d.MaxOutput)
		}
		// An empty data record is allowed; its header still has to fit.
	case KindAttribute:
		if size > maxNameLen+1+MaxAttrValue {
			return violation("attribute record of %d bytes (at most %d)", size, maxNameLen+1+MaxAttrValue)
		}
	case KindEnd:
		if size != 0 {
			return violation("end record with a %d-byte payload (want none)", size)
		}
	default:
		return violation("record of unknown kind %s", kindName(kind))
	}
	return nil
}

func (d *Decoder) record(kind byte, payload []byte) error {
	switch kind {
	case KindHello:
		fields := strings.Split(string(payload), " ")
		if len(fields) == 0 || fields[0] != Version {
			got := fields[0]
			if len(got) > 40 {
				got = got[:40] + "..."
			}
			return violation("plugin speaks %q, this host speaks %s", got, Version)
		}
		if len(fields) != 3 || !ValidName(fields[1]) || !validVersion(fields[2]) {
			return violation("hello record %q: want %q", truncate(payload), Version+" NAME VERSION")
		}
		d.hello, d.name, d.version = true, fields[1], fields[2]
	case KindAttribute:
		key, value, ok := strings.Cut(string(payload), "=")
		switch {
		case !ok || !ValidName(key):
			return violation("attribute %q: want key=value with a key of [a-z0-9._-]", truncate(payload))
		case key == AttrPlugin || key == AttrPluginVersion:
			return violation("attribute %q is the host's to set", key)
		case len(value) > MaxAttrValue || !utf8.ValidString(value):
			return violation("attribute %q: value must be at most %d bytes of UTF-8", key, MaxAttrValue)
		case len(d.attrs) >= MaxAttributes:
			return violation("more than %d attributes", MaxAttributes)
		}
		if _, dup := d.attrs[key]; dup {
			return violation("attribute %q set twice", key)
		}
		if d.attrs == nil {
			d.attrs = map[string]string{}
		}
		d.attrs[key] = value
	case KindEnd:
		d.end = true
	}
	return nil
}

// Finish checks that the output was complete: hello first, end last.
func (d *Decoder) Finish() error {
	switch {
	case d.err != nil:
		return d.err
	case !d.hello && d.hdrN == 0:
		return violation("no output (a plugin must write a hello record first)")
	case d.hdrN > 0:
		return violation("output ends inside a record")
	case !d.end:
		return violation("output ends without the end record")
	}
	return nil
}

// Err is the first rule the output broke, if any.
func (d *Decoder) Err() error { return d.err }

// Output returns the data, and the attributes with the host's own.
func (d *Decoder) Output() ([]byte, map[string]string) {
	attrs := map[string]string{AttrPlugin: d.name, AttrPluginVersion: d.version}
	for k, v := range d.attrs {
		attrs[k] = v
	}
	return d.data.Bytes(), attrs
}

// Plugin returns the name and version from the hello record.
func (d *Decoder) Plugin() (name, version string) { return d.name, d.version }

func kindName(k byte) string {
	if slices.Contains([]byte{KindHello, KindData, KindAttribute, KindEnd}, k) {
		return fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("0x%02x", k)
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}
