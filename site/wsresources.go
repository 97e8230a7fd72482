package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// WSResourcesFile is the name of the configuration file at a site's root;
// it is read, not uploaded.
const WSResourcesFile = "ws-resources.json"

// ErrInvalidWSResources is wrapped by every error about a ws-resources.json.
var ErrInvalidWSResources = errors.New("invalid ws-resources.json")

// WSResources is Walrus's ws-resources.json, with its keys (snake_case;
// unknown keys are refused).
type WSResources struct {
	// Headers maps a path pattern ('*' matches anything) to headers that
	// resources matching it get; where several patterns match, the longer
	// one's value wins.
	Headers map[string]map[string]string `json:"headers,omitempty"`
	// Routes maps a path pattern to the resource served for paths that
	// match and have no resource of their own.
	Routes map[string]string `json:"routes,omitempty"`
	// Redirects maps a path pattern to a redirect.
	Redirects map[string]WSRedirect `json:"redirects,omitempty"`
	Metadata  *Metadata             `json:"metadata,omitempty"`
	SiteName  string                `json:"site_name,omitempty"`
	// ObjectID is the site's ID once deployed; a deploy without --site-id
	// updates this site.
	ObjectID string `json:"object_id,omitempty"`
	// Ignore lists paths not to upload: /exact/path or /dir/* (a wildcard
	// only at the end).
	Ignore []string `json:"ignore,omitempty"`
}

// WSRedirect is one redirect of ws-resources.json.
type WSRedirect struct {
	Location   string `json:"location"`
	StatusCode int    `json:"status_code"`
}

// ParseWSResources reads and checks a ws-resources.json.
func ParseWSResources(b []byte) (*WSResources, error) {
	var ws WSResources
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&ws); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidWSResources, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidWSResources)
	}
	if err := ws.validate(); err != nil {
		return nil, err
	}
	return &ws, nil
}

func (ws *WSResources) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidWSResources, fmt.Sprintf(format, a...))
	}
	for pat, hs := range ws.Headers {
		if err := validPattern(pat); err != nil {
			return bad("headers: %v", err)
		}
		for k, v := range hs {
			if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
				return bad("headers of %q: %q: %q is not a valid header", clip(pat), clip(k), clip(v))
			}
		}
	}
	if len(ws.Routes) > MaxRules || len(ws.Redirects) > MaxRules {
		return bad("at most %d routes and %d redirects", MaxRules, MaxRules)
	}
	for pat, target := range ws.Routes {
		if err := validPattern(pat); err != nil {
			return bad("routes: %v", err)
		}
		if err := ValidPath(target); err != nil {
			return bad("route %q: target: %v", clip(pat), err)
		}
	}
	for pat, rd := range ws.Redirects {
		if err := validPattern(pat); err != nil {
			return bad("redirects: %v", err)
		}
		if !slices.Contains(RedirectStatuses, rd.StatusCode) {
			return bad("redirect %q: status_code %d is not one of %v", clip(pat), rd.StatusCode, RedirectStatuses)
		}
		if rd.Location == "" || !httpguts.ValidHeaderFieldValue(rd.Location) {
			return bad("redirect %q: location %q is empty or not a valid header value", clip(pat), clip(rd.Location))
		}
	}
	for _, ig := range ws.Ignore {
		if !strings.HasPrefix(ig, "/") || strings.Contains(strings.TrimSuffix(ig, "*"), "*") {
			return bad("ignore %q: want /path or /dir/* (a wildcard only at the end)", clip(ig))
		}
	}
	return nil
}

// Ignored reports whether the resource at path is ignored.
func (ws *WSResources) Ignored(path string) bool {
	for _, ig := range ws.Ignore {
		if prefix, ok := strings.CutSuffix(ig, "*"); ok {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		} else if path == ig {
			return true
		}
	}
	return false
}

// HeadersFor returns the headers (lower-case names) that ws gives the
// resource at path, on top of defaults: patterns that match apply from
// the shortest to the longest, so the most specific wins.
func (ws *WSResources) HeadersFor(path string, defaults map[string]string) map[string]string {
	out := make(map[string]string, len(defaults)+4)
	for k, v := range defaults {
		out[strings.ToLower(k)] = v
	}
	pats := slices.SortedFunc(maps.Keys(ws.Headers), func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	for _, pat := range pats {
		if !wildcardMatch(pat, path) {
			continue
		}
		for k, v := range ws.Headers[pat] {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}

// rules returns the routes and redirects, sorted by pattern.
func (ws *WSResources) rules() ([]Route, []Redirect) {
	var routes []Route
	for _, pat := range slices.Sorted(maps.Keys(ws.Routes)) {
		routes = append(routes, Route{Pattern: pat, Target: ws.Routes[pat]})
	}
	var redirects []Redirect
	for _, pat := range slices.Sorted(maps.Keys(ws.Redirects)) {
		rd := ws.Redirects[pat]
		redirects = append(redirects, Redirect{Pattern: pat, Location: rd.Location, Status: rd.StatusCode})
	}
	return routes, redirects
}
