package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/plugin"
)

func storeCommand() command {
	return command{
		name:    "store",
		args:    "FILE|-...",
		summary: "store files as blobs, through a publisher or directly",
		help: `Stores each FILE (standard input for -) as one blob and prints its blob ID,
its Blob object and until when it is stored. Blobs are deletable unless
--permanent. A blob already certified for long enough is not stored again
(unless --force): the answer then names what stores it.

By default the file is streamed to the publisher's PUT /v1/blobs; once it
has the whole file, a haulout publisher answers with its upload job, which
the command follows to the end, through a restart of the publisher. With
--direct, haulout encodes it here and talks to the storage nodes and the
ledger itself: no publisher needed, but the whole blob is held in memory.

--plugin FILE.wasm transforms each blob before it is stored (e.g. the gzip
or aesgcm plugins of wasm/plugins, built with 'make wasm'); the plugin's
attributes are set on the Blob object, through the ledger, so that
'haulout read --plugin' can check and undo the transform.

How long: --epochs N (or max, as many as the ledger allows; default 1),
--end-epoch N (stored until epoch N, exclusive) or --earliest-expiry-time
TIME (stored until at least TIME, RFC 3339 or Unix seconds, rounded up to
the end of an epoch), only one of them. The publisher takes a number of
epochs, so the last two are turned into one from the ledger's current
epoch, its start and the epoch duration.

--dry-run stores nothing: it encodes each file here, for the ledger's
committee, and prints its blob ID, sizes and cost (none: the local ledger
charges nothing). It always encodes anew, as with --force.

A progress bar shows on standard error when it is a terminal. With --json the
output is Walrus's: an array of {"blobStoreResult": ..., "path": ...}, a
failed file as the "error" variant (with --dry-run, Walrus's array of
{"path", "blobId", "unencodedSize", "encodedSize", "storageCost",
"encodingType"}). The exit status is 1 if any file failed.

Example:
  haulout store --epochs 5 photo.jpg notes.txt
  haulout store --earliest-expiry-time 2027-01-01T00:00:00Z report.pdf
  haulout store --dry-run --json photo.jpg
  tar c dir | haulout store --json -
  haulout store --plugin bin/wasm/plugins/gzip.wasm --plugin-arg level=9 log.txt`,
		new: newStoreConfig,
	}
}

// storeConfig is the configuration of `haulout store`.
type storeConfig struct {
	Lifetime     lifetimeFlags
	DryRun       bool
	Permanent    bool
	Deletable    bool
	Force        bool
	Share        bool
	SendObjectTo string
	Direct       bool
	JSON         bool
	Verbose      bool
	Token        string
	Publisher    string
	Ledger       string
	Plugin       pluginFlags
}

func newStoreConfig(fs *flag.FlagSet) runner {
	cfg := &storeConfig{}
	cfg.Lifetime.register(fs, 1)
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "encode here and print the blob ID, sizes and cost; store nothing")
	fs.BoolVar(&cfg.Permanent, "permanent", false, "store a permanent blob (default: deletable)")
	fs.BoolVar(&cfg.Deletable, "deletable", false, "Walrus's deprecated no-op: blobs are deletable by default")
	fs.BoolVar(&cfg.Force, "force", false, "store even if the blob is already certified long enough")
	fs.BoolVar(&cfg.Share, "share", false, "make the Blob object shared (publisher only)")
	fs.StringVar(&cfg.SendObjectTo, "send-object-to", "", "send the Blob object to `ADDRESS` (publisher only)")
	fs.BoolVar(&cfg.Direct, "direct", false, "encode here and talk to the nodes and the ledger, without a publisher")
	jsonVar(fs, &cfg.JSON)
	fs.BoolVar(&cfg.Verbose, "verbose", false, "say on standard error what happens: each upload's publisher job, or (--direct) the nodes that fail")
	fs.StringVar(&cfg.Token, "jwt", "", "send `TOKEN` to an authenticated publisher")
	publisherVar(fs, &cfg.Publisher)
	ledgerVar(fs, &cfg.Ledger)
	cfg.Plugin.register(fs, "before it is stored")
	return cfg
}

// storeOutput is Walrus's JSON-mode output of one file.
type storeOutput struct {
	BlobStoreResult json.RawMessage `json:"blobStoreResult"`
	Path            string          `json:"path"`
}

func (cfg *storeConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usagef("want at least one FILE, or - for standard input")
	}
	if cfg.Permanent && cfg.Deletable {
		return errors.New("--permanent and --deletable exclude each other")
	}
	if cfg.Direct && (cfg.Share || cfg.SendObjectTo != "") {
		return errors.New("--share and --send-object-to need a publisher, not --direct")
	}
	if slices.Contains(args, "-") && len(args) > 1 {
		return usagef("- (standard input) must be the only FILE")
	}
	lifetime, err := cfg.Lifetime.chosen()
	if err != nil {
		return err
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	pl, err := cfg.Plugin.load(ctx)
	if err != nil {
		return err
	}
	if pl != nil {
		defer pl.Close(ctx)
	}
	ledger := newLedger(cfg.Ledger)
	// Resumable: a haulout publisher that restarts mid-upload finishes the
	// job, and the command follows it there (Walrus's ignores it).
	opts := client.StoreOptions{Permanent: cfg.Permanent, Deletable: cfg.Deletable,
		Force: cfg.Force, Share: cfg.Share, SendObjectTo: cfg.SendObjectTo, Resumable: !cfg.Direct}
	var info *client.Info
	if needs := cfg.Lifetime.needsLedger(lifetime); needs || cfg.DryRun {
		why := "--dry-run"
		if needs {
			why = "--" + lifetime
		}
		if info, err = ledger.Info(ctx); err != nil {
			return fmt.Errorf("%s needs the ledger's epoch and committee: %w", why, err)
		}
	}
	if opts.Epochs, err = cfg.Lifetime.epochsAhead(lifetime, info, time.Now()); err != nil {
		return err
	}
	s := &storer{cfg: cfg, c: c, opts: opts, plugin: pl, ledger: ledger,
		pub: &client.Publisher{URL: cfg.Publisher, Token: cfg.Token}}
	if cfg.DryRun {
		return s.dryRun(ctx, args, info)
	}
	var outputs []storeOutput
	failed := 0
	for _, path := range args {
		res, err := s.store(ctx, path)
		if err != nil {
			failed++
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "haulout: store: %s: %v\n", path, err)
			if cfg.JSON {
				outputs = append(outputs, storeOutput{BlobStoreResult: errorVariant(err), Path: path})
			}
			continue
		}
		if cfg.JSON {
			outputs = append(outputs, storeOutput{BlobStoreResult: res.Raw, Path: path})
		} else {
			printStored(c.stdout, path, res)
		}
	}
	if cfg.JSON {
		if err := writeJSON(c.stdout, outputs); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files not stored", failed, len(args))
	}
	return nil
}

// dryRunOutput is Walrus's JSON output of `store --dry-run`, one per file.
type dryRunOutput struct {
	Path          string       `json:"path"`
	BlobID        codec.BlobID `json:"blobId"`
	UnencodedSize uint64       `json:"unencodedSize"`
	EncodedSize   uint64       `json:"encodedSize"`
	// StorageCost is in FROST: zero, the local ledger has no prices.
	StorageCost  uint64 `json:"storageCost"`
	EncodingType string `json:"encodingType"`
}

// dryRun encodes each file (through the plugin, if any) for the ledger's
// committee and prints what storing it would make, storing nothing. The
// file is read whole, as `haulout blob-id` does.
func (s *storer) dryRun(ctx context.Context, args []string, info *client.Info) error {
	code, err := codec.NewConfig(int(info.NShards))
	if err != nil {
		return fmt.Errorf("committee of %d shards: %w", info.NShards, err)
	}
	outputs := []dryRunOutput{}
	failed := 0
	for _, path := range args {
		out, err := s.dryRunOne(ctx, code, info.NShards, path)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed++
			fmt.Fprintf(s.c.stderr, "haulout: store --dry-run: %s: %v\n", path, err)
			continue
		}
		if s.cfg.JSON {
			outputs = append(outputs, out)
			continue
		}
		w := s.c.stdout
		fmt.Fprintf(w, "Dry run of %s: nothing stored.\n", path)
		fmt.Fprintf(w, "  Blob ID:                   %s\n", out.BlobID)
		fmt.Fprintf(w, "  Encoding type:             %s\n", out.EncodingType)
		fmt.Fprintf(w, "  Size:                      %d bytes (encoded %d, with the metadata every shard keeps)\n", out.UnencodedSize, out.EncodedSize)
		fmt.Fprintf(w, "  Epochs:                    %d (until epoch %d, exclusive)\n", s.opts.Epochs, info.Epoch+chain.Epoch(s.opts.Epochs))
		fmt.Fprintf(w, "  Cost:                      %d FROST (the ledger charges nothing)\n", out.StorageCost)
	}
	if s.cfg.JSON {
		if err := writeJSON(s.c.stdout, outputs); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files not encoded", failed, len(args))
	}
	return nil
}

func (s *storer) dryRunOne(ctx context.Context, code codec.Config, nShards uint16, path string) (dryRunOutput, error) {
	data, err := readInput(path, s.c.stdin)
	if err != nil {
		return dryRunOutput{}, err
	}
	if s.plugin != nil {
		if data, _, err = s.plugin.Run(ctx, plugin.Forward, s.cfg.Plugin.Args, bytes.NewReader(data)); err != nil {
			return dryRunOutput{}, err
		}
	}
	if uint64(len(data)) > code.MaxBlobSize() {
		return dryRunOutput{}, fmt.Errorf("%w: %d bytes, at most %d on %d shards", codec.ErrBlobTooLarge, len(data), code.MaxBlobSize(), nShards)
	}
	md, err := code.ComputeMetadata(data)
	if err != nil {
		return dryRunOutput{}, fmt.Errorf("encode: %w", err)
	}
	encoded, err := chain.EncodedBlobLength(uint64(len(data)), nShards)
	if err != nil {
		return dryRunOutput{}, err
	}
	return dryRunOutput{Path: path, BlobID: md.ID, UnencodedSize: uint64(len(data)), EncodedSize: encoded,
		EncodingType: chain.EncodingRS2.String()}, nil
}

// errorVariant is Walrus's per-blob "error" variant of BlobStoreResult.
func errorVariant(err error) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"blobId": nil, "failurePhase": "store", "errorMsg": err.Error()}})
	return b
}

// storer stores one file after another.
type storer struct {
	cfg    *storeConfig
	c      *cli
	opts   client.StoreOptions
	plugin *plugin.Plugin
	ledger *client.Ledger
	pub    *client.Publisher
}

func (s *storer) store(ctx context.Context, path string) (*client.StoreResult, error) {
	// A file is streamed to a publisher from disk; a plugin or --direct
	// needs it whole.
	if s.plugin == nil && !s.cfg.Direct {
		r, size, closeFn, err := openInput(path, s.c.stdin)
		if err != nil {
			return nil, err
		}
		defer closeFn()
		return s.send(ctx, path, r, size, nil)
	}
	data, err := readInput(path, s.c.stdin)
	if err != nil {
		return nil, err
	}
	var attrs map[string]string
	if s.plugin != nil {
		if data, attrs, err = s.plugin.Run(ctx, plugin.Forward, s.cfg.Plugin.Args, bytes.NewReader(data)); err != nil {
			return nil, err
		}
	}
	return s.send(ctx, path, bytes.NewReader(data), int64(len(data)), attrs)
}

// send stores size bytes of r and sets attrs on the Blob object.
func (s *storer) send(ctx context.Context, path string, r io.Reader, size int64, attrs map[string]string) (*client.StoreResult, error) {
	bar := newProgress(s.c, size, path)
	opts := s.opts
	opts.Progress = bar.set
	if s.cfg.Verbose {
		opts.OnJob = func(id string) {
			fmt.Fprintf(s.c.stderr, "haulout: store: %s: received by the publisher as job %s\n", path, id)
		}
	}
	var res *client.StoreResult
	var err error
	if s.cfg.Direct {
		data, _ := io.ReadAll(r) // a bytes.Reader
		d := &client.Direct{Ledger: s.ledger}
		if s.cfg.Verbose {
			d.Log = slog.New(slog.NewTextHandler(s.c.stderr, nil))
		}
		res, err = d.StoreBlob(ctx, data, opts)
	} else {
		res, err = s.pub.StoreBlob(ctx, r, size, opts)
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Code == http.StatusRequestEntityTooLarge {
			err = fmt.Errorf("%w (the publisher refuses blobs over its --max-body-size-mib; --direct stores without it)", err)
		}
	}
	bar.done()
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		if err := s.setAttributes(ctx, res, attrs); err != nil {
			return res, err
		}
	}
	return res, nil
}

// setAttributes sets the plugin's attributes on the Blob object of res.
func (s *storer) setAttributes(ctx context.Context, res *client.StoreResult, attrs map[string]string) error {
	oid, ok := res.ObjectID()
	if !ok {
		return fmt.Errorf("blob %s is already stored permanently without a Blob object to carry the plugin's attributes; store with --force", res.BlobID())
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if err := s.ledger.SetAttribute(ctx, oid, k, attrs[k]); err != nil {
			return fmt.Errorf("set attribute %s on %s: %w", k, oid, err)
		}
	}
	return nil
}

// printStored describes a store in text.
func printStored(w io.Writer, path string, res *client.StoreResult) {
	switch {
	case res.NewlyCreated != nil:
		bo := res.NewlyCreated.BlobObject
		kind := "deletable"
		if !bo.Deletable {
			kind = "permanent"
		}
		fmt.Fprintf(w, "Stored %s as a %s blob.\n", path, kind)
		fmt.Fprintf(w, "  Blob ID:                   %s\n", bo.BlobID)
		fmt.Fprintf(w, "  Blob object:               %s\n", bo.ID)
		fmt.Fprintf(w, "  Size:                      %d bytes (encoded %d)\n", bo.Size, bo.Storage.StorageSize)
		fmt.Fprintf(w, "  Expiry epoch (exclusive):  %d\n", bo.Storage.EndEpoch)
		if s := res.NewlyCreated.SharedBlobObject; s != nil {
			fmt.Fprintf(w, "  Shared blob object:        %s\n", s)
		}
	case res.AlreadyCertified != nil:
		ac := res.AlreadyCertified
		fmt.Fprintf(w, "%s is already stored and certified.\n", path)
		fmt.Fprintf(w, "  Blob ID:                   %s\n", ac.BlobID)
		if ac.Object != nil {
			fmt.Fprintf(w, "  Blob object:               %s\n", ac.Object)
		}
		fmt.Fprintf(w, "  Expiry epoch (exclusive):  %d\n", ac.EndEpoch)
	}
}

// openInput opens the file called name for streaming, or stdin for "-"
// (size -1: unknown). closeFn closes what it opened.
func openInput(name string, stdin io.Reader) (r io.Reader, size int64, closeFn func(), err error) {
	if name == "-" {
		return stdin, -1, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		if info.IsDir() {
			return nil, 0, nil, fmt.Errorf("%s: is a directory, not a file", name)
		}
		// A pipe or device: its size is unknown.
		f, err = os.Open(name)
		if err != nil {
			return nil, 0, nil, err
		}
		return f, -1, func() { f.Close() }, nil
	}
	return f, info.Size(), func() { f.Close() }, nil
}
