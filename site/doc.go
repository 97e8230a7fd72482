// Package site is haulout's static sites: Walrus Sites without Sui objects
// or a portal. A site is a directory of files stored as quilt patches (the
// patch identifier is the resource path, e.g. /index.html) and a manifest
// that says, for every path, which patch holds its bytes, which headers it
// is served with and the SHA-256 of its bytes, plus the site's routes,
// redirects and metadata. The aggregator serves sites from their manifests
// (aggregator/sites.go); `haulout site deploy DIR` publishes and updates
// them.
//
// # Where a site lives
//
// Walrus keeps a site as a Sui Site object whose dynamic fields are the
// resources; updating a site changes the fields, so its ID stays. haulout's
// ledger has Blob objects with mutable attributes and nothing else, so:
//
//   - the manifest is a blob (its blob form is Manifest.Encode: a magic,
//     then BCS, the encoding of Walrus's Move objects; canonical, so that
//     the same site gives the same blob ID and a redeploy of an unchanged
//     directory stores nothing);
//   - the site ID is the object ID of the Blob object of the site's first
//     manifest (stored with force, and with a random Nonce in the manifest,
//     so that the object is new and belongs to this site alone);
//   - a later deploy stores the new manifest as another blob and sets the
//     site object's attribute ManifestAttribute ("site-manifest") to its
//     blob ID; readers take the attribute if set, else the object's own
//     blob (ManifestID). The switch is one ledger write, made last: readers
//     see the old site or the new one, never a mix.
//
// Site IDs are written like Sui object IDs (0x and 64 hex digits) or, in
// host names, in base 36 as Walrus's portals write them (Base36,
// ParseBase36): http://{base36}.localhost:31415/ is the site on a local
// aggregator.
//
// # Deploy
//
// Scan lists a directory: every file but the root's ws-resources.json and
// what it ignores, with its SHA-256 and headers (content-encoding identity,
// the content type of its extension from a fixed table so that every machine
// gives the same manifest, then ws-resources.json's headers, the longest
// matching pattern last). NewPlan compares the files with the previous
// manifest: files whose content (SHA-256 and size) is unchanged keep their
// patch and are not uploaded, headers are taken afresh, files whose quilt is
// no longer stored are uploaded again. The files to upload go as quilts of at
// most MaxQuiltPatches files and Deployer.MaxQuiltBytes bytes each (streamed
// from disk and hashed again on the way, so that a file changed since the
// scan fails the deploy rather than the manifest). Then every quilt the new
// manifest uses, the manifest and the site object are extended to last
// DeployOptions.Epochs from now (a manifest never outlives its resources),
// and only then is the site pointed at the new manifest.
//
// # Resolution
//
// Resolve is Walrus's portal's order, as its code has it (spec §7.2): "/"
// is /index.html and one trailing slash is dropped (no automatic
// /dir/index.html); then the resource at the path; then the most specific
// matching redirect (3xx with Location; one to the path itself is a loop,
// 508); then the longest matching route (client-side routing: the target
// resource, 200); then the site's /404.html, with status 404; then not
// found. Route and header patterns use '*' for any run of characters;
// redirect patterns match by segment ('*' within one, '**' for any number).
//
// # ws-resources.json
//
// Walrus's keys (ParseWSResources; unknown keys are refused): headers,
// routes, redirects ({"location", "status_code"}), metadata, site_name,
// object_id (a deploy without --site-id updates that site; unlike Walrus's
// site-builder, deploy does not write it back) and ignore.
//
// What it is not: it does not talk to Sui, and it does not read Walrus's
// on-chain Site objects; a site deployed here is served by haulout's
// aggregator, not by a Walrus portal. Manifests are read whole (at most
// MaxManifestSize).
package site
