package site

import (
	"strings"
)

// Kind is what a request path resolves to.
type Kind int

// The outcomes of Resolve.
const (
	// KindResource serves Resolution.Resource with Resolution.Status: 200,
	// or 404 when the resource is the site's /404.html.
	KindResource Kind = iota
	// KindRedirect answers Resolution.Status (3xx) with Location.
	KindRedirect
	// KindRedirectLoop is a redirect rule that points at the path itself
	// (Walrus's portal answers 508).
	KindRedirectLoop
	// KindNotFound: no resource, redirect, route or /404.html.
	KindNotFound
)

func (k Kind) String() string {
	switch k {
	case KindResource:
		return "resource"
	case KindRedirect:
		return "redirect"
	case KindRedirectLoop:
		return "redirect-loop"
	case KindNotFound:
		return "not-found"
	}
	return "unknown"
}

// NotFoundPath is the site's own 404 page.
const NotFoundPath = "/404.html"

// Resolution is the answer to one request path.
type Resolution struct {
	Kind Kind
	// Path is the normalized request path.
	Path string
	// Resource is what to serve (KindResource).
	Resource *Resource
	// Status is the HTTP status to answer with.
	Status int
	// Location is the redirect's target (KindRedirect).
	Location string
	// Rule is the route or redirect pattern that matched, if any.
	Rule string
}

// NormalizePath turns a request's decoded URL path into a resource path as
// Walrus's portal does: "" and "/" are /index.html; one trailing slash is
// dropped (/docs/ is /docs, not /docs/index.html).
func NormalizePath(p string) string {
	if p == "" || p == "/" {
		return "/index.html"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

// Resolve answers a request for path (decoded, as in URL.Path) as Walrus's
// portal does: the resource at the path; else the most specific matching
// redirect (a redirect to the path itself is a loop); else the longest
// matching route's target; else the site's /404.html, with status 404;
// else not found. It is pure: it reads only m.
func Resolve(m *Manifest, path string) Resolution {
	p := NormalizePath(path)
	if r := m.Lookup(p); r != nil {
		st := 200
		if p == NotFoundPath {
			st = 404
		}
		return Resolution{Kind: KindResource, Path: p, Resource: r, Status: st}
	}
	if rd := matchRedirect(m.Redirects, p); rd != nil {
		if rd.Location == p {
			return Resolution{Kind: KindRedirectLoop, Path: p, Status: 508, Location: rd.Location, Rule: rd.Pattern}
		}
		return Resolution{Kind: KindRedirect, Path: p, Status: rd.Status, Location: rd.Location, Rule: rd.Pattern}
	}
	if rt := matchRoute(m.Routes, p); rt != nil {
		if r := m.Lookup(rt.Target); r != nil {
			return Resolution{Kind: KindResource, Path: p, Resource: r, Status: 200, Rule: rt.Pattern}
		}
	}
	if r := m.Lookup(NotFoundPath); r != nil {
		return Resolution{Kind: KindResource, Path: p, Resource: r, Status: 404}
	}
	return Resolution{Kind: KindNotFound, Path: p, Status: 404}
}

// matchRoute returns the route with the longest pattern matching p, as
// Walrus's portal's legacy routing does ('*' is ".*", anchored).
func matchRoute(routes []Route, p string) *Route {
	var best *Route
	for i := range routes {
		rt := &routes[i]
		if wildcardMatch(rt.Pattern, p) && (best == nil || len(rt.Pattern) > len(best.Pattern)) {
			best = rt
		}
	}
	return best
}

// wildcardMatch reports whether s matches pattern, in which '*' matches
// any run of characters and everything else itself. It runs in
// O(len(pattern)*len(s)) at worst (greedy with one backtrack point).
func wildcardMatch(pattern, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// matchRedirect returns the most specific redirect whose pattern matches
// p segment by segment.
func matchRedirect(rules []Redirect, p string) *Redirect {
	var best *Redirect
	var bestScore specificity
	segs := strings.Split(p, "/")
	for i := range rules {
		rd := &rules[i]
		pat := strings.Split(rd.Pattern, "/")
		if !globMatch(pat, segs) {
			continue
		}
		sc := specificityOf(pat)
		if best == nil || sc.more(bestScore) {
			best, bestScore = rd, sc
		}
	}
	return best
}

// globMatch matches path segments: a pattern segment '**' matches any
// number of segments, and '*' inside a segment any run of characters but
// '/'. Dynamic programming over (pattern, path) suffixes keeps it
// O(len(pat)*len(segs)) segment matches whatever the pattern.
func globMatch(pat, segs []string) bool {
	// ok[j]: pat[i:] matches segs[j:], for the current i, from the end.
	ok := make([]bool, len(segs)+1)
	ok[len(segs)] = true
	for i := len(pat) - 1; i >= 0; i-- {
		next := make([]bool, len(segs)+1)
		if pat[i] == "**" {
			next[len(segs)] = ok[len(segs)]
			for j := len(segs) - 1; j >= 0; j-- {
				next[j] = ok[j] || next[j+1]
			}
		} else {
			for j := len(segs) - 1; j >= 0; j-- {
				next[j] = ok[j+1] && wildcardMatch(pat[i], segs[j])
			}
		}
		ok = next
	}
	return ok[0]
}

// specificity orders matching patterns: fewer '**', then more literal
// segments, then more literal characters.
type specificity struct{ deep, literalSegs, literalChars int }

func specificityOf(pat []string) specificity {
	var s specificity
	for _, seg := range pat {
		switch {
		case seg == "**":
			s.deep++
		case !strings.Contains(seg, "*"):
			s.literalSegs++
			s.literalChars += len(seg)
		default:
			s.literalChars += len(seg) - strings.Count(seg, "*")
		}
	}
	return s
}

func (a specificity) more(b specificity) bool {
	if a.deep != b.deep {
		return a.deep < b.deep
	}
	if a.literalSegs != b.literalSegs {
		return a.literalSegs > b.literalSegs
	}
	return a.literalChars > b.literalChars
}
