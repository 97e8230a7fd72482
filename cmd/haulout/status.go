package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

func blobStatusCommand() command {
	return command{
		name:    "blob-status",
		args:    "[BLOB_ID]",
		summary: "show whether a blob is stored, until when, and how",
		help: `Asks the ledger for the status of a blob: not stored, stored permanently
(until which epoch, and whether certified), only in deletable Blob objects
(how many, how many certified), or marked invalid. The blob is BLOB_ID,
--blob-id, or the blob ID of --file (computed here for the ledger's shards).
'haulout status' is the same command.

With --json the output is Walrus's {"blobId", "file", "status",
"estimatedExpiryTimestamp"}, the status in the storage nodes' JSON shape.

Example:
  haulout blob-status --blob-id M4hsZGQ1oCktdzegB6HnI6Mi28S2nqOPHxK-W7_4BUk
  haulout status --file photo.jpg --json`,
		new: newBlobStatusConfig,
	}
}

// statusCommand is blob-status under the name of the tour.
func statusCommand() command {
	cmd := blobStatusCommand()
	cmd.name = "status"
	cmd.summary = "the same as blob-status"
	return cmd
}

// blobStatusConfig is the configuration of `haulout blob-status`.
type blobStatusConfig struct {
	BlobID string
	File   string
	JSON   bool
	Ledger string
}

func newBlobStatusConfig(fs *flag.FlagSet) runner {
	cfg := &blobStatusConfig{}
	fs.StringVar(&cfg.BlobID, "blob-id", "", "the blob `ID` (or give it as the argument)")
	fs.StringVar(&cfg.File, "file", "", "the blob of `FILE`")
	jsonVar(fs, &cfg.JSON)
	ledgerVar(fs, &cfg.Ledger)
	return cfg
}

func (cfg *blobStatusConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) > 1 {
		return usagef("want at most one BLOB_ID; got %d arguments", len(args))
	}
	given := 0
	raw := cfg.BlobID
	for _, s := range []string{cfg.BlobID, cfg.File, first(args)} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return usagef("want exactly one of BLOB_ID, --blob-id and --file")
	}
	if len(args) == 1 {
		raw = args[0]
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	ledger := newLedger(cfg.Ledger)
	var id codec.BlobID
	var err error
	if cfg.File != "" {
		if id, err = fileBlobID(ctx, ledger, cfg.File); err != nil {
			return err
		}
	} else if id, err = parseBlobID(raw); err != nil {
		return err
	}
	st, err := ledger.BlobStatus(ctx, id)
	if err != nil {
		return err
	}
	sys, err := ledger.SystemInfo(ctx)
	if err != nil {
		return err
	}
	var expiry *time.Time
	if st.Kind == chain.StatusPermanent && sys.EpochDuration > 0 && st.EndEpoch > sys.Epoch {
		t := sys.EpochStart.Add(time.Duration(st.EndEpoch-sys.Epoch) * sys.EpochDuration).UTC()
		expiry = &t
	}
	if cfg.JSON {
		return writeJSON(c.stdout, struct {
			BlobID string         `json:"blobId"`
			File   string         `json:"file,omitempty"`
			Status json.Marshaler `json:"status"`
			Expiry *time.Time     `json:"estimatedExpiryTimestamp,omitempty"`
		}{id.String(), cfg.File, st, expiry})
	}
	printStatus(c.stdout, id, st, sys.Epoch, expiry)
	return nil
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// fileBlobID computes the blob ID of a file for the ledger's shard count.
func fileBlobID(ctx context.Context, ledger *client.Ledger, path string) (codec.BlobID, error) {
	sys, err := ledger.SystemInfo(ctx)
	if err != nil {
		return codec.BlobID{}, err
	}
	data, err := readInput(path, nil)
	if err != nil {
		return codec.BlobID{}, err
	}
	return codec.ComputeBlobID(data, int(sys.NShards))
}

func printStatus(w io.Writer, id codec.BlobID, st chain.BlobStatus, now chain.Epoch, expiry *time.Time) {
	fmt.Fprintf(w, "Blob ID %s (current epoch %d):\n", id, now)
	deletable := func() {
		dc := st.DeletableCounts
		if dc.Total > 0 {
			fmt.Fprintf(w, "  %d deletable Blob object(s), %d of them certified.\n", dc.Total, dc.Certified)
		}
	}
	switch st.Kind {
	case chain.StatusNonexistent:
		fmt.Fprintln(w, "  not stored: no live Blob object (never stored, expired or deleted).")
	case chain.StatusInvalid:
		fmt.Fprintf(w, "  marked invalid (event %s:%d): it cannot be stored.\n", st.Event.TxDigest, st.Event.EventSeq)
	case chain.StatusPermanent:
		state := "registered, not certified"
		if st.IsCertified {
			state = "certified"
		}
		fmt.Fprintf(w, "  stored permanently, %s, until epoch %d (exclusive).\n", state, st.EndEpoch)
		if expiry != nil {
			fmt.Fprintf(w, "  expected to expire around %s.\n", expiry.Format(time.RFC3339))
		}
		deletable()
	case chain.StatusDeletable:
		deletable()
	}
	if st.InitialCertifiedEpoch != nil {
		fmt.Fprintf(w, "  first certified in epoch %d.\n", *st.InitialCertifiedEpoch)
	}
}
