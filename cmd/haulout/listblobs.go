package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/haulout/haulout/client"
)

func listBlobsCommand() command {
	return command{
		name:    "list-blobs",
		summary: "list the Blob objects on the ledger",
		help: `Lists the live Blob objects on the ledger (with --include-expired, the
expired ones too; deleted ones never): blob ID, Blob object, size, whether it
is deletable and certified, and its end epoch. The local ledger has no
wallets, so this is every object on it, where Walrus lists the wallet's.

With --json the output is an array of Blob objects in Walrus's shape.

Example:
  haulout list-blobs --include-expired`,
		new: newListBlobsConfig,
	}
}

// listBlobsConfig is the configuration of `haulout list-blobs`.
type listBlobsConfig struct {
	IncludeExpired bool
	JSON           bool
	Ledger         string
}

func newListBlobsConfig(fs *flag.FlagSet) runner {
	cfg := &listBlobsConfig{}
	fs.BoolVar(&cfg.IncludeExpired, "include-expired", false, "list expired Blob objects too")
	jsonVar(fs, &cfg.JSON)
	ledgerVar(fs, &cfg.Ledger)
	return cfg
}

func (cfg *listBlobsConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	recs, err := newLedger(cfg.Ledger).ListBlobs(ctx, cfg.IncludeExpired)
	if err != nil {
		return err
	}
	if cfg.JSON {
		objs := make([]client.BlobObject, len(recs))
		for i, r := range recs {
			objs[i] = client.BlobObjectOf(r)
		}
		return writeJSON(c.stdout, objs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BLOB ID\tBLOB OBJECT\tSIZE\tDELETABLE\tCERTIFIED\tEXPIRY EPOCH")
	for _, r := range recs {
		cert := "no"
		if r.CertifiedEpoch != nil {
			cert = fmt.Sprintf("epoch %d", *r.CertifiedEpoch)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%v\t%s\t%d\n", r.BlobID, r.ObjectID, r.UnencodedSize, r.Deletable, cert, r.EndEpoch)
	}
	return tw.Flush()
}
