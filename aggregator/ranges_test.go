package aggregator

import (
	"net/http"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 100
	tests := []struct {
		h    string
		size int64
		want span
		kind rangeKind
	}{
		{"", size, span{}, rangeWhole},
		{"bytes=0-0", size, span{0, 1}, rangePartial},        // first byte
		{"bytes=99-99", size, span{99, 100}, rangePartial},   // last byte
		{"bytes=0-99", size, span{0, 100}, rangePartial},     // everything, as a range
		{"bytes=10-19", size, span{10, 20}, rangePartial},    // a-b
		{"bytes=90-", size, span{90, 100}, rangePartial},     // a-
		{"bytes=-10", size, span{90, 100}, rangePartial},     // -n
		{"bytes=-1", size, span{99, 100}, rangePartial},      // last byte as a suffix
		{"bytes=-100", size, span{0, 100}, rangePartial},     // suffix = size
		{"bytes=-1000", size, span{0, 100}, rangePartial},    // suffix longer than the blob
		{"bytes=50-1000", size, span{50, 100}, rangePartial}, // last position past the end: clamped
		{"bytes=0-99999999999999999999999", size, span{0, 100}, rangePartial},
		{"bytes=100-", size, span{}, rangeUnsatisfiable},    // first position at the end
		{"bytes=100-200", size, span{}, rangeUnsatisfiable}, // past the end
		{"bytes=99999999999999999999999-", size, span{}, rangeUnsatisfiable},
		{"bytes=-0", size, span{}, rangeUnsatisfiable},              // empty suffix
		{"bytes=20-10", size, span{}, rangeUnsatisfiable},           // malformed: last < first
		{"bytes=abc", size, span{}, rangeUnsatisfiable},             // malformed
		{"bytes=1-2-3", size, span{}, rangeUnsatisfiable},           // malformed
		{"bytes=+1-2", size, span{}, rangeUnsatisfiable},            // malformed: sign
		{"bytes=", size, span{}, rangeUnsatisfiable},                // no range
		{"bytes=,", size, span{}, rangeUnsatisfiable},               // no range
		{"bytes", size, span{}, rangeUnsatisfiable},                 // no '='
		{"bytes= 5 - 9 ", size, span{5, 10}, rangePartial},          // whitespace
		{"BYTES=5-9", size, span{5, 10}, rangePartial},              // unit is case-insensitive
		{"bytes=5-9,", size, span{5, 10}, rangePartial},             // empty list element
		{"items=0-5", size, span{}, rangeWhole},                     // other unit: ignored
		{"bytes=0-5,10-20", size, span{}, rangeWhole},               // several: the whole blob
		{"bytes=200-300,0-5", size, span{}, rangeWhole},             // several, one satisfiable
		{"bytes=200-300,300-400", size, span{}, rangeUnsatisfiable}, // several, none satisfiable
		{"bytes=0-5,x", size, span{}, rangeUnsatisfiable},           // several, one malformed
		{"bytes=0-0", 0, span{}, rangeUnsatisfiable},                // empty blob
		{"bytes=-5", 0, span{}, rangeUnsatisfiable},                 // empty blob, suffix
		{"bytes=0-", 0, span{}, rangeUnsatisfiable},                 // empty blob, open
		{"bytes=0-", 1, span{0, 1}, rangePartial},                   // one-byte blob
		{"bytes=-2", 1, span{0, 1}, rangePartial},                   // suffix longer than a one-byte blob
	}
	for _, tt := range tests {
		got, kind := parseRange(tt.h, tt.size)
		if kind != tt.kind || (kind == rangePartial && got != tt.want) {
			t.Errorf("parseRange(%q, %d) = %v %d, want %v %d", tt.h, tt.size, got, kind, tt.want, tt.kind)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=1-2,3-4", "bytes= 7 - 9 ", "items=1-2", "bytes=99999999999999999999-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		s, kind := parseRange(h, size)
		if kind == rangePartial && (s.start < 0 || s.start >= s.end || s.end > size) {
			t.Fatalf("parseRange(%q, %d) = %v outside the blob", h, size, s)
		}
	})
}

func TestEtagMatch(t *testing.T) {
	const etag = `"abc"`
	tests := []struct {
		h           string
		weak, match bool
	}{
		{`"abc"`, true, true},
		{`"abc"`, false, true},
		{`W/"abc"`, true, true},
		{`W/"abc"`, false, false},
		{`*`, true, true},
		{`"x", "abc"`, true, true},
		{`"x",W/"abc"`, true, true},
		{`"x"`, true, false},
		{`abc`, true, false},
		{`"ab`, true, false},
		{``, true, false},
	}
	for _, tt := range tests {
		if got := etagMatch(tt.h, etag, tt.weak); got != tt.match {
			t.Errorf("etagMatch(%q, weak=%v) = %v, want %v", tt.h, tt.weak, got, tt.match)
		}
	}
}

func TestEvaluateConditions(t *testing.T) {
	const etag = `"abc"`
	tests := []struct {
		headers map[string]string
		want    conditional
	}{
		{nil, condNone},
		{map[string]string{"If-None-Match": `"abc"`}, condNotModified},
		{map[string]string{"If-None-Match": `"x"`}, condNone},
		{map[string]string{"If-None-Match": `abc`}, condNotModified}, // Walrus's unquoted ETag
		{map[string]string{"If-None-Match": `ab`}, condNone},
		{map[string]string{"If-None-Match": `"x"`, "Range": "bytes=0-1", "If-Range": `"x"`}, condIgnoreRange},
		{map[string]string{"Range": "bytes=0-1", "If-Range": `"abc"`}, condNone},
		{map[string]string{"Range": "bytes=0-1", "If-Range": `W/"abc"`}, condIgnoreRange},
		{map[string]string{"Range": "bytes=0-1", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}, condIgnoreRange},
		{map[string]string{"If-Range": `"x"`}, condNone}, // no Range: nothing to ignore
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		if got := evaluateConditions(r, etag); got != tt.want {
			t.Errorf("evaluateConditions(%v) = %d, want %d", tt.headers, got, tt.want)
		}
	}
}

func FuzzConditionalHeaders(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc", "x"`, `*`, `abc`, `"a`, `W/`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		etagMatch(h, `"abc"`, true)
		etagMatch(h, `"abc"`, false)
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("If-None-Match", h)
		r.Header.Set("If-Range", h)
		r.Header.Set("Range", "bytes=0-1")
		evaluateConditions(r, `"abc"`)
	})
}
