package site

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/haulout/haulout/codec"
)

// ErrInvalidManifest is wrapped by every error about a manifest's content
// or encoding.
var ErrInvalidManifest = errors.New("invalid site manifest")

// ManifestVersion is the only manifest format there is.
const ManifestVersion = 1

// Limits of a manifest, so that a hostile blob cannot make a reader
// allocate without bound.
const (
	MaxResources    = 100_000
	MaxRules        = 1000 // routes, redirects
	MaxPatternLen   = 1024
	MaxHeaders      = 64 // per resource
	MaxStringLength = 64 << 10
)

// Manifest is a site: what Walrus keeps as dynamic fields of a Site object,
// kept here in one blob. Resources, routes and redirects are sorted by path
// or pattern and unique, so that equal sites have equal encodings.
type Manifest struct {
	Version uint8 `json:"version"`
	// Name is the site's name (ws-resources.json site_name).
	Name string `json:"name"`
	// Nonce makes the first manifest of every site a new blob, so that its
	// Blob object, whose ID is the site ID, belongs to this site alone.
	Nonce     Nonce      `json:"nonce"`
	Metadata  Metadata   `json:"metadata"`
	Resources []Resource `json:"resources"`
	Routes    []Route    `json:"routes"`
	Redirects []Redirect `json:"redirects"`
}

// Nonce is 16 random bytes, written in hex.
type Nonce [16]byte

// MarshalText implements encoding.TextMarshaler.
func (n Nonce) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%x", n[:]), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (n *Nonce) UnmarshalText(b []byte) error {
	if len(b) != 2*len(n) {
		return fmt.Errorf("%w: nonce %q: want %d hex digits", ErrInvalidManifest, clip(string(b)), 2*len(n))
	}
	if _, err := hex.Decode(n[:], b); err != nil {
		return fmt.Errorf("%w: nonce %q: not hex", ErrInvalidManifest, clip(string(b)))
	}
	return nil
}

// Metadata is a site's display metadata, Walrus's Site fields.
type Metadata struct {
	Link        string `json:"link,omitempty"`
	ImageURL    string `json:"image_url,omitempty"`
	Description string `json:"description,omitempty"`
	ProjectURL  string `json:"project_url,omitempty"`
	Creator     string `json:"creator,omitempty"`
}

func (m *Metadata) fields() []*string {
	return []*string{&m.Link, &m.ImageURL, &m.Description, &m.ProjectURL, &m.Creator}
}

// Resource is one file of a site, Walrus's Resource: its path (the quilt
// patch identifier too), where its bytes are, its headers and the SHA-256
// of its bytes, which a server checks before serving them.
type Resource struct {
	// Path starts with '/', e.g. /index.html.
	Path  string             `json:"path"`
	Patch codec.QuiltPatchID `json:"patchId"`
	// Headers have lower-case names; content-type is always among them.
	Headers map[string]string `json:"headers"`
	SHA256  Hash              `json:"sha256"`
	Size    uint64            `json:"size"`
}

// Header returns the value of the header name (lower case), or "".
func (r *Resource) Header(name string) string { return r.Headers[name] }

// Hash is a SHA-256, written in standard base64 as Walrus's portal compares
// it.
type Hash [32]byte

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(h[:])), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(raw) != len(h) {
		return fmt.Errorf("%w: hash %q: want base64 of 32 bytes", ErrInvalidManifest, clip(string(b)))
	}
	copy(h[:], raw)
	return nil
}

// Route serves the resource Target for paths matching Pattern that have
// no resource of their own (client-side routing). In Pattern, '*' matches
// any run of characters, '/' included; the longest matching pattern wins.
type Route struct {
	Pattern string `json:"pattern"`
	Target  string `json:"target"`
}

// Redirect answers paths matching Pattern that have no resource with
// Status and a Location header. In Pattern, '*' matches one path segment
// and a whole segment '**' any number of them; the most specific
// matching pattern wins.
type Redirect struct {
	Pattern  string `json:"pattern"`
	Location string `json:"location"`
	Status   int    `json:"status"`
}

// RedirectStatuses are the statuses a redirect may have, Walrus's.
var RedirectStatuses = []int{301, 302, 303, 307, 308}

// Lookup returns the resource at path, or nil.
func (m *Manifest) Lookup(path string) *Resource {
	i, ok := slices.BinarySearchFunc(m.Resources, path, func(r Resource, p string) int { return strings.Compare(r.Path, p) })
	if !ok {
		return nil
	}
	return &m.Resources[i]
}

// Quilts returns the quilt blobs the resources live in, sorted.
func (m *Manifest) Quilts() []codec.BlobID {
	var out []codec.BlobID
	for _, r := range m.Resources {
		out = append(out, r.Patch.Quilt)
	}
	slices.SortFunc(out, func(a, b codec.BlobID) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// Normalize sorts resources, routes and redirects and lower-cases header
// names: what Validate then checks.
func (m *Manifest) Normalize() {
	m.Version = ManifestVersion
	for i := range m.Resources {
		r := &m.Resources[i]
		h := make(map[string]string, len(r.Headers))
		for k, v := range r.Headers {
			h[strings.ToLower(k)] = v
		}
		r.Headers = h
	}
	slices.SortFunc(m.Resources, func(a, b Resource) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(m.Routes, func(a, b Route) int { return strings.Compare(a.Pattern, b.Pattern) })
	slices.SortFunc(m.Redirects, func(a, b Redirect) int { return strings.Compare(a.Pattern, b.Pattern) })
}

// Validate checks everything a reader relies on: version, sorted and
// unique paths and patterns, paths that are quilt identifiers starting
// with '/', valid header names and values, route targets that exist,
// redirect statuses, and the limits.
func (m *Manifest) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidManifest, fmt.Sprintf(format, a...))
	}
	if m.Version != ManifestVersion {
		return bad("version %d, want %d", m.Version, ManifestVersion)
	}
	if len(m.Resources) > MaxResources || len(m.Routes) > MaxRules || len(m.Redirects) > MaxRules {
		return bad("%d resources, %d routes, %d redirects: at most %d, %d, %d",
			len(m.Resources), len(m.Routes), len(m.Redirects), MaxResources, MaxRules, MaxRules)
	}
	for _, s := range append([]*string{&m.Name}, m.Metadata.fields()...) {
		if len(*s) > MaxStringLength {
			return bad("a name or metadata field of %d bytes, at most %d", len(*s), MaxStringLength)
		}
	}
	for i := range m.Resources {
		r := &m.Resources[i]
		if err := ValidPath(r.Path); err != nil {
			return bad("resource: %v", err)
		}
		if i > 0 && m.Resources[i-1].Path >= r.Path {
			return bad("resources not sorted and unique at %q", clip(r.Path))
		}
		if len(r.Headers) > MaxHeaders {
			return bad("resource %q has %d headers, at most %d", clip(r.Path), len(r.Headers), MaxHeaders)
		}
		for k, v := range r.Headers {
			if k != strings.ToLower(k) || !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) || len(v) > MaxStringLength {
				return bad("resource %q: header %q: %q is not a lower-case header name and a valid value", clip(r.Path), clip(k), clip(v))
			}
		}
		if r.Headers["content-type"] == "" {
			return bad("resource %q has no content-type", clip(r.Path))
		}
	}
	for i, rt := range m.Routes {
		if err := validPattern(rt.Pattern); err != nil {
			return bad("route: %v", err)
		}
		if i > 0 && m.Routes[i-1].Pattern >= rt.Pattern {
			return bad("routes not sorted and unique at %q", clip(rt.Pattern))
		}
		if m.Lookup(rt.Target) == nil {
			return bad("route %q: target %q is not a resource of the site", clip(rt.Pattern), clip(rt.Target))
		}
	}
	for i, rd := range m.Redirects {
		if err := validPattern(rd.Pattern); err != nil {
			return bad("redirect: %v", err)
		}
		if i > 0 && m.Redirects[i-1].Pattern >= rd.Pattern {
			return bad("redirects not sorted and unique at %q", clip(rd.Pattern))
		}
		if !slices.Contains(RedirectStatuses, rd.Status) {
			return bad("redirect %q: status %d is not one of %v", clip(rd.Pattern), rd.Status, RedirectStatuses)
		}
		if rd.Location == "" || len(rd.Location) > MaxStringLength || !httpguts.ValidHeaderFieldValue(rd.Location) {
			return bad("redirect %q: location %q is empty or not a valid header value", clip(rd.Pattern), clip(rd.Location))
		}
	}
	return nil
}

// ValidPath checks a resource path: it starts with '/', is a valid quilt
// identifier, has no empty, "." or ".." segment and does not end with '/'.
func ValidPath(p string) error {
	if !strings.HasPrefix(p, "/") || p == "/" || strings.HasSuffix(p, "/") {
		return fmt.Errorf("path %q: want /name, /dir/name, ...", clip(p))
	}
	if err := codec.ValidateQuiltIdentifier(p); err != nil {
		return fmt.Errorf("path %q: %w", clip(p), err)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("path %q: empty, . or .. segment", clip(p))
		}
	}
	return nil
}

func validPattern(p string) error {
	if !strings.HasPrefix(p, "/") || len(p) > MaxPatternLen || !utf8.ValidString(p) {
		return fmt.Errorf("pattern %q: want a path starting with /, at most %d bytes", clip(p), MaxPatternLen)
	}
	return nil
}

// MarshalJSON writes the manifest with empty lists as [] rather than null.
func (m *Manifest) MarshalJSON() ([]byte, error) {
	type plain Manifest
	c := plain(*m)
	if c.Resources == nil {
		c.Resources = []Resource{}
	}
	if c.Routes == nil {
		c.Routes = []Route{}
	}
	if c.Redirects == nil {
		c.Redirects = []Redirect{}
	}
	return json.Marshal(&c)
}

// ParseManifestJSON reads the JSON form of a manifest and validates it.
// Unknown fields are refused.
func ParseManifestJSON(b []byte) (*Manifest, error) {
	var m Manifest
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidManifest)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
