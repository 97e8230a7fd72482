package aggregator

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// span is the bytes [start, end) of a blob.
type span struct{ start, end int64 }

func (s span) len() int64 { return s.end - s.start }

// rangeKind is what a Range header asks of a representation.
type rangeKind int

const (
	// rangeWhole: no Range, or one to ignore (another unit, several
	// ranges): answer 200 with everything.
	rangeWhole rangeKind = iota
	// rangePartial: one satisfiable range: 206.
	rangePartial
	// rangeUnsatisfiable: 416, with Content-Range: bytes */size.
	rangeUnsatisfiable
)

// parseRange reads a Range header against a representation of size bytes,
// as RFC 9110 §14: every single range form (a-b, a-, -n); a last position
// past the end is clamped; a suffix longer than the blob is the whole blob.
// Policy where the RFC leaves a choice:
//   - a unit other than bytes is ignored (whole representation);
//   - several ranges are answered with the whole representation (200) when
//     any of them is satisfiable, not with multipart/byteranges, which
//     media players and CDNs do not ask for and which lets a client make
//     the server send the blob many times over;
//   - a malformed bytes range set is refused like an unsatisfiable one (416),
//     as Walrus and Go's file server do.
func parseRange(h string, size int64) (span, rangeKind) {
	if h == "" {
		return span{}, rangeWhole
	}
	unit, set, ok := strings.Cut(h, "=")
	if !ok {
		return span{}, rangeUnsatisfiable
	}
	if !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return span{}, rangeWhole
	}
	var specs []string
	for p := range strings.SplitSeq(set, ",") {
		if p = strings.TrimSpace(p); p != "" { // RFC 9110 §5.6.1: empty list elements are allowed
			specs = append(specs, p)
		}
	}
	if len(specs) == 0 {
		return span{}, rangeUnsatisfiable
	}
	satisfiable := false
	var first span
	for _, spec := range specs {
		s, ok, sat := parseRangeSpec(spec, size)
		if !ok {
			return span{}, rangeUnsatisfiable
		}
		if sat && !satisfiable {
			satisfiable, first = true, s
		}
	}
	switch {
	case !satisfiable:
		return span{}, rangeUnsatisfiable
	case len(specs) > 1:
		return span{}, rangeWhole
	}
	return first, rangePartial
}

// parseRangeSpec reads one range-spec: ok says it is well formed, sat that
// it overlaps the representation, and then s is the bytes it selects.
func parseRangeSpec(spec string, size int64) (s span, ok, sat bool) {
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return span{}, false, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" { // suffix: the last n bytes
		n, ok := parseDigits(b)
		if !ok {
			return span{}, false, false
		}
		if n == 0 || size == 0 {
			return span{}, true, false
		}
		return span{max(0, size-n), size}, true, true
	}
	first, ok := parseDigits(a)
	if !ok {
		return span{}, false, false
	}
	last := int64(math.MaxInt64)
	if b != "" {
		if last, ok = parseDigits(b); !ok || last < first {
			return span{}, false, false
		}
	}
	if first >= size {
		return span{}, true, false
	}
	end := size
	if last < size-1 {
		end = last + 1
	}
	return span{first, end}, true, true
}

// parseDigits reads a non-empty run of ASCII digits, saturating at
// MaxInt64 (positions beyond any blob are still positions).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + d
	}
	return v, true
}

// etagMatch reports whether an If-None-Match or If-Range value lists etag.
// weak selects RFC 9110's weak comparison (W/ prefixes ignored), which
// If-None-Match uses; If-Range needs the strong one.
func etagMatch(header, etag string, weak bool) bool {
	for {
		header = strings.TrimLeft(header, " \t,")
		if header == "" {
			return false
		}
		if header[0] == '*' {
			return true
		}
		isWeak := false
		if strings.HasPrefix(header, "W/") {
			isWeak, header = true, header[2:]
		}
		if header == "" || header[0] != '"' {
			return false
		}
		end := strings.IndexByte(header[1:], '"')
		if end < 0 {
			return false
		}
		tag := header[:end+2]
		header = header[end+2:]
		if tag == etag && (weak || !isWeak) {
			return true
		}
	}
}

// conditional is what the request's validators decide before any body is
// chosen.
type conditional int

const (
	condNone        conditional = iota
	condNotModified             // If-None-Match matched: 304
	condIgnoreRange             // If-Range did not match: serve everything
)

// evaluateConditions applies If-None-Match (GET and HEAD: 304 on a match)
// and If-Range (a range only if the validator is our strong ETag; we send
// no Last-Modified, so a date never matches) as RFC 9110 §13.2.2 orders
// them. If-Match and the date conditions are not evaluated: blob
// representations never change.
func evaluateConditions(r *http.Request, etag string) conditional {
	if inm := r.Header.Get("If-None-Match"); inm != "" && (etagMatch(inm, etag, true) || unquotedMatch(inm, etag)) {
		return condNotModified
	}
	if ir := r.Header.Get("If-Range"); ir != "" && r.Header.Get("Range") != "" {
		if ir = strings.TrimSpace(ir); !strings.HasPrefix(ir, `"`) || ir != etag {
			return condIgnoreRange
		}
	}
	return condNone
}

// unquotedMatch accepts the bare blob ID that Walrus's aggregators send as
// their (unquoted) ETag, so that clients and caches that kept one still
// revalidate.
func unquotedMatch(header, etag string) bool {
	h := strings.TrimSpace(header)
	return len(h) > 0 && h[0] != '"' && h == strings.Trim(etag, `"`)
}

// requestedSpan applies the request's Range header to a body of size bytes:
// the whole body, or one satisfiable range (partial), or, for an
// unsatisfiable one, the 416 error with Content-Range: bytes */size set as
// RFC 9110 asks. Blob, quilt-patch and site responses all answer ranges
// through it.
func requestedSpan(c echo.Context, size int64) (s span, partial bool, err error) {
	rh := c.Request().Header.Get("Range")
	sp, kind := parseRange(rh, size)
	switch kind {
	case rangeUnsatisfiable:
		c.Response().Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		return span{}, false, errRangeNotSatisfiable(rh, size)
	case rangePartial:
		return sp, true, nil
	}
	return span{0, size}, false, nil
}
