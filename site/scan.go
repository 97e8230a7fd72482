package site

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// File is one file of a site directory, ready to be planned and uploaded.
type File struct {
	// Path is the resource path: '/' and the path below the root, with
	// forward slashes.
	Path string
	// Source is the file on disk.
	Source  string
	Size    int64
	SHA256  Hash
	Headers map[string]string
}

// Scan lists the files under dir as resources: every regular file (or
// symbolic link to one) except the root's ws-resources.json and what ws
// ignores, with its SHA-256 and headers (content-encoding identity, the
// content type of its extension, then ws's headers). Files are read once,
// streamed.
func Scan(dir string, ws *WSResources) ([]File, error) {
	if ws == nil {
		ws = &WSResources{}
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var files []File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rp := "/" + filepath.ToSlash(rel)
		if rp == "/"+WSResourcesFile || ws.Ignored(rp) {
			return nil
		}
		st, err := os.Stat(p) // follows a symbolic link
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		if err := ValidPath(rp); err != nil {
			return fmt.Errorf("%s: cannot be a site resource: %w", p, err)
		}
		sum, n, err := hashFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{
			Path: rp, Source: p, Size: n, SHA256: sum,
			Headers: ws.HeadersFor(rp, map[string]string{
				"content-encoding": "identity",
				"content-type":     ContentType(rp),
			}),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", dir, err)
	}
	return files, nil
}

func hashFile(p string) (Hash, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return Hash{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Hash{}, 0, fmt.Errorf("read %s: %w", p, err)
	}
	return Hash(h.Sum(nil)), n, nil
}

// contentTypes is a fixed table, not the system's mime.types, so that a
// site gets the same manifest on every machine.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".map": "application/json", ".webmanifest": "application/manifest+json",
	".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".csv": "text/csv; charset=utf-8", ".xml": "application/xml", ".rss": "application/rss+xml",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
	".bmp": "image/bmp", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
	".otf": "font/otf", ".wasm": "application/wasm", ".pdf": "application/pdf",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
	".wav": "audio/wav", ".zip": "application/zip", ".gz": "application/gzip",
}

// ContentType returns the content type of a resource path from its
// extension; application/octet-stream when unknown.
func ContentType(p string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(p))]; ok {
		return ct
	}
	return "application/octet-stream"
}
