package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/haulout/haulout/aggregator"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/web"
)

func aggregatorCommand() command {
	return command{
		name:    "aggregator",
		summary: "run an aggregator: read blobs over HTTP",
		help: `Runs an aggregator: Walrus's aggregator API. GET /v1/blobs/{blob_id} reads
metadata and slivers from the storage nodes of the committee at --ledger-url,
checks every sliver against the metadata, decodes and streams the blob, with
ranges, ETags and a memory and disk cache of reconstructed blobs.

It also serves the web pages at / (unless --ui=false): upload files, which
the page encodes itself, through the publisher at --publisher-url or straight
to the storage nodes, and browse blobs. The browser must reach the ledger at
--ledger-url and the publisher at the URLs given here.

Example:
  haulout aggregator --ledger-url http://127.0.0.1:31400 --listen 127.0.0.1:31415
  curl http://127.0.0.1:31415/v1/blobs/$BLOB_ID`,
		new: newAggregatorConfig,
	}
}

type aggregatorConfig struct {
	Listen, MetricsListen, LedgerURL, CacheDir, Consistency, PublisherURL string
	MemoryCacheMiB, DiskCacheMiB                                          int
	SniffContentType, UI, AllowQuiltPatchTags                             bool
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
	fs.BoolVar(&cfg.AllowQuiltPatchTags, "allow-quilt-patch-tags-in-response", false, "send every tag of a quilt patch as a response header (default: only the allowed headers)")
	fs.BoolVar(&cfg.UI, "ui", true, "serve the web pages at /")
	fs.StringVar(&cfg.PublisherURL, "publisher-url", "http://"+publisher.DefaultAddr, "the publisher the web pages upload through, at `URL` (empty: direct uploads only)")
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
	var ui http.Handler
	if cfg.UI {
		ui = web.Handler(web.Config{PublisherURL: cfg.PublisherURL, LedgerURL: cfg.LedgerURL})
	}
	a, err := aggregator.New(aggregator.Config{
		Addr:                cfg.Listen,
		MetricsAddr:         cfg.MetricsListen,
		Ledger:              ledgerhttp.NewClient(cfg.LedgerURL),
		Consistency:         mode,
		MemoryCacheSize:     memCache,
		DiskCacheDir:        cfg.CacheDir,
		DiskCacheSize:       int64(cfg.DiskCacheMiB) << 20,
		SniffContentType:    cfg.SniffContentType,
		AllowQuiltPatchTags: cfg.AllowQuiltPatchTags,
		UI:                  ui,
		Logger:              log,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("aggregator serving", "addr", cfg.Listen)
	return a.ListenAndServe(ctx)
}
