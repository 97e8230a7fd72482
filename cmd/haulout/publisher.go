package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"

	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/publisher"
	"github.com/haulout/haulout/publisher/jobs"
)

func publisherCommand() command {
	return command{
		name:    "publisher",
		summary: "run a publisher: store blobs over HTTP",
		help: `Runs a publisher: Walrus's publisher API. PUT /v1/blobs takes a blob, spools
it to disk, encodes it, registers it on the ledger at --ledger-url, sends its
metadata and slivers to every storage node, collects a quorum of signed
confirmations and certifies it. Every upload is a job kept in a database (an
embedded one under --dir, or Postgres with --database-url), so that a
restarted publisher, or another one on the same database, finishes it.
?wait=false answers at once with a job ID to poll at /v1/jobs/{id}. Blobs over
--stream-threshold-mib are encoded from disk with their slivers kept on disk,
so memory stays bounded whatever their size. --plugin runs an operator's
sandboxed WASI plugin (e.g. wasm/plugins/gzip) over each blob before it is
encoded, and sets the attributes it returns on the Blob object.

Example:
  haulout publisher --ledger-url http://127.0.0.1:31400 --dir ./publisher
  curl -X PUT --data-binary @file "http://127.0.0.1:31416/v1/blobs?epochs=5"`,
		new: newPublisherConfig,
	}
}

type publisherConfig struct {
	Listen, MetricsListen, LedgerURL, Dir, DatabaseURL, Owner string
	MaxBodyMiB, MaxQuiltBodyMiB                               int
	StreamThresholdMiB, SendMemoryMiB                         int
	JWTSecret, JWTAlgorithm                                   string
	JWTExpiringSec                                            int
	JWTVerifyUpload                                           bool
	Plugin                                                    pluginFlags
}

func newPublisherConfig(fs *flag.FlagSet) runner {
	cfg := &publisherConfig{}
	fs.StringVar(&cfg.Listen, "listen", publisher.DefaultAddr, "serve the API on `ADDR`")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus metrics on `ADDR` (empty: none)")
	fs.StringVar(&cfg.LedgerURL, "ledger-url", "http://127.0.0.1:31400", "the ledger at `URL`")
	fs.StringVar(&cfg.Dir, "dir", "publisher-data", "keep spooled uploads (and the embedded job store) in `DIR`")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "keep jobs in the Postgres at `URL` (empty: embedded store in --dir)")
	fs.StringVar(&cfg.Owner, "owner", "", "lease jobs under `NAME`, unique per publisher (default: host and process)")
	intRangeVar(fs, &cfg.MaxBodyMiB, "max-body-size-mib", publisher.DefaultMaxBodySize>>20, 1, 1<<20, "refuse blobs over `N` MiB")
	intRangeVar(fs, &cfg.MaxQuiltBodyMiB, "max-quilt-body-size-mib", 100, 1, 1<<20, "refuse quilt uploads over `N` MiB")
	intRangeVar(fs, &cfg.StreamThresholdMiB, "stream-threshold-mib", publisher.DefaultStreamThreshold>>20, 1, 1<<20,
		"encode blobs over `N` MiB from disk in passes, keeping their slivers on disk (bounded memory)")
	intRangeVar(fs, &cfg.SendMemoryMiB, "send-memory-mib", publisher.DefaultSendMemory>>20, 1, 1<<20,
		"hold at most `N` MiB of on-disk slivers in memory while sending them to nodes")
	cfg.Plugin.register(fs, "of PUT /v1/blobs before encoding it")
	fs.StringVar(&cfg.JWTSecret, "jwt-decode-secret", "", "verify JWTs with `SECRET` (turns authentication on)")
	fs.StringVar(&cfg.JWTAlgorithm, "jwt-algorithm", "", "JWT `ALG` (default HS256)")
	intRangeVar(fs, &cfg.JWTExpiringSec, "jwt-expiring-sec", 0, 0, 1<<30, "require tokens to live exactly `N` seconds (0: any)")
	fs.BoolVar(&cfg.JWTVerifyUpload, "jwt-verify-upload", false, "enforce the upload claims of JWTs")
	return cfg
}

func (cfg *publisherConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	store, err := jobs.Open(ctx, jobs.Config{
		DatabaseURL: cfg.DatabaseURL,
		Path:        filepath.Join(cfg.Dir, "jobs.db"),
		Logger:      log,
	})
	if err != nil {
		return err
	}
	defer store.Close()
	var plugins []publisher.UploadPlugin
	pl, err := cfg.Plugin.load(ctx)
	if err != nil {
		return err
	}
	if pl != nil {
		defer pl.Close(context.WithoutCancel(ctx))
		plugins = append(plugins, publisher.UploadPlugin{Plugin: pl, Args: cfg.Plugin.Args})
	}
	p, err := publisher.New(publisher.Config{
		Ledger:           ledgerhttp.NewClient(cfg.LedgerURL),
		Jobs:             store,
		Addr:             cfg.Listen,
		MetricsAddr:      cfg.MetricsListen,
		SpoolDir:         filepath.Join(cfg.Dir, "spool"),
		Owner:            cfg.Owner,
		MaxBodySize:      int64(cfg.MaxBodyMiB) << 20,
		MaxQuiltBodySize: int64(cfg.MaxQuiltBodyMiB) << 20,
		StreamThreshold:  int64(cfg.StreamThresholdMiB) << 20,
		SendMemory:       int64(cfg.SendMemoryMiB) << 20,
		Plugins:          plugins,
		JWT: publisher.JWTConfig{
			DecodeSecret: cfg.JWTSecret,
			Algorithm:    cfg.JWTAlgorithm,
			ExpiringSec:  int64(cfg.JWTExpiringSec),
			VerifyUpload: cfg.JWTVerifyUpload,
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}
