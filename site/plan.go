package site

import (
	"maps"
	"slices"
	"strings"

	"github.com/haulout/haulout/codec"
)

// Plan is what a deploy does with a site directory given the site's
// previous manifest: the files whose content must be uploaded and the
// resources that keep their stored bytes.
type Plan struct {
	// Upload are files that are new, whose content changed, or whose
	// previous quilt is no longer stored.
	Upload []File
	// Keep are the previous resources whose content is unchanged and
	// still stored, with the headers of this deploy.
	Keep []Resource
	// Removed are paths of the previous manifest that the directory no
	// longer has.
	Removed []string
}

// NewPlan compares files with prev (nil for a new site). gone reports
// whether a quilt blob is no longer stored (nil: all are); resources in
// such quilts are uploaded again.
func NewPlan(prev *Manifest, files []File, gone func(codec.BlobID) bool) *Plan {
	p := &Plan{}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Path] = true
		var old *Resource
		if prev != nil {
			old = prev.Lookup(f.Path)
		}
		if old == nil || old.SHA256 != f.SHA256 || uint64(f.Size) != old.Size || (gone != nil && gone(old.Patch.Quilt)) {
			p.Upload = append(p.Upload, f)
			continue
		}
		kept := *old
		kept.Headers = maps.Clone(f.Headers)
		p.Keep = append(p.Keep, kept)
	}
	if prev != nil {
		for _, r := range prev.Resources {
			if !seen[r.Path] {
				p.Removed = append(p.Removed, r.Path)
			}
		}
	}
	slices.SortFunc(p.Upload, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return p
}

// Batches splits the files to upload into quilts of at most maxFiles
// files and, unless a single file is larger, maxBytes bytes of content.
func (p *Plan) Batches(maxFiles int, maxBytes int64) [][]File {
	var out [][]File
	var cur []File
	var size int64
	for _, f := range p.Upload {
		if len(cur) > 0 && (len(cur) >= maxFiles || size+f.Size > maxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, f)
		size += f.Size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Resources returns the resources of the new manifest: the kept ones and
// the uploaded ones with the patch IDs they got.
func (p *Plan) Resources(patches map[string]codec.QuiltPatchID) []Resource {
	out := slices.Clone(p.Keep)
	for _, f := range p.Upload {
		out = append(out, Resource{Path: f.Path, Patch: patches[f.Path], Headers: maps.Clone(f.Headers), SHA256: f.SHA256, Size: uint64(f.Size)})
	}
	slices.SortFunc(out, func(a, b Resource) int { return strings.Compare(a.Path, b.Path) })
	return out
}
