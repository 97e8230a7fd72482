package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/haulout/haulout/chain"
)

func extendCommand() command {
	return command{
		name:    "extend",
		summary: "store a blob for more epochs",
		help: `Moves the end epoch of Blob object --blob-obj-id (the "Blob object" that
'haulout store' prints) --epochs-extended epochs later. The object must be
certified and not expired; the new end epoch may be at most the ledger's
maximum epochs ahead of the current one.

Example:
  haulout extend --blob-obj-id 0x5f1c... --epochs-extended 10`,
		new: newExtendConfig,
	}
}

// extendConfig is the configuration of `haulout extend`.
type extendConfig struct {
	ObjectID string
	Epochs   int
	JSON     bool
	Ledger   string
}

func newExtendConfig(fs *flag.FlagSet) runner {
	cfg := &extendConfig{}
	fs.StringVar(&cfg.ObjectID, "blob-obj-id", "", "the Blob object `0xID` to extend (required)")
	intRangeVar(fs, &cfg.Epochs, "epochs-extended", 0, 0, 1<<31, "extend by `N` epochs (required)")
	jsonVar(fs, &cfg.JSON)
	ledgerVar(fs, &cfg.Ledger)
	return cfg
}

func (cfg *extendConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	if cfg.ObjectID == "" || cfg.Epochs == 0 {
		return usagef("want --blob-obj-id and a positive --epochs-extended")
	}
	oid, err := chain.ParseObjectID(cfg.ObjectID)
	if err != nil {
		return fmt.Errorf("--blob-obj-id: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	rec, err := newLedger(cfg.Ledger).Extend(ctx, oid, uint32(cfg.Epochs))
	if err != nil {
		return fmt.Errorf("extend %s: %w", oid, err)
	}
	if cfg.JSON {
		return writeJSON(c.stdout, map[string]any{"epochsExtended": cfg.Epochs, "endEpoch": rec.EndEpoch})
	}
	fmt.Fprintf(c.stdout, "Extended Blob object %s (blob %s) by %d epochs: stored until epoch %d (exclusive).\n",
		oid, rec.BlobID, cfg.Epochs, rec.EndEpoch)
	return nil
}
