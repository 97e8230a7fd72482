package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

func patchID(quilt byte, start uint16) codec.QuiltPatchID {
	var q codec.BlobID
	q[0] = quilt
	return codec.QuiltPatchID{Quilt: q, Patch: codec.QuiltPatchInternalID{Start: start, End: start + 1}}
}

func res(path string, quilt byte, start uint16, content string) Resource {
	return Resource{Path: path, Patch: patchID(quilt, start), SHA256: sha256.Sum256([]byte(content)), Size: uint64(len(content)),
		Headers: map[string]string{"content-type": ContentType(path), "content-encoding": "identity"}}
}

// testManifest is a site with every kind of rule.
func testManifest(t testing.TB) *Manifest {
	m := &Manifest{
		Name:     "test",
		Metadata: Metadata{Description: "a test site"},
		Resources: []Resource{
			res("/index.html", 1, 1, "index"),
			res("/about.html", 1, 2, "about"),
			res("/404.html", 1, 3, "not found"),
			res("/app/shell.html", 1, 4, "shell"),
			res("/docs", 1, 5, "docs file"),
			res("/img/a b.png", 2, 1, "png"),
		},
		Routes: []Route{
			{"/app/*", "/app/shell.html"},
			{"/*", "/index.html"},
			{"/app/admin/*", "/about.html"},
		},
		Redirects: []Redirect{
			{"/old", "/about.html", 301},
			{"/blog/*", "/news.html", 302},
			{"/blog/special", "/special.html", 307},
			{"/legacy/**", "https://example.com/", 308},
			{"/loop", "/loop", 302},
		},
	}
	m.Normalize()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolveOrder(t *testing.T) {
	m := testManifest(t)
	noRoutes := *m
	noRoutes.Routes = nil
	no404 := *m
	no404.Routes = nil
	no404.Resources = slices.DeleteFunc(slices.Clone(m.Resources), func(r Resource) bool { return r.Path == NotFoundPath })
	cases := []struct {
		name     string
		m        *Manifest
		path     string
		kind     Kind
		status   int
		resource string
		location string
	}{
		{"root is index", m, "/", KindResource, 200, "/index.html", ""},
		{"empty is index", m, "", KindResource, 200, "/index.html", ""},
		{"resource", m, "/about.html", KindResource, 200, "/about.html", ""},
		{"resource with a space", m, "/img/a b.png", KindResource, 200, "/img/a b.png", ""},
		{"one trailing slash dropped", m, "/docs/", KindResource, 200, "/docs", ""},
		{"404 page itself is 404", m, "/404.html", KindResource, 404, "/404.html", ""},
		{"resource before redirect", &Manifest{Version: 1, Resources: m.Resources, Redirects: []Redirect{{"/about.html", "/x", 301}}}, "/about.html", KindResource, 200, "/about.html", ""},
		{"redirect", m, "/old", KindRedirect, 301, "", "/about.html"},
		{"redirect one segment", m, "/blog/post-1", KindRedirect, 302, "", "/news.html"},
		{"star is one segment", &noRoutes, "/blog/a/b", KindResource, 404, "/404.html", ""},
		{"most specific redirect", m, "/blog/special", KindRedirect, 307, "", "/special.html"},
		{"double star", m, "/legacy/a/b/c", KindRedirect, 308, "", "https://example.com/"},
		{"redirect to itself", m, "/loop", KindRedirectLoop, 508, "", "/loop"},
		{"redirect before route", m, "/old", KindRedirect, 301, "", "/about.html"},
		{"route", m, "/app/settings/profile", KindResource, 200, "/app/shell.html", ""},
		{"longest route wins", m, "/app/admin/users", KindResource, 200, "/about.html", ""},
		{"catch-all route", m, "/anything", KindResource, 200, "/index.html", ""},
		{"404 page after routes", &noRoutes, "/nothing", KindResource, 404, "/404.html", ""},
		{"not found", &no404, "/nothing", KindNotFound, 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Resolve(tc.m, tc.path)
			if got.Kind != tc.kind || got.Status != tc.status || got.Location != tc.location {
				t.Fatalf("Resolve(%q) = %v %d %q, want %v %d %q", tc.path, got.Kind, got.Status, got.Location, tc.kind, tc.status, tc.location)
			}
			if tc.resource != "" && (got.Resource == nil || got.Resource.Path != tc.resource) {
				t.Fatalf("Resolve(%q) serves %v, want %s", tc.path, got.Resource, tc.resource)
			}
			if tc.resource == "" && got.Resource != nil {
				t.Fatalf("Resolve(%q) serves %s, want nothing", tc.path, got.Resource.Path)
			}
		})
	}
}

func TestWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"/app/*", "/app/x/y", true}, {"/app/*", "/app/", true}, {"/app/*", "/ap", false},
		{"*", "", true}, {"/*.html", "/a/b.html", true}, {"/*.html", "/a/b.htm", false},
		{"/a*b*c", "/aXbYc", true}, {"/a*b*c", "/aXbY", false}, {"/exact", "/exact", true}, {"/exact", "/exact2", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"/blog/*", "/blog/a", true}, {"/blog/*", "/blog/a/b", false}, {"/blog/**", "/blog/a/b", true},
		{"/blog/**", "/blog", true}, {"/**/x", "/a/b/x", true}, {"/**/x", "/a/b/y", false}, {"/**", "/", true},
	} {
		if got := globMatch(strings.Split(tc.pattern, "/"), strings.Split(tc.s, "/")); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
	// Many '**' against a long path stay polynomial.
	long := strings.Repeat("/a", 2000) + "/b"
	if globMatch(strings.Split("/**/**/**/**/**/**/c", "/"), strings.Split(long, "/")) {
		t.Error("matched a path without c")
	}
}

func TestBase36(t *testing.T) {
	var zero, max, small chain.ObjectID
	for i := range max {
		max[i] = 0xff
	}
	small[31] = 35
	oid, _ := chain.ParseObjectID("0x5f1c2ea4e39d2b4c38aa1f14e1b5be41b1b1e6c9a3b0d0d2e5d8f3ac0e0b4a11")
	for _, id := range []chain.ObjectID{zero, max, small, oid} {
		s := Base36(id)
		if len(s) > 63 {
			t.Errorf("%s: %d characters, longer than a DNS label", id, len(s))
		}
		got, err := ParseBase36(s)
		if err != nil || got != id {
			t.Errorf("ParseBase36(Base36(%s) = %q) = %s, %v", id, s, got, err)
		}
		if got, err := ParseBase36(strings.ToUpper(s)); err != nil || got != id {
			t.Errorf("upper case %q: %s, %v", s, got, err)
		}
		if got, err := ParseSiteID(id.String()); err != nil || got != id {
			t.Errorf("ParseSiteID(%s) = %s, %v", id, got, err)
		}
	}
	if s := Base36(small); s != strings.Repeat("0", 31)+"z" {
		t.Errorf("Base36(35 with 31 zero bytes) = %q: want a '0' per leading zero byte, as base-x", s)
	}
	// A plain number without the leading zeros decodes the same.
	if got, err := ParseBase36("z"); err != nil || got != small {
		t.Errorf("ParseBase36(z) = %s, %v", got, err)
	}
	for _, bad := range []string{"", "not-base36!", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", strings.Repeat("1", 65)} {
		if _, err := ParseBase36(bad); !errors.Is(err, ErrInvalidSiteID) {
			t.Errorf("ParseBase36(%q): %v, want ErrInvalidSiteID", bad, err)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := testManifest(t)
	m.Nonce[3] = 7
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := got.Encode()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	js, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseManifestJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if b3, _ := fromJSON.Encode(); !bytes.Equal(b, b3) {
		t.Fatalf("JSON round trip changed the manifest: %s", js)
	}
	// Every truncation and a trailing byte are refused.
	for n := range len(b) {
		if _, err := DecodeManifest(b[:n]); err == nil {
			t.Fatalf("a manifest cut to %d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := DecodeManifest(append(b, 0)); !errors.Is(err, ErrInvalidManifest) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestManifestValidate(t *testing.T) {
	for name, change := range map[string]func(m *Manifest){
		"relative path":      func(m *Manifest) { m.Resources[0].Path = "index.html" },
		"dot dot":            func(m *Manifest) { m.Resources[0].Path = "/a/../b" },
		"unsorted":           func(m *Manifest) { m.Resources[0], m.Resources[1] = m.Resources[1], m.Resources[0] },
		"duplicate":          func(m *Manifest) { m.Resources[1].Path = m.Resources[0].Path },
		"upper-case header":  func(m *Manifest) { m.Resources[0].Headers["Content-Type"] = "x" },
		"no content-type":    func(m *Manifest) { delete(m.Resources[0].Headers, "content-type") },
		"bad header value":   func(m *Manifest) { m.Resources[0].Headers["x"] = "a\nb" },
		"route to nothing":   func(m *Manifest) { m.Routes[0].Target = "/nope.html" },
		"redirect status":    func(m *Manifest) { m.Redirects[0].Status = 200 },
		"redirect no target": func(m *Manifest) { m.Redirects[0].Location = "" },
		"pattern":            func(m *Manifest) { m.Routes[0].Pattern = "app/*" },
		"version":            func(m *Manifest) { m.Version = 2 },
	} {
		m := testManifest(t)
		change(m)
		if err := m.Validate(); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("%s: Validate = %v, want ErrInvalidManifest", name, err)
		}
		if _, err := m.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestParseWSResources(t *testing.T) {
	ws, err := ParseWSResources(mustRead(t, "testdata/demo-site/ws-resources.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Ignored("/drafts/secret.html") || ws.Ignored("/index.html") {
		t.Error("ignore /drafts/* not applied")
	}
	h := ws.HeadersFor("/about.html", map[string]string{"Content-Type": "text/html"})
	if h["x-demo-page"] != "yes" || h["content-type"] != "text/html" {
		t.Errorf("headers of /about.html: %v", h)
	}
	if h := ws.HeadersFor("/data.json", map[string]string{"content-type": "application/json"}); h["content-type"] != "application/json; charset=utf-8" {
		t.Errorf("ws-resources content-type does not override the default: %v", h)
	}
	routes, redirects := ws.rules()
	if len(routes) != 1 || routes[0] != (Route{"/app/*", "/index.html"}) || len(redirects) != 1 || redirects[0].Status != 301 {
		t.Errorf("rules: %v %v", routes, redirects)
	}
	for name, bad := range map[string]string{
		"unknown key":     `{"header": {}}`,
		"redirect status": `{"redirects": {"/a": {"location": "/b", "status_code": 200}}}`,
		"route target":    `{"routes": {"/a/*": "index.html"}}`,
		"ignore wildcard": `{"ignore": ["/a/*/b"]}`,
		"not JSON":        `{`,
		"trailing":        `{} {}`,
		"unknown nested":  `{"metadata": {"author": "x"}}`,
	} {
		if _, err := ParseWSResources([]byte(bad)); !errors.Is(err, ErrInvalidWSResources) {
			t.Errorf("%s: %v, want ErrInvalidWSResources", name, err)
		}
	}
}

func mustRead(t testing.TB, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanDemoSite(t *testing.T) {
	ws, err := ParseWSResources(mustRead(t, "testdata/demo-site/ws-resources.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Scan("testdata/demo-site", ws)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if want := sha256.Sum256(mustRead(t, f.Source)); Hash(want) != f.SHA256 {
			t.Errorf("%s: wrong SHA-256", f.Path)
		}
	}
	want := []string{"/404.html", "/about.html", "/app.js", "/data.json", "/images/logo.png", "/images/wave.svg", "/index.html", "/style.css"}
	if !slices.Equal(paths, want) {
		t.Fatalf("scanned %v, want %v (no ws-resources.json, no drafts)", paths, want)
	}
	for _, f := range files {
		if f.Path == "/images/logo.png" && f.Headers["content-type"] != "image/png" {
			t.Errorf("logo.png: %v", f.Headers)
		}
	}
}

func TestPlan(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "index")
	write("about.html", "about")
	write("img/a b.png", "png")
	files, err := Scan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A new site uploads everything.
	p := NewPlan(nil, files, nil)
	if len(p.Upload) != 3 || len(p.Keep) != 0 {
		t.Fatalf("new site: %d to upload, %d kept", len(p.Upload), len(p.Keep))
	}
	prev := &Manifest{Resources: []Resource{res("/index.html", 1, 1, "index"), res("/about.html", 1, 2, "about v0"),
		res("/img/a b.png", 2, 1, "png"), res("/gone.html", 1, 3, "gone")}}
	prev.Normalize()
	p = NewPlan(prev, files, nil)
	if got := paths(p.Upload); !slices.Equal(got, []string{"/about.html"}) {
		t.Errorf("upload %v, want the changed /about.html only", got)
	}
	if len(p.Keep) != 2 || !slices.Equal(p.Removed, []string{"/gone.html"}) {
		t.Errorf("keep %d, removed %v", len(p.Keep), p.Removed)
	}
	// Files in a quilt that is gone are uploaded again.
	p = NewPlan(prev, files, func(q codec.BlobID) bool { return q[0] == 2 })
	if got := paths(p.Upload); !slices.Equal(got, []string{"/about.html", "/img/a b.png"}) {
		t.Errorf("with quilt 2 gone: upload %v", got)
	}
	rs := p.Resources(map[string]codec.QuiltPatchID{"/about.html": patchID(9, 1), "/img/a b.png": patchID(9, 2)})
	m := &Manifest{Version: 1, Resources: rs}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := m.Lookup("/index.html"); r == nil || r.Patch != patchID(1, 1) {
		t.Errorf("kept resource lost its patch: %v", r)
	}
	if r := m.Lookup("/about.html"); r == nil || r.Patch != patchID(9, 1) {
		t.Errorf("uploaded resource: %v", r)
	}
	// Batches respect both bounds.
	p = NewPlan(nil, files, nil)
	if b := p.Batches(2, 1<<20); len(b) != 2 || len(b[0]) != 2 {
		t.Errorf("batches of 2 files: %v", b)
	}
	if b := p.Batches(100, 4); len(b) != 3 {
		t.Errorf("batches of 4 bytes: %d", len(b))
	}
}

func paths(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}
