package site

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// Seed corpora live in testdata/fuzz/<target>/ as well as below.

func FuzzDecodeManifest(f *testing.F) {
	m := testManifest(f)
	b, err := m.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(manifestMagic))
	f.Add(append([]byte(manifestMagic), 1, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("error %v does not wrap ErrInvalidManifest", err)
			}
			return
		}
		// What decodes is canonical: it encodes to the same bytes.
		again, err := m.Encode()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("decoded manifest re-encodes differently (%v)", err)
		}
	})
}

func FuzzParseWSResources(f *testing.F) {
	f.Add([]byte(`{"routes": {"/app/*": "/index.html"}, "redirects": {"/a": {"location": "/b", "status_code": 302}}}`))
	f.Add([]byte(`{"headers": {"/*": {"cache-control": "max-age=60"}}, "ignore": ["/x/*"], "site_name": "s"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := ParseWSResources(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidWSResources) {
				t.Fatalf("error %v does not wrap ErrInvalidWSResources", err)
			}
			return
		}
		// What parses builds a manifest that validates, given the routes'
		// targets.
		m := &Manifest{Version: ManifestVersion}
		m.Routes, m.Redirects = ws.rules()
		for _, rt := range m.Routes {
			if m.Lookup(rt.Target) == nil {
				m.Resources = append(m.Resources, Resource{Path: rt.Target, Headers: ws.HeadersFor(rt.Target, map[string]string{"content-type": "text/html"}), Patch: patchID(1, 1)})
				m.Normalize()
			}
		}
		m.Resources = slices.CompactFunc(m.Resources, func(a, b Resource) bool { return a.Path == b.Path })
		if err := m.Validate(); err != nil {
			t.Fatalf("parsed ws-resources gives an invalid manifest: %v", err)
		}
	})
}

func FuzzResolve(f *testing.F) {
	for _, p := range []string{"/", "/about.html", "/app/x", "/blog/a", "/legacy/a/b", "/loop", "/zzz", "//", "/404.html"} {
		f.Add(p)
	}
	m := testManifest(f)
	f.Fuzz(func(t *testing.T, p string) {
		r := Resolve(m, p)
		switch r.Kind {
		case KindResource:
			if r.Resource == nil || (r.Status != 200 && r.Status != 404) {
				t.Fatalf("resource answer %+v", r)
			}
			if r.Status == 404 && r.Resource.Path != NotFoundPath {
				t.Fatalf("404 with %s", r.Resource.Path)
			}
		case KindRedirect:
			if !slices.Contains(RedirectStatuses, r.Status) || r.Location == "" || r.Location == r.Path {
				t.Fatalf("redirect answer %+v", r)
			}
		case KindRedirectLoop:
			if r.Status != 508 || r.Location != r.Path {
				t.Fatalf("loop answer %+v", r)
			}
		case KindNotFound:
			t.Fatalf("not found although the site has a /404.html: %+v", r)
		}
		if m.Lookup(r.Path) != nil && (r.Kind != KindResource || r.Resource.Path != r.Path) {
			t.Fatalf("a path with a resource resolved to %+v", r)
		}
	})
}

func FuzzBase36(f *testing.F) {
	f.Add("0")
	f.Add("5f1c2ea4e39d2b4c38aa1f14e1b5be41b1b1e6c9a3b0d0d2e5d")
	f.Add("ZZ")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseBase36(s)
		if err != nil {
			return
		}
		back, err := ParseBase36(Base36(id))
		if err != nil || back != id {
			t.Fatalf("%q -> %s -> %q -> %s (%v)", s, id, Base36(id), back, err)
		}
	})
}
