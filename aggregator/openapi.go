package aggregator

import (
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
)

// operation documents one route for the OpenAPI document and the API page.
type operation struct {
	summary     string
	description string
	params      []param
	responses   []response
}

type param struct {
	name, in, description string
	required              bool
	typ                   string // JSON schema type: string, integer, boolean
}

type response struct {
	code, description string
	contentType       string   // "" : no body
	schema            string   // components schema name, or "" for raw bytes/text
	headers           []string // response headers worth naming
}

var (
	pBlobID = param{name: "blob_id", in: "path", required: true, typ: "string",
		description: "Blob ID: 32 bytes, URL-safe base64 without padding (43 characters)."}
	pStrict = param{name: "strict_consistency_check", in: "query", typ: "boolean",
		description: "Re-encode the blob and compare its blob ID (slower; refuses every inconsistently encoded blob)."}
	pSkip = param{name: "skip_consistency_check", in: "query", typ: "boolean",
		description: "Check only the slivers used, not that they form one codeword. Cannot be combined with strict_consistency_check."}
	pRange = param{name: "Range", in: "header", typ: "string",
		description: "One RFC 9110 byte range: bytes=a-b, bytes=a- or bytes=-n. Several ranges are answered with the whole blob."}
	pIfNoneMatch = param{name: "If-None-Match", in: "header", typ: "string",
		description: "The ETag of a copy held: answered 304 if it is this blob's."}
	pAccept = param{name: "Accept", in: "header", typ: "string",
		description: "A single media type without wildcards becomes the response's Content-Type (as Walrus)."}

	blobHeaders = []string{"ETag", "Cache-Control", "X-Content-Type-Options", "Accept-Ranges", "Content-Length", "Content-Type"}

	rBlob        = response{code: "200", description: "The blob's bytes, each checked against the blob ID.", contentType: "application/octet-stream", headers: blobHeaders}
	rPartial     = response{code: "206", description: "The requested byte range.", contentType: "application/octet-stream", headers: append([]string{"Content-Range"}, blobHeaders...)}
	rNotModified = response{code: "304", description: "The ETag given in If-None-Match is this blob's.", headers: []string{"ETag", "Cache-Control"}}
	rBadRequest  = response{code: "400", description: "Malformed ID or query (plain text), or INVALID_CONSISTENCY_CHECK (JSON).", contentType: "application/json", schema: "Error"}
	rTooLarge    = response{code: "403", description: "BLOB_TOO_LARGE: the blob exceeds the aggregator's limit.", contentType: "application/json", schema: "Error"}
	rNotFound    = response{code: "404", description: "BLOB_NOT_FOUND: unknown, never certified, deleted, expired or invalid blob.", contentType: "application/json", schema: "Error"}
	rRange       = response{code: "416", description: "INVALID_BYTE_RANGE: the Range cannot be satisfied (Content-Range: bytes */size).", contentType: "application/json", schema: "Error", headers: []string{"Content-Range"}}
	rOverload    = response{code: "429", description: "Too many requests or reads in flight; retry later.", contentType: "text/plain"}
	rUnavailable = response{code: "503", description: "BLOB_UNAVAILABLE: the blob could not be read and verified now (nodes down, invalid slivers, inconsistent encoding); retry with backoff.", contentType: "application/json", schema: "Error"}
)

var (
	docBlob = operation{
		summary: "Read a blob",
		description: "Reads the blob from the storage nodes (or the cache), checks every byte against the blob ID and streams it. " +
			"Supports single byte ranges, If-None-Match, HEAD (answered from the metadata) and Accept/Content-Type mirroring. Unknown query parameters are ignored.",
		params:    []param{pBlobID, pStrict, pSkip, pRange, pIfNoneMatch, pAccept},
		responses: []response{rBlob, rPartial, rNotModified, rBadRequest, rTooLarge, rNotFound, rRange, rOverload, rUnavailable},
	}
	docBlobByObjectID = operation{
		summary:     "Read a blob through its Blob object",
		description: "As GET /v1/blobs/{blob_id} for the Blob object's blob ID; the object's attributes on the allow-list become response headers.",
		params: []param{{name: "object_id", in: "path", required: true, typ: "string", description: "Blob object ID: 0x and 64 hex digits."},
			pStrict, pSkip, pRange, pIfNoneMatch, pAccept},
		responses: []response{rBlob, rPartial, rNotModified, rBadRequest, rTooLarge, rNotFound, rRange, rOverload, rUnavailable},
	}
	docBlobByteRange = operation{
		summary:     "Read a slice of a blob",
		description: "The bytes [start, start+length) with 200 (not 206), so that CDNs cache them; ETag \"{blob_id}-{start}-{length}\".",
		params: []param{pBlobID,
			{name: "start", in: "query", required: true, typ: "integer", description: "First byte."},
			{name: "length", in: "query", required: true, typ: "integer", description: "Number of bytes (positive)."},
			pIfNoneMatch, pAccept},
		responses: []response{
			{code: "200", description: "The bytes asked for.", contentType: "application/octet-stream", headers: []string{"ETag", "Cache-Control", "X-Content-Type-Options", "Content-Length"}},
			rNotModified,
			{code: "400", description: "INVALID_BYTE_RANGE: zero length or a range outside the blob; or a missing parameter (plain text).", contentType: "application/json", schema: "Error"},
			rTooLarge, rNotFound, rOverload, rUnavailable},
	}
	pIdentifierHeader = "X-Quilt-Patch-Identifier"
	patchHeaders      = []string{pIdentifierHeader, "ETag", "Cache-Control", "X-Content-Type-Options", "Accept-Ranges", "Content-Length", "Content-Type"}
	rPatch            = response{code: "200", description: "The patch's bytes, from columns checked against the quilt's metadata; allowed tags as headers.", contentType: "application/octet-stream", headers: patchHeaders}
	rPatchPartial     = response{code: "206", description: "The requested byte range of the patch.", contentType: "application/octet-stream", headers: append([]string{"Content-Range"}, patchHeaders...)}
	rPatchNotModified = response{code: "304", description: "The ETag given in If-None-Match is this patch's (its patch ID, or Walrus's bare quilt ID).", headers: []string{"ETag", "Cache-Control"}}
	rPatchNotFound    = response{code: "404", description: "BLOB_NOT_FOUND: unknown, deleted, expired or invalid quilt; QUILT_PATCH_NOT_FOUND: no such patch, or the blob is not a quilt.", contentType: "application/json", schema: "Error"}
	rPatchBadID       = response{code: "400", description: "Malformed ID (plain text).", contentType: "text/plain"}
	pQuiltID          = param{name: "quilt_id", in: "path", required: true, typ: "string", description: "The quilt's blob ID."}

	docQuiltPatchByID = operation{summary: "Read a quilt patch by its patch ID",
		description: "Reads only the columns (secondary slivers) that hold the patch, each checked against the quilt's metadata; a column that cannot be had is rebuilt from recovery symbols, else the whole quilt is read. " +
			"Range, If-None-Match and HEAD as for blobs; ETag is the patch ID. Query parameters are ignored.",
		params:    []param{{name: "quilt_patch_id", in: "path", required: true, typ: "string", description: "Quilt patch ID: 37 bytes, URL-safe base64 without padding (50 characters)."}, pRange, pIfNoneMatch, pAccept},
		responses: []response{rPatch, rPatchPartial, rPatchNotModified, rPatchBadID, rTooLarge, rPatchNotFound, rRange, rOverload, rUnavailable}}
	docQuiltPatchByIdentifier = operation{summary: "Read a quilt patch by its identifier",
		description: "Reads the quilt's index (cached) and the patch's columns, each checked against the quilt's metadata. Range, If-None-Match and HEAD as for blobs; ETag is the patch ID.",
		params: []param{pQuiltID,
			{name: "identifier", in: "path", required: true, typ: "string", description: "The patch's identifier, percent-encoded (a / as %2F)."}, pRange, pIfNoneMatch, pAccept},
		responses: []response{rPatch, rPatchPartial, rPatchNotModified, rPatchBadID, rTooLarge, rPatchNotFound, rRange, rOverload, rUnavailable}}
	docQuiltPatches = operation{summary: "List the patches of a quilt",
		description: "Reads the quilt's index from its first columns: [{\"identifier\", \"patch_id\", \"tags\"}] in quilt order.",
		params:      []param{pQuiltID},
		responses: []response{{code: "200", description: "[{identifier, patch_id, tags}]", contentType: "application/json", schema: "QuiltPatches"},
			rPatchBadID, rPatchNotFound, rOverload, rUnavailable}}
	docStatus  = operation{summary: "Liveness", responses: []response{{code: "200", description: "OK", contentType: "text/plain"}}}
	docAPIPage = operation{summary: "This API, as a page",
		responses: []response{{code: "200", description: "HTML", contentType: "text/html"}}}
	docOpenAPI = operation{summary: "This API, as an OpenAPI 3 document",
		responses: []response{{code: "200", description: "OpenAPI 3.0 JSON", contentType: "application/json"}}}
)

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// openAPIPath turns echo's /v1/blobs/:blob_id into /v1/blobs/{blob_id}.
func openAPIPath(p string) string { return echoParam.ReplaceAllString(p, "{$1}") }

// openAPI returns the OpenAPI 3.0 document of the routes registered.
func (a *Aggregator) openAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range a.routes() {
		if rt.handler == nil {
			continue
		}
		get := rt.doc.json(false)
		head := rt.doc.json(true)
		paths[openAPIPath(rt.path)] = map[string]any{"get": get, "head": head}
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "haulout aggregator",
			"version":     "v1",
			"description": "Walrus's aggregator API: verified blob reads with ranges, conditional requests and caching.",
		},
		"paths": paths,
		"components": map[string]any{"schemas": map[string]any{"QuiltPatches": map[string]any{
			"type": "array",
			"items": map[string]any{"type": "object", "properties": map[string]any{
				"identifier": map[string]any{"type": "string", "example": "index.html"},
				"patch_id":   map[string]any{"type": "string", "description": "Quilt patch ID (50 characters)."},
				"tags":       map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			}},
		}, "Error": map[string]any{
			"type":        "object",
			"description": "Walrus's error envelope (AIP-193).",
			"properties": map[string]any{"error": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"status":  map[string]any{"type": "string", "example": "NOT_FOUND"},
					"code":    map[string]any{"type": "integer", "example": 404},
					"message": map[string]any{"type": "string"},
					"details": map[string]any{"type": "array", "items": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"@type":    map[string]any{"type": "string", "example": "ErrorInfo"},
							"reason":   map[string]any{"type": "string", "example": "BLOB_NOT_FOUND"},
							"domain":   map[string]any{"type": "string", "example": "daemon.walrus.space"},
							"metadata": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
						},
					}},
				},
			}},
		}}},
	}
}

func (op operation) json(head bool) map[string]any {
	o := map[string]any{"summary": op.summary}
	if op.description != "" {
		o["description"] = op.description
	}
	if head {
		o["summary"] = op.summary + " (headers only)"
	}
	var ps []any
	for _, p := range op.params {
		ps = append(ps, map[string]any{"name": p.name, "in": p.in, "required": p.required,
			"description": p.description, "schema": map[string]any{"type": p.typ}})
	}
	if ps != nil {
		o["parameters"] = ps
	}
	rs := map[string]any{}
	for _, r := range op.responses {
		m := map[string]any{"description": r.description}
		if r.contentType != "" && !head {
			schema := map[string]any{"type": "string", "format": "binary"}
			if r.schema != "" {
				schema = map[string]any{"$ref": "#/components/schemas/" + r.schema}
			} else if r.contentType != "application/octet-stream" {
				schema = map[string]any{"type": "string"}
			}
			m["content"] = map[string]any{r.contentType: map[string]any{"schema": schema}}
		}
		if len(r.headers) > 0 {
			hs := map[string]any{}
			for _, h := range r.headers {
				hs[h] = map[string]any{"schema": map[string]any{"type": "string"}}
			}
			m["headers"] = hs
		}
		rs[r.code] = m
	}
	o["responses"] = rs
	return o
}

func (a *Aggregator) getOpenAPI(c echo.Context) error {
	b, err := json.MarshalIndent(a.openAPI(), "", "  ")
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/json", b)
}

var apiPage = template.Must(template.New("api").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>haulout aggregator API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:0 .2rem}td,th{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse}</style></head>
<body><h1>haulout aggregator API</h1>
<p>Walrus's aggregator API: every byte served is checked against the blob ID. The OpenAPI document is at
<a href="{{.OpenAPI}}"><code>{{.OpenAPI}}</code></a>.</p>
{{range .Routes}}<h2><code>GET|HEAD {{.Path}}</code></h2><p><b>{{.Summary}}</b>{{if .Description}}. {{.Description}}{{end}}</p>
{{if .Params}}<table><tr><th>Parameter</th><th>In</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} (required){{end}}</td><td>{{.In}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
<table><tr><th>Status</th><th>Meaning</th></tr>{{range .Responses}}<tr><td>{{.Code}}</td><td>{{.Description}}</td></tr>
{{end}}</table>
{{end}}</body></html>
`))

func (a *Aggregator) getAPIPage(c echo.Context) error {
	type pparam struct {
		Name, In, Description string
		Required              bool
	}
	type presp struct{ Code, Description string }
	type proute struct {
		Path, Summary, Description string
		Params                     []pparam
		Responses                  []presp
	}
	var routes []proute
	for _, rt := range a.routes() {
		if rt.handler == nil {
			continue
		}
		pr := proute{Path: openAPIPath(rt.path), Summary: rt.doc.summary, Description: strings.TrimSuffix(rt.doc.description, ".")}
		for _, p := range rt.doc.params {
			pr.Params = append(pr.Params, pparam{p.name, p.in, p.description, p.required})
		}
		for _, r := range rt.doc.responses {
			pr.Responses = append(pr.Responses, presp{r.code, r.description})
		}
		routes = append(routes, pr)
	}
	var b strings.Builder
	if err := apiPage.Execute(&b, map[string]any{"OpenAPI": pathOpenAPI, "Routes": routes}); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}
