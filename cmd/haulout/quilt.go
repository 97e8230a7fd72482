package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

// The quilt commands, with Walrus's names and flags: store-quilt,
// read-quilt and list-patches-in-quilt. Walrus's flags that take several
// values (--paths a b, --identifiers x y, --tag KEY VALUE) work as they do
// there: the words that follow such a flag are its values.

func storeQuiltCommand() command {
	return command{
		name:    "store-quilt",
		args:    "--paths PATH... | --blobs JSON...",
		summary: "store many small files as one quilt through a publisher",
		help: `Stores files as one quilt (Walrus's PUT /v1/quilts): one blob that holds every
file as a patch, each readable alone. With --paths, every file named, and
every file under a directory named (recursively), is a patch whose identifier
is its file name (names must be unique). With --blobs, each value is a JSON
object {"path": FILE, "identifier": ID, "tags": {KEY: VALUE, ...}}; the
identifier defaults to the file name. Prints the quilt ID (its blob ID) and a
table of the patches with their patch IDs and column ranges.

How long, as for store: --epochs N (or max; default 1), --end-epoch N
(stored until epoch N, exclusive) or --earliest-expiry-time TIME (RFC 3339 or
Unix seconds, rounded up to the end of an epoch), only one of them; the last
two are turned into a number of epochs from the ledger's epoch state.

Example:
  haulout store-quilt --epochs 5 --paths ./photos notes.txt
  haulout store-quilt --end-epoch 40 --paths ./photos
  haulout store-quilt --blobs '{"path":"a.pdf","identifier":"paper-v2","tags":{"status":"final"}}'`,
		new: newStoreQuiltConfig,
	}
}

func readQuiltCommand() command {
	return command{
		name:    "read-quilt",
		args:    "--quilt-id ID [--identifiers ID... | --tag KEY VALUE] | --quilt-patch-ids ID...",
		summary: "read patches of a quilt through an aggregator",
		help: `Reads patches of a quilt: those with the --identifiers given, those whose tag
KEY has VALUE (--tag KEY VALUE), every patch (--quilt-id alone), or the patches
that --quilt-patch-ids name. With --out DIR each patch is written to DIR under
its identifier and their identifiers and tags are printed; without it the
patches' bytes are written to standard output one after the other.

Example:
  haulout read-quilt --quilt-id Rk...U --identifiers notes.txt --out ./got
  haulout read-quilt --quilt-id Rk...U --tag status final --out ./got
  haulout read-quilt --quilt-patch-ids uIiE...AQANAA > file`,
		new: newReadQuiltConfig,
	}
}

func listPatchesCommand() command {
	return command{
		name:    "list-patches-in-quilt",
		args:    "QUILT_ID",
		summary: "list the patches of a quilt",
		help: `Prints the patches of a quilt, in quilt order: index, patch ID, column range
and identifier (--json adds the tags).

Example:
  haulout list-patches-in-quilt Rk...U`,
		new: newListPatchesConfig,
	}
}

// listValue is a flag that may be given several times, each value added.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, " ") }

func (l *listValue) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// storeQuiltConfig is the configuration of `haulout store-quilt`.
type storeQuiltConfig struct {
	// Paths are files and directories whose files become patches.
	Paths listValue
	// Blobs are Walrus's JSON specs {"path", "identifier", "tags"}.
	Blobs listValue
	// Lifetime is how long to store the quilt: --epochs, --end-epoch or
	// --earliest-expiry-time.
	Lifetime lifetimeFlags
	// Permanent stores a permanent quilt; Deletable is Walrus's no-op.
	Permanent, Deletable bool
	// Force stores a new Blob object even if the quilt is already stored.
	Force bool
	// Share wraps the Blob object into a shared one.
	Share bool
	// SendObjectTo sends the Blob object to this address.
	SendObjectTo string
	// Token is a JWT for an authenticated publisher.
	Token string
	// Publisher and Ledger are the services' URLs (the ledger turns
	// --epochs max, --end-epoch and --earliest-expiry-time into epochs).
	Publisher, Ledger string
	// JSON prints the publisher's answer.
	JSON bool
}

func newStoreQuiltConfig(fs *flag.FlagSet) runner {
	cfg := &storeQuiltConfig{}
	fs.Var(&cfg.Paths, "paths", "store the files at `PATH`, and every file under a directory (repeatable; the words that follow are more paths)")
	fs.Var(&cfg.Blobs, "blobs", "store the file a `JSON` {\"path\",\"identifier\",\"tags\"} names (repeatable; the words that follow are more)")
	cfg.Lifetime.register(fs, 1)
	fs.BoolVar(&cfg.Permanent, "permanent", false, "store a permanent quilt (quilts are deletable by default)")
	fs.BoolVar(&cfg.Deletable, "deletable", false, "Walrus's deprecated no-op (quilts are deletable unless --permanent)")
	fs.BoolVar(&cfg.Force, "force", false, "store a new Blob object even if the quilt is already stored long enough")
	fs.BoolVar(&cfg.Share, "share", false, "wrap the Blob object into a shared one")
	fs.StringVar(&cfg.SendObjectTo, "send-object-to", "", "send the Blob object to `ADDRESS`")
	fs.StringVar(&cfg.Token, "jwt", "", "send `TOKEN` to an authenticated publisher")
	publisherVar(fs, &cfg.Publisher)
	ledgerVar(fs, &cfg.Ledger)
	jsonVar(fs, &cfg.JSON)
	return cfg
}

// quiltBlobInput is Walrus's --blobs value.
type quiltBlobInput struct {
	Path       string            `json:"path"`
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
}

func (cfg *storeQuiltConfig) run(ctx context.Context, c *cli, args []string) error {
	switch {
	case len(cfg.Paths) > 0 && len(cfg.Blobs) > 0:
		return usagef("--paths and --blobs cannot be used together")
	case len(cfg.Blobs) > 0:
		cfg.Blobs = append(cfg.Blobs, args...)
	default:
		cfg.Paths = append(cfg.Paths, args...)
	}
	if len(cfg.Paths) == 0 && len(cfg.Blobs) == 0 {
		return usagef("want files: --paths PATH... or --blobs JSON...")
	}
	if cfg.Permanent && cfg.Deletable {
		return usagef("--permanent and --deletable cannot be used together")
	}
	lifetime, err := cfg.Lifetime.chosen()
	if err != nil {
		return err
	}
	inputs, err := quiltInputs(cfg.Paths, cfg.Blobs)
	if err != nil {
		return err
	}
	opts := client.StoreOptions{Permanent: cfg.Permanent, Deletable: cfg.Deletable, Force: cfg.Force, Share: cfg.Share, SendObjectTo: cfg.SendObjectTo}
	var info *client.Info
	if cfg.Lifetime.needsLedger(lifetime) {
		if info, err = newLedger(cfg.Ledger).Info(ctx); err != nil {
			return fmt.Errorf("--%s needs the ledger's epoch state: %w", lifetime, err)
		}
	}
	if opts.Epochs, err = cfg.Lifetime.epochsAhead(lifetime, info, time.Now()); err != nil {
		return err
	}
	files := make([]client.QuiltFile, len(inputs))
	var total int64
	for i, in := range inputs {
		f, err := os.Open(in.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			total += st.Size()
		}
		files[i] = client.QuiltFile{Identifier: in.Identifier, Tags: in.Tags, Body: f}
	}
	bar := newProgress(c, -1, "storing quilt")
	opts.Progress = bar.set
	pub := &client.Publisher{URL: cfg.Publisher, Token: cfg.Token}
	res, err := pub.StoreQuilt(ctx, files, opts)
	bar.done()
	if err != nil {
		return err
	}
	if cfg.JSON {
		_, err := fmt.Fprintf(c.stdout, "%s\n", res.Raw)
		return err
	}
	return writeQuiltStored(c.stdout, res, len(files), total)
}

// quiltInputs resolves --paths (files, directories walked recursively,
// identifier = file name) or --blobs (JSON specs) into the files to store,
// refusing duplicate and invalid identifiers before anything is sent.
func quiltInputs(paths, blobs []string) ([]quiltBlobInput, error) {
	var out []quiltBlobInput
	for _, raw := range blobs {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		var in quiltBlobInput
		if err := dec.Decode(&in); err != nil {
			return nil, fmt.Errorf("--blobs %q: want {\"path\": FILE, \"identifier\": ID, \"tags\": {...}}: %w", raw, err)
		}
		if in.Path == "" {
			return nil, fmt.Errorf("--blobs %q: no path", raw)
		}
		if in.Identifier == "" {
			in.Identifier = filepath.Base(in.Path)
		}
		out = append(out, in)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, quiltBlobInput{Path: p, Identifier: filepath.Base(p)})
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			out = append(out, quiltBlobInput{Path: f, Identifier: filepath.Base(f)})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no files to store (the directories given are empty)")
	}
	seen := map[string]string{}
	for _, in := range out {
		if err := codec.ValidateQuiltIdentifier(in.Identifier); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
		if prev, ok := seen[in.Identifier]; ok {
			return nil, fmt.Errorf("%w: %q is both %s and %s (use --blobs to name them)", codec.ErrDuplicateQuiltIdentifier, in.Identifier, prev, in.Path)
		}
		seen[in.Identifier] = in.Path
	}
	return out, nil
}

func writeQuiltStored(w io.Writer, res *client.QuiltStoreResult, files int, total int64) error {
	r := res.BlobStoreResult
	switch {
	case r.NewlyCreated != nil:
		fmt.Fprintf(w, "Stored quilt %s (%d files, %d bytes) as a new Blob object %s; stored until epoch %d.\n",
			res.QuiltID(), files, total, r.NewlyCreated.BlobObject.ID, r.EndEpoch())
	case r.AlreadyCertified != nil:
		fmt.Fprintf(w, "Quilt %s (%d files) was already stored, until epoch %d.\n", res.QuiltID(), files, r.EndEpoch())
	}
	return writePatchTable(w, storedRows(res.StoredQuiltBlobs))
}

type patchRow struct {
	id         codec.QuiltPatchID
	identifier string
}

func storedRows(ps []client.StoredQuiltPatch) []patchRow {
	rows := make([]patchRow, len(ps))
	for i, p := range ps {
		rows[i] = patchRow{p.QuiltPatchID, p.Identifier}
	}
	return rows
}

// writePatchTable prints Walrus's patch table: index, patch ID, column
// range, identifier.
func writePatchTable(w io.Writer, rows []patchRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tQUILT PATCH ID\tSLIVER RANGE\tIDENTIFIER")
	for i, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t[%d, %d)\t%s\n", i, r.id, r.id.Patch.Start, r.id.Patch.End, r.identifier)
	}
	return tw.Flush()
}

// readQuiltConfig is the configuration of `haulout read-quilt`.
type readQuiltConfig struct {
	// QuiltID is the quilt to read from (with Identifiers, Tag or alone).
	QuiltID string
	// Identifiers are the patches to read.
	Identifiers listValue
	// Tag is the key of --tag KEY VALUE (VALUE follows it).
	Tag string
	// QuiltPatchIDs are patches to read by patch ID.
	QuiltPatchIDs listValue
	// Out is the directory the patches are written to; empty: stdout.
	Out string
	// Aggregator is the aggregator's URL.
	Aggregator string
	// JSON prints Walrus's ReadQuiltOutput.
	JSON bool
}

func newReadQuiltConfig(fs *flag.FlagSet) runner {
	cfg := &readQuiltConfig{}
	fs.StringVar(&cfg.QuiltID, "quilt-id", "", "read from the quilt `ID` (its blob ID)")
	fs.Var(&cfg.Identifiers, "identifiers", "read the patch `IDENTIFIER` (repeatable; the words that follow are more)")
	fs.StringVar(&cfg.Tag, "tag", "", "read the patches whose tag `KEY` has the VALUE given after it")
	fs.Var(&cfg.QuiltPatchIDs, "quilt-patch-ids", "read the patch `ID` (repeatable; the words that follow are more)")
	fs.StringVar(&cfg.Out, "out", "", "write each patch to `DIR`/IDENTIFIER (default: the bytes to standard output)")
	aggregatorVar(fs, &cfg.Aggregator)
	jsonVar(fs, &cfg.JSON)
	return cfg
}

// readQuiltOutput is Walrus's ReadQuiltOutput, with each patch's bytes in
// standard base64 (when not written to --out) as `read` does in JSON mode.
type readQuiltOutput struct {
	Out            string          `json:"out,omitempty"`
	RetrievedBlobs []retrievedBlob `json:"retrievedBlobs"`
}

type retrievedBlob struct {
	Identifier   string            `json:"identifier"`
	QuiltPatchID string            `json:"quiltPatchId"`
	Tags         map[string]string `json:"tags"`
	Path         string            `json:"path,omitempty"`
	Blob         string            `json:"blob,omitempty"`
}

func (cfg *readQuiltConfig) run(ctx context.Context, c *cli, args []string) error {
	byID := len(cfg.QuiltPatchIDs) > 0
	switch {
	case byID && (cfg.QuiltID != "" || len(cfg.Identifiers) > 0 || cfg.Tag != ""):
		return usagef("--quilt-patch-ids is used alone, without --quilt-id, --identifiers or --tag")
	case byID:
		cfg.QuiltPatchIDs = append(cfg.QuiltPatchIDs, args...)
	case cfg.QuiltID == "":
		return usagef("want --quilt-id ID (with --identifiers or --tag, or alone for every patch), or --quilt-patch-ids")
	case len(cfg.Identifiers) > 0 && cfg.Tag != "":
		return usagef("--identifiers and --tag cannot be used together")
	case cfg.Tag != "":
		if len(args) != 1 {
			return usagef("--tag wants KEY VALUE")
		}
	case len(cfg.Identifiers) > 0:
		cfg.Identifiers = append(cfg.Identifiers, args...)
	case len(args) > 0:
		return usagef("unexpected arguments %q", args)
	}
	agg := &client.Aggregator{URL: cfg.Aggregator}
	// What to read: patch IDs, with identifiers and tags when known.
	var want []client.QuiltPatch
	if byID {
		for _, s := range cfg.QuiltPatchIDs {
			id, err := codec.ParseQuiltPatchID(s)
			if err != nil {
				return err
			}
			want = append(want, client.QuiltPatch{PatchID: id})
		}
	} else {
		quilt, err := parseBlobID(cfg.QuiltID)
		if err != nil {
			return fmt.Errorf("--quilt-id: %w", err)
		}
		all, err := agg.ListPatches(ctx, quilt)
		if err != nil {
			return err
		}
		switch {
		case len(cfg.Identifiers) > 0:
			for _, ident := range cfg.Identifiers {
				i := indexOfPatch(all, ident)
				if i < 0 {
					return fmt.Errorf("quilt %s has no patch %q", quilt, ident)
				}
				want = append(want, all[i])
			}
		case cfg.Tag != "":
			for _, p := range all {
				if v, ok := p.Tags[cfg.Tag]; ok && v == args[0] {
					want = append(want, p)
				}
			}
		default:
			want = all
		}
	}
	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return err
		}
	}
	out := readQuiltOutput{Out: cfg.Out, RetrievedBlobs: []retrievedBlob{}}
	for _, p := range want {
		rb, err := cfg.readOne(ctx, c, agg, p)
		if err != nil {
			return err
		}
		out.RetrievedBlobs = append(out.RetrievedBlobs, rb)
	}
	switch {
	case cfg.JSON:
		return writeJSON(c.stdout, out)
	case cfg.Out != "":
		fmt.Fprintf(c.stdout, "Retrieved %d patch%s into %s\n", len(out.RetrievedBlobs), plural(len(out.RetrievedBlobs), "es"), cfg.Out)
		for i, rb := range out.RetrievedBlobs {
			fmt.Fprintf(c.stdout, "%d. %s\n", i+1, rb.Identifier)
			keys := make([]string, 0, len(rb.Tags))
			for k := range rb.Tags {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(c.stdout, "   %s: %s\n", k, rb.Tags[k])
			}
		}
	}
	return nil
}

func plural(n int, suffix string) string {
	if n == 1 {
		return ""
	}
	return suffix
}

func indexOfPatch(ps []client.QuiltPatch, identifier string) int {
	for i, p := range ps {
		if p.Identifier == identifier {
			return i
		}
	}
	return -1
}

// readOne reads one patch: into --out, into memory for JSON, or to
// standard output.
func (cfg *readQuiltConfig) readOne(ctx context.Context, c *cli, agg *client.Aggregator, p client.QuiltPatch) (retrievedBlob, error) {
	rb := retrievedBlob{Identifier: p.Identifier, QuiltPatchID: p.PatchID.String(), Tags: p.Tags}
	if rb.Tags == nil {
		rb.Tags = map[string]string{}
	}
	switch {
	case cfg.Out != "":
		tmp, err := os.CreateTemp(cfg.Out, ".read-quilt-*")
		if err != nil {
			return rb, err
		}
		defer os.Remove(tmp.Name()) // after the rename: a no-op
		info, err := agg.ReadPatch(ctx, p.PatchID, tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return rb, err
		}
		rb.Identifier = info.Identifier
		path, err := patchPath(cfg.Out, info.Identifier)
		if err != nil {
			return rb, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return rb, err
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return rb, err
		}
		rb.Path = path
	case cfg.JSON:
		var b bytes.Buffer
		info, err := agg.ReadPatch(ctx, p.PatchID, &b)
		if err != nil {
			return rb, err
		}
		rb.Identifier = info.Identifier
		rb.Blob = base64.StdEncoding.EncodeToString(b.Bytes())
	default:
		info, err := agg.ReadPatch(ctx, p.PatchID, c.stdout)
		if err != nil {
			return rb, err
		}
		rb.Identifier = info.Identifier
	}
	return rb, nil
}

// patchPath is where a patch goes under dir: its identifier as a relative
// path, refused if it would leave dir (an identifier is the writer's
// choice, not ours).
func patchPath(dir, identifier string) (string, error) {
	rel := filepath.FromSlash(strings.TrimLeft(identifier, "/"))
	if rel == "" || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("patch identifier %q is not a file name under %s", identifier, dir)
	}
	return filepath.Join(dir, rel), nil
}

// listPatchesConfig is the configuration of `haulout list-patches-in-quilt`.
type listPatchesConfig struct {
	// Aggregator is the aggregator's URL.
	Aggregator string
	// JSON prints the list as JSON.
	JSON bool
}

func newListPatchesConfig(fs *flag.FlagSet) runner {
	cfg := &listPatchesConfig{}
	aggregatorVar(fs, &cfg.Aggregator)
	jsonVar(fs, &cfg.JSON)
	return cfg
}

// quiltPatchesOutput is the JSON of list-patches-in-quilt.
type quiltPatchesOutput struct {
	QuiltID codec.BlobID        `json:"quiltId"`
	Patches []quiltPatchSummary `json:"patches"`
}

type quiltPatchSummary struct {
	Identifier   string            `json:"identifier"`
	QuiltPatchID string            `json:"quiltPatchId"`
	Range        [2]uint16         `json:"range"`
	Tags         map[string]string `json:"tags"`
}

func (cfg *listPatchesConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 1 {
		return usagef("want one QUILT_ID; got %d arguments", len(args))
	}
	quilt, err := parseBlobID(args[0])
	if err != nil {
		return err
	}
	ps, err := (&client.Aggregator{URL: cfg.Aggregator}).ListPatches(ctx, quilt)
	if err != nil {
		return err
	}
	if cfg.JSON {
		out := quiltPatchesOutput{QuiltID: quilt, Patches: []quiltPatchSummary{}}
		for _, p := range ps {
			out.Patches = append(out.Patches, quiltPatchSummary{p.Identifier, p.PatchID.String(), [2]uint16{p.PatchID.Patch.Start, p.PatchID.Patch.End}, p.Tags})
		}
		return writeJSON(c.stdout, out)
	}
	rows := make([]patchRow, len(ps))
	for i, p := range ps {
		rows[i] = patchRow{p.PatchID, p.Identifier}
	}
	fmt.Fprintf(c.stdout, "Quilt %s: %d patch%s\n", quilt, len(ps), plural(len(ps), "es"))
	return writePatchTable(c.stdout, rows)
}
