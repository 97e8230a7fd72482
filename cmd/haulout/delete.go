package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

func deleteCommand() command {
	return command{
		name:    "delete",
		summary: "delete deletable blobs",
		help: `Deletes Blob objects on the ledger: every live deletable one of --blob-id (or
of the blob of --file), or the one --object-id names. The storage nodes then
drop the blob's slivers, unless another live object still stores it; the
aggregator answers 404 once no live certified object is left. Permanent blobs
cannot be deleted: they stay until their end epoch.

On a terminal it asks before deleting, unless --yes. With --json the output is
Walrus's {"blobIdentity", "deletedBlobs", "noBlobsFound"}.

Example:
  haulout delete --blob-id M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk --yes`,
		new: newDeleteConfig,
	}
}

// deleteConfig is the configuration of `haulout delete`.
type deleteConfig struct {
	BlobID, ObjectID, File string
	Yes, JSON              bool
	Ledger                 string
}

func newDeleteConfig(fs *flag.FlagSet) runner {
	cfg := &deleteConfig{}
	fs.StringVar(&cfg.BlobID, "blob-id", "", "delete the deletable Blob objects of blob `ID`")
	fs.StringVar(&cfg.ObjectID, "object-id", "", "delete the Blob object `0xID`")
	fs.StringVar(&cfg.File, "file", "", "delete the deletable Blob objects of the blob of `FILE`")
	fs.BoolVar(&cfg.Yes, "yes", false, "do not ask for confirmation")
	jsonVar(fs, &cfg.JSON)
	ledgerVar(fs, &cfg.Ledger)
	return cfg
}

func (cfg *deleteConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments: name the blob with --blob-id, --object-id or --file")
	}
	n := 0
	for _, s := range []string{cfg.BlobID, cfg.ObjectID, cfg.File} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return usagef("want exactly one of --blob-id, --object-id and --file")
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	ledger := newLedger(cfg.Ledger)
	identity := map[string]string{}
	var target string
	var id codec.BlobID
	var oid chain.ObjectID
	var err error
	switch {
	case cfg.ObjectID != "":
		if oid, err = chain.ParseObjectID(cfg.ObjectID); err != nil {
			return fmt.Errorf("--object-id: %w", err)
		}
		identity["objectId"], target = oid.String(), "Blob object "+oid.String()
	case cfg.File != "":
		if id, err = fileBlobID(ctx, ledger, cfg.File); err != nil {
			return err
		}
		identity["file"] = cfg.File
		fallthrough
	default:
		if cfg.BlobID != "" {
			if id, err = parseBlobID(cfg.BlobID); err != nil {
				return err
			}
		}
		identity["blobId"], target = id.String(), "every deletable Blob object of blob "+id.String()
	}
	if !cfg.Yes && isTerminal(c.stderr) && isTerminalReader(c.stdin) {
		fmt.Fprintf(c.stderr, "Delete %s? [y/N] ", target)
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return errors.New("not confirmed; nothing deleted")
		}
	}
	var deleted []chain.BlobRecord
	if cfg.ObjectID != "" {
		rec, err := ledger.Delete(ctx, oid)
		if err != nil {
			return fmt.Errorf("delete %s: %w", oid, err)
		}
		deleted = []chain.BlobRecord{rec}
	} else if deleted, err = ledger.DeleteBlobID(ctx, id); err != nil && !errors.Is(err, chain.ErrBlobNotFound) {
		return err
	}
	if cfg.JSON {
		objs := make([]client.BlobObject, len(deleted))
		for i, r := range deleted {
			objs[i] = client.BlobObjectOf(r)
		}
		return writeJSON(c.stdout, map[string]any{"blobIdentity": identity, "deletedBlobs": objs, "noBlobsFound": len(deleted) == 0})
	}
	if len(deleted) == 0 {
		fmt.Fprintf(c.stdout, "No live deletable Blob object of blob %s: nothing deleted.\n", id)
		return nil
	}
	for _, r := range deleted {
		fmt.Fprintf(c.stdout, "Deleted Blob object %s (blob %s, was stored until epoch %d).\n", r.ObjectID, r.BlobID, r.EndEpoch)
	}
	return nil
}
