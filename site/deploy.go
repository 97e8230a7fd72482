package site

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
)

// ManifestAttribute is the Blob object attribute that names a site's
// current manifest blob; without it, the site object's own blob is the
// manifest.
const ManifestAttribute = "site-manifest"

// MaxManifestSize bounds the manifest blobs a reader accepts.
const MaxManifestSize = 64 << 20

// Network is what a deploy needs from the storage network.
type Network interface {
	// StoreQuilt stores files as one quilt whose identifiers are their
	// paths, for epochs epochs, and returns the quilt's blob ID and the
	// patch ID of every path.
	StoreQuilt(ctx context.Context, files []File, epochs uint32) (codec.BlobID, map[string]codec.QuiltPatchID, error)
	// StoreBlob stores data for epochs epochs; fresh asks for a new Blob
	// object even when the blob is stored already. It returns the blob ID
	// and, when the answer names one, the Blob object.
	StoreBlob(ctx context.Context, data []byte, epochs uint32, fresh bool) (codec.BlobID, *chain.ObjectID, error)
	// ReadBlob returns a blob of at most max bytes.
	ReadBlob(ctx context.Context, id codec.BlobID, max int64) ([]byte, error)
}

// Ledger is what a deploy needs from the ledger; *ledgerhttp.Client and
// *local.Ledger have these methods.
type Ledger interface {
	SystemInfo(ctx context.Context) (chain.SystemInfo, error)
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	BlobObjects(ctx context.Context, id codec.BlobID) ([]chain.BlobRecord, error)
	Extend(ctx context.Context, id chain.ObjectID, epochs uint32) (chain.BlobRecord, error)
	SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error
}

// ManifestSource is what reading a site needs: the ledger's Blob objects
// and blob reads.
type ManifestSource interface {
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
}

// ErrNotASite is returned for an object whose manifest blob is not a site
// manifest.
var ErrNotASite = errors.New("not a site")

// ManifestID returns the blob ID of the current manifest of the site whose
// object is rec: its ManifestAttribute, else its own blob.
func ManifestID(rec chain.BlobRecord) (codec.BlobID, error) {
	if v, ok := rec.Attributes[ManifestAttribute]; ok {
		id, err := codec.ParseBlobID(v)
		if err != nil {
			return id, fmt.Errorf("%w: site %s: attribute %s: %w", ErrNotASite, rec.ObjectID, ManifestAttribute, err)
		}
		return id, nil
	}
	return rec.BlobID, nil
}

// Deployer deploys site directories.
type Deployer struct {
	Network Network
	Ledger  Ledger
	// MaxQuiltBytes bounds the content of one quilt upload (default 64 MiB,
	// under the publisher's default body limit of 100 MiB).
	MaxQuiltBytes int64
	Logger        *slog.Logger
}

// DeployOptions says what to deploy.
type DeployOptions struct {
	// Dir is the site's root directory.
	Dir string
	// WSResources is the ws-resources.json to use (default Dir's, if any).
	WSResources string
	// SiteID updates that site; nil: the ws-resources.json's object_id,
	// else a new site.
	SiteID *chain.ObjectID
	// Epochs is how many epochs from now every blob of the site is stored
	// for (at least); MaxEpochs asks for as many as the ledger allows.
	Epochs    uint32
	MaxEpochs bool
}

// DeployResult says what a deploy did.
type DeployResult struct {
	SiteID     chain.ObjectID `json:"siteId"`
	Base36     string         `json:"base36"`
	Created    bool           `json:"created"`
	ManifestID codec.BlobID   `json:"manifestId"`
	// ManifestChanged is false when the directory gave the same manifest
	// as before: nothing was stored.
	ManifestChanged bool           `json:"manifestChanged"`
	Uploaded        []string       `json:"uploaded"`
	Unchanged       []string       `json:"unchanged"`
	Removed         []string       `json:"removed"`
	Quilts          []codec.BlobID `json:"quilts"`
	EndEpoch        chain.Epoch    `json:"endEpoch"`
	Manifest        *Manifest      `json:"-"`
}

func (d *Deployer) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Load returns the current manifest of a site and its blob ID.
func Load(ctx context.Context, l ManifestSource, n Network, siteID chain.ObjectID) (*Manifest, codec.BlobID, error) {
	rec, err := l.Blob(ctx, siteID)
	if err != nil {
		return nil, codec.BlobID{}, fmt.Errorf("site %s: %w", siteID, err)
	}
	if rec.Deleted {
		return nil, codec.BlobID{}, fmt.Errorf("%w: site %s: its object was deleted", ErrNotASite, siteID)
	}
	id, err := ManifestID(rec)
	if err != nil {
		return nil, id, err
	}
	b, err := n.ReadBlob(ctx, id, MaxManifestSize)
	if err != nil {
		return nil, id, fmt.Errorf("site %s: read manifest %s: %w", siteID, id, err)
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, id, fmt.Errorf("%w: site %s: manifest %s: %w", ErrNotASite, siteID, id, err)
	}
	return m, id, nil
}

// Deploy publishes or updates a site: it uploads the files whose content
// is new (as quilts), stores the new manifest, makes every blob of the
// site last at least opts.Epochs epochs from now, and only then points
// the site at the new manifest, so that readers see the old site or the
// new one, never a mix.
func (d *Deployer) Deploy(ctx context.Context, opts DeployOptions) (*DeployResult, error) {
	if opts.Epochs == 0 && !opts.MaxEpochs {
		return nil, errors.New("deploy: epochs must be at least 1")
	}
	if info, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("deploy: site directory: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("deploy: %s is not a directory", opts.Dir)
	}
	ws, err := readWSResources(opts)
	if err != nil {
		return nil, err
	}
	siteID := opts.SiteID
	if siteID == nil && ws.ObjectID != "" {
		id, err := ParseSiteID(ws.ObjectID)
		if err != nil {
			return nil, fmt.Errorf("%s: object_id: %w", WSResourcesFile, err)
		}
		siteID = &id
	}
	files, err := Scan(opts.Dir, ws)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("deploy: %s has no files to publish", opts.Dir)
	}
	sys, err := d.Ledger.SystemInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("deploy: ledger: %w", err)
	}
	if opts.MaxEpochs {
		opts.Epochs = sys.MaxEpochsAhead
	}
	if opts.Epochs > sys.MaxEpochsAhead {
		return nil, fmt.Errorf("deploy: %d epochs is more than the %d the ledger allows", opts.Epochs, sys.MaxEpochsAhead)
	}
	code, err := codec.NewConfig(int(sys.NShards))
	if err != nil {
		return nil, err
	}
	target := sys.Epoch + chain.Epoch(opts.Epochs)

	var prev *Manifest
	var prevID codec.BlobID
	if siteID != nil {
		if prev, prevID, err = Load(ctx, d.Ledger, d.Network, *siteID); err != nil {
			return nil, err
		}
	}
	gone := map[codec.BlobID]bool{}
	if prev != nil {
		for _, q := range prev.Quilts() {
			if _, err := d.liveObject(ctx, q, sys.Epoch); err != nil {
				d.log().Warn("a quilt of the site is no longer stored; its files are uploaded again", "quilt", q, "err", err)
				gone[q] = true
			}
		}
	}
	plan := NewPlan(prev, files, func(q codec.BlobID) bool { return gone[q] })

	res := &DeployResult{Removed: plan.Removed}
	for _, r := range plan.Keep {
		res.Unchanged = append(res.Unchanged, r.Path)
	}
	maxBytes := d.MaxQuiltBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	patches := map[string]codec.QuiltPatchID{}
	for _, batch := range plan.Batches(code.MaxQuiltPatches(), maxBytes) {
		quilt, got, err := d.Network.StoreQuilt(ctx, batch, opts.Epochs)
		if err != nil {
			return nil, fmt.Errorf("deploy: store %d files: %w", len(batch), err)
		}
		for _, f := range batch {
			p, ok := got[f.Path]
			if !ok || p.Quilt != quilt {
				return nil, fmt.Errorf("deploy: the publisher's answer for quilt %s has no patch for %s", quilt, f.Path)
			}
			patches[f.Path] = p
			res.Uploaded = append(res.Uploaded, f.Path)
		}
		d.log().Info("quilt stored", "quilt", quilt, "files", len(batch))
	}

	m := &Manifest{Version: ManifestVersion, Resources: plan.Resources(patches)}
	m.Routes, m.Redirects = ws.rules()
	switch {
	case ws.SiteName != "":
		m.Name = ws.SiteName
	case prev != nil:
		m.Name = prev.Name
	default:
		abs, _ := filepath.Abs(opts.Dir)
		m.Name = filepath.Base(abs)
	}
	if ws.Metadata != nil {
		m.Metadata = *ws.Metadata
	} else if prev != nil {
		m.Metadata = prev.Metadata
	}
	if prev != nil {
		m.Nonce = prev.Nonce
	} else if _, err := rand.Read(m.Nonce[:]); err != nil {
		return nil, err
	}
	m.Normalize()
	data, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	res.Manifest, res.Quilts = m, m.Quilts()

	manifestID := prevID
	var newObject *chain.ObjectID
	if prev == nil || !bytes.Equal(data, mustEncode(prev)) {
		id, obj, err := d.Network.StoreBlob(ctx, data, opts.Epochs, prev == nil)
		if err != nil {
			return nil, fmt.Errorf("deploy: store the manifest: %w", err)
		}
		manifestID, newObject, res.ManifestChanged = id, obj, true
	}
	res.ManifestID = manifestID
	if prev == nil {
		if newObject == nil {
			return nil, fmt.Errorf("deploy: the publisher named no new Blob object for manifest %s", manifestID)
		}
		siteID, res.Created = newObject, true
	}
	res.SiteID, res.Base36 = *siteID, Base36(*siteID)

	// Everything the new manifest needs lasts until target before the
	// site points at it.
	for _, id := range append(res.Quilts, manifestID) {
		if err := d.ensureUntil(ctx, id, sys.Epoch, target); err != nil {
			return nil, err
		}
	}
	if err := d.extendObject(ctx, *siteID, sys.Epoch, target); err != nil {
		return nil, err
	}
	if !res.Created && res.ManifestChanged {
		if err := d.Ledger.SetAttribute(ctx, *siteID, ManifestAttribute, manifestID.String()); err != nil {
			return nil, fmt.Errorf("deploy: point site %s at manifest %s: %w", *siteID, manifestID, err)
		}
	}
	res.EndEpoch = target
	return res, nil
}

func mustEncode(m *Manifest) []byte {
	b, _ := m.Encode()
	return b
}

func readWSResources(opts DeployOptions) (*WSResources, error) {
	p := opts.WSResources
	explicit := p != ""
	if !explicit {
		p = filepath.Join(opts.Dir, WSResourcesFile)
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return &WSResources{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	ws, err := ParseWSResources(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return ws, nil
}

// liveObject returns the certified, unexpired, undeleted Blob object of a
// blob that lasts longest.
func (d *Deployer) liveObject(ctx context.Context, id codec.BlobID, now chain.Epoch) (chain.BlobRecord, error) {
	objs, err := d.Ledger.BlobObjects(ctx, id)
	if err != nil {
		return chain.BlobRecord{}, fmt.Errorf("blob %s: %w", id, err)
	}
	var best *chain.BlobRecord
	for i := range objs {
		o := &objs[i]
		if o.Certified() && o.Live(now) && (best == nil || o.EndEpoch > best.EndEpoch) {
			best = o
		}
	}
	if best == nil {
		return chain.BlobRecord{}, fmt.Errorf("blob %s: no certified, unexpired Blob object", id)
	}
	return *best, nil
}

// ensureUntil makes some Blob object keep blob id until epoch target,
// extending the longest-lived one if needed.
func (d *Deployer) ensureUntil(ctx context.Context, id codec.BlobID, now, target chain.Epoch) error {
	o, err := d.liveObject(ctx, id, now)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	return d.extendObject(ctx, o.ObjectID, now, target)
}

// extendObject extends a Blob object to end at target at least, if it is
// certified and unexpired.
func (d *Deployer) extendObject(ctx context.Context, oid chain.ObjectID, now, target chain.Epoch) error {
	rec, err := d.Ledger.Blob(ctx, oid)
	if err != nil {
		return fmt.Errorf("deploy: object %s: %w", oid, err)
	}
	if rec.EndEpoch >= target || !rec.Certified() || !rec.Live(now) {
		return nil
	}
	if _, err := d.Ledger.Extend(ctx, oid, uint32(target-rec.EndEpoch)); err != nil {
		return fmt.Errorf("deploy: extend %s (blob %s) to epoch %d: %w", oid, rec.BlobID, target, err)
	}
	d.log().Info("extended", "object", oid, "blob", rec.BlobID, "end_epoch", target)
	return nil
}
