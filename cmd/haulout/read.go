package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/plugin"
)

func readCommand() command {
	return command{
		name:    "read",
		args:    "BLOB_ID",
		summary: "read a blob through an aggregator",
		help: `Reads blob BLOB_ID through the aggregator and writes it to standard output, or
to --out FILE (written beside FILE first and renamed into place once the whole
blob has arrived and checked out, so FILE is never left half written).
--start and --length read a byte range only.

--plugin FILE.wasm undoes the transform that 'haulout store --plugin' applied:
the Blob object's "plugin" attribute (read from the ledger) must name the
same plugin.

A progress bar shows on standard error when it is a terminal. With --json and
no --out, the output is Walrus's {"blobId": ..., "blob": BASE64}; with --out,
{"out": FILE, "blobId": ...}.

Example:
  haulout read M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk -o photo.jpg
  haulout read M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk --start 0 --length 100`,
		new: newReadConfig,
	}
}

// readConfig is the configuration of `haulout read`.
type readConfig struct {
	Out           string
	Start, Length int
	JSON          bool
	Aggregator    string
	Ledger        string
	Plugin        pluginFlags
}

func newReadConfig(fs *flag.FlagSet) runner {
	cfg := &readConfig{}
	fs.StringVar(&cfg.Out, "out", "", "write the blob to `FILE` (default: standard output)")
	fs.StringVar(&cfg.Out, "o", "", "short for --out `FILE`")
	intRangeVar(fs, &cfg.Start, "start", 0, 0, 1<<62, "read from byte `N` (with --length)")
	intRangeVar(fs, &cfg.Length, "length", 0, 0, 1<<62, "read `N` bytes only (0: to the end)")
	jsonVar(fs, &cfg.JSON)
	aggregatorVar(fs, &cfg.Aggregator)
	ledgerVar(fs, &cfg.Ledger)
	cfg.Plugin.register(fs, "after it is read")
	return cfg
}

func (cfg *readConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 1 {
		return usagef("want one BLOB_ID; got %d arguments", len(args))
	}
	id, err := parseBlobID(args[0])
	if err != nil {
		return err
	}
	if cfg.Start > 0 && cfg.Length == 0 {
		return errors.New("--start needs --length")
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	pl, err := cfg.Plugin.load(ctx)
	if err != nil {
		return err
	}
	if pl != nil {
		defer pl.Close(ctx)
		if err := checkPlugin(ctx, newLedger(cfg.Ledger), id, pl); err != nil {
			return err
		}
	}
	agg := &client.Aggregator{URL: cfg.Aggregator}
	var b *client.Blob
	if cfg.Length > 0 {
		b, err = agg.OpenRange(ctx, id, int64(cfg.Start), int64(cfg.Length))
	} else {
		b, err = agg.Open(ctx, id)
	}
	if err != nil {
		return err
	}
	defer b.Close()

	// The blob goes to a buffer when it must be whole (JSON, a plugin),
	// else straight to the output.
	whole := pl != nil || (cfg.JSON && cfg.Out == "")
	var buf bytes.Buffer
	var dst io.Writer = c.stdout
	var out *outFile
	switch {
	case whole:
		dst = &buf
	case cfg.Out != "":
		if out, err = createOut(cfg.Out); err != nil {
			return err
		}
		defer out.abort()
		dst = out.f
	}
	bar := newProgress(c, b.Size, id.String()[:8]+"…")
	n, err := io.Copy(bar.writer(dst), b.Body)
	bar.done()
	if err != nil {
		return fmt.Errorf("read blob %s: %w", id, err)
	}
	if b.Size >= 0 && n != b.Size {
		return fmt.Errorf("read blob %s: the aggregator sent %d of %d bytes", id, n, b.Size)
	}
	data := buf.Bytes()
	if pl != nil {
		if data, _, err = pl.Run(ctx, plugin.Reverse, cfg.Plugin.Args, bytes.NewReader(data)); err != nil {
			return err
		}
	}
	if whole && cfg.Out != "" {
		if out, err = createOut(cfg.Out); err != nil {
			return err
		}
		defer out.abort()
		if _, err := out.f.Write(data); err != nil {
			return err
		}
	}
	if out != nil {
		if err := out.commit(); err != nil {
			return err
		}
	}
	switch {
	case cfg.JSON && cfg.Out != "":
		return writeJSON(c.stdout, map[string]string{"out": cfg.Out, "blobId": id.String()})
	case cfg.JSON:
		return writeJSON(c.stdout, struct {
			BlobID string `json:"blobId"`
			Blob   []byte `json:"blob"`
		}{id.String(), data})
	case whole && cfg.Out == "":
		_, err := c.stdout.Write(data)
		return err
	}
	return nil
}

// checkPlugin fails unless a live Blob object of id says it was stored
// through a plugin of pl's name.
func checkPlugin(ctx context.Context, ledger *client.Ledger, id codec.BlobID, pl *plugin.Plugin) error {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	objs, err := ledger.BlobObjects(ctx, id)
	if err != nil {
		return fmt.Errorf("plugin attributes of %s: %w", id, err)
	}
	var names []string
	for _, o := range objs {
		if o.Deleted {
			continue
		}
		if name, ok := o.Attributes["plugin"]; ok {
			if name == pl.Name() {
				return nil
			}
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		return fmt.Errorf("blob %s was stored through plugin %q, not %q", id, names[0], pl.Name())
	}
	return fmt.Errorf("blob %s carries no plugin attribute: it was not stored with --plugin (%w)", id, chain.ErrAttributeNotFound)
}

// outFile is --out being written: a temporary file beside it, renamed
// into place by commit, removed by abort unless committed.
type outFile struct {
	f    *os.File
	path string
	done bool
}

func createOut(path string) (*outFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return &outFile{f: f, path: path}, nil
}

func (o *outFile) commit() error {
	if err := o.f.Chmod(0o644); err != nil {
		return err
	}
	if err := o.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	o.done = true
	return nil
}

func (o *outFile) abort() {
	if !o.done {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}
