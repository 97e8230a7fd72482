package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/haulout/haulout/devnet"
)

func devnetCommand() command {
	return command{
		name:    "devnet",
		summary: "run a whole local network: ledger, storage nodes, publisher, aggregator",
		help: `Runs a whole haulout network on this machine, each service its own process:
the ledger, --nodes storage nodes holding --shards shards between them, the
publisher and the aggregator. Data lives under --dir; a second start on the
same --dir finds every blob stored before (its shape, nodes and shards, is
fixed when it is first made). It prints the URLs and an example, and stops
every service on Ctrl-C. Service logs are in --dir/logs.

Jobs of the publisher are kept in an embedded store under --dir unless
--database-url names a Postgres database.

Example:
  haulout devnet
  curl -X PUT --data-binary @file "http://127.0.0.1:31416/v1/blobs?epochs=5"`,
		new: newDevnetConfig,
	}
}

type devnetConfig struct {
	Dir, PublisherAddr, AggregatorAddr, LedgerAddr, DatabaseURL string
	Nodes, Shards                                               int
	EpochDuration                                               time.Duration
}

func newDevnetConfig(fs *flag.FlagSet) runner {
	cfg := &devnetConfig{}
	fs.StringVar(&cfg.Dir, "dir", "devnet-data", "keep all data in `DIR`")
	// 0: a new devnet gets 7 nodes and 1000 shards, an existing one keeps its own.
	intRangeVar(fs, &cfg.Nodes, "nodes", 0, 0, 1000, "run `N` storage nodes; a new devnet only, 0 means 7")
	intRangeVar(fs, &cfg.Shards, "shards", 0, 0, 65535, "spread `N` shards over the nodes; a new devnet only, 0 means 1000")
	fs.StringVar(&cfg.PublisherAddr, "publisher-addr", "127.0.0.1:31416", "serve the publisher on `ADDR`")
	fs.StringVar(&cfg.AggregatorAddr, "aggregator-addr", "127.0.0.1:31415", "serve the aggregator on `ADDR`")
	fs.StringVar(&cfg.LedgerAddr, "ledger-addr", "127.0.0.1:31400", "serve the ledger on `ADDR` (the client commands' default --ledger)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "keep publisher jobs in the Postgres at `URL` (empty: embedded store)")
	fs.DurationVar(&cfg.EpochDuration, "epoch-duration", time.Hour, "length of an epoch")
	return cfg
}

func (cfg *devnetConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	return devnet.Run(ctx, devnet.Config{
		Dir:            cfg.Dir,
		Nodes:          cfg.Nodes,
		Shards:         cfg.Shards,
		PublisherAddr:  cfg.PublisherAddr,
		AggregatorAddr: cfg.AggregatorAddr,
		LedgerAddr:     cfg.LedgerAddr,
		DatabaseURL:    cfg.DatabaseURL,
		EpochDuration:  cfg.EpochDuration,
		Out:            c.stdout,
		Logger:         slog.New(slog.NewTextHandler(c.stderr, nil)),
	})
}
