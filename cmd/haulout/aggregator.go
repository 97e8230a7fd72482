package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/codec"
)

func aggregatorCommand() command {
	return command{
		name:    "aggregator",
		summary: "run an aggregator: read blobs over HTTP",
		help: `Runs an aggregator: Walrus's aggregator API. GET /v1/blobs/{blob_id} reads
metadata and slivers from the storage nodes of the committee at --ledger-url,
checks every sliver against the metadata, decodes and streams the blob, with
ranges, ETags and a memory and disk cache of reconstructed blobs.

Example:
  haulout aggregator --ledger-url http://127.0.0.1:31400 --listen 127.0.0.1:31415
  curl http://127.0.0.1:31415/v1/blobs/$BLOB_ID`,
		new: newAggregatorConfig,
	}
}

type aggregatorConfig struct {
	Listen, MetricsListen, LedgerURL, CacheDir, Consistency string
	MemoryCacheMiB, DiskCacheMiB                            int
	SniffContentType                                        bool
}

func newAggregatorConfig(fs *flag.FlagSet) runner {
	cfg := &aggregatorConfig{}
	fs.StringVar(&cfg.Listen, "listen", aggregator.DefaultAddr, "serve the API on `ADDR`")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics on `ADDR` (empty: none)")
	fs.StringVar(&cfg.LedgerURL, "ledger-url", "http://127.0.0.1:31400", "the ledger at `URL`")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "keep reconstructed blobs in `DIR` (empty: no disk cache)")
	intRangeVar(fs, &cfg.MemoryCacheMiB, "memory-cache-mib", aggregator.DefaultMemoryCacheSize>>20, 0, 1<<20, "memory cache of `N` MiB")
	intRangeVar(fs, &cfg.DiskCacheMiB, "disk-cache-mib", aggregator.DefaultDiskCacheSize>>20, 1, 1<<30, "disk cache of `N` MiB (with --cache-dir)")
	fs.StringVar(&cfg.Consistency, "consistency", "default", "check of decoded blobs: `default`, strict or skip")
	fs.BoolVar(&cfg.SniffContentType, "sniff-content-type", false, "guess Content-Type from the first bytes when nothing else gives one")
	return cfg
}

func (cfg *aggregatorConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	var mode codec.Consistency
	switch cfg.Consistency {
	case "default":
		mode = codec.ConsistencyDefault
	case "strict":
		mode = codec.ConsistencyStrict
	case "skip":
		mode = codec.ConsistencySkip
	default:
		return fmt.Errorf("--consistency: %q is not default, strict or skip", cfg.Consistency)
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	memCache := int64(cfg.MemoryCacheMiB) << 20
	if memCache == 0 {
		memCache = -1 // no memory cache
	}
	a, err := aggregator.New(aggregator.Config{
		Addr:             cfg.Listen,
		MetricsAddr:      cfg.MetricsListen,
		Ledger:           ledgerhttp.NewClient(cfg.LedgerURL),
		Consistency:      mode,
		MemoryCacheSize:  memCache,
		DiskCacheDir:     cfg.CacheDir,
		DiskCacheSize:    int64(cfg.DiskCacheMiB) << 20,
		SniffContentType: cfg.SniffContentType,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("aggregator serving", "addr", cfg.Listen)
	return a.ListenAndServe(ctx)
}
