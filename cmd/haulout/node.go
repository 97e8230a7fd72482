package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/devnet"
	"github.com/haulout/haulout/storagenode"
)

func nodeCommand() command {
	return command{
		name:    "node",
		summary: "run a storage node",
		help: `Runs a storage node: Walrus's storage-node REST API (metadata, slivers,
confirmations, blob status, recovery symbols, health), a durable sliver store
under --dir, signed storage confirmations, recovery of missing slivers from
peers, and removal of expired and deleted blobs. It follows the ledger at
--ledger-url and holds the shards the committee gives --node-id.

The BLS key comes from --key-seed-file, a file holding a hex seed of at least
32 bytes (haulout devnet makes one per node).

Example:
  haulout node --dir ./node0 --ledger-url http://127.0.0.1:31400 \
    --node-id 0x… --key-seed-file ./node0/bls.seed --listen 127.0.0.1:9185`,
		new: newNodeConfig,
	}
}

type nodeConfig struct {
	Dir, Listen, MetricsListen, LedgerURL, KeySeedFile, NodeID string
	TLS                                                        bool
	TLSCert, TLSKey                                            string
}

func newNodeConfig(fs *flag.FlagSet) runner {
	cfg := &nodeConfig{}
	fs.StringVar(&cfg.Dir, "dir", "node-data", "keep the node's store in `DIR`")
	fs.StringVar(&cfg.Listen, "listen", storagenode.DefaultAddr, "serve the REST API on `ADDR`")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", storagenode.DefaultMetricsAddr, "serve Prometheus metrics on `ADDR` (empty: none)")
	fs.StringVar(&cfg.LedgerURL, "ledger-url", "http://127.0.0.1:31400", "the ledger at `URL`")
	fs.StringVar(&cfg.KeySeedFile, "key-seed-file", "", "the node's BLS key seed, hex, in `FILE` (required)")
	fs.StringVar(&cfg.NodeID, "node-id", "", "the node's `ID` in the committee, 0x and 64 hex digits (required)")
	fs.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS (HTTP/2); without --tls-cert a self-signed certificate is made under --dir")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate `FILE` for --tls")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM key `FILE` for --tls")
	return cfg
}

func (cfg *nodeConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	if cfg.KeySeedFile == "" || cfg.NodeID == "" {
		return usagef("--key-seed-file and --node-id are required")
	}
	id, err := chain.ParseObjectID(cfg.NodeID)
	if err != nil {
		return fmt.Errorf("--node-id: %w", err)
	}
	seed, err := devnet.ReadKeySeed(cfg.KeySeedFile)
	if err != nil {
		return err
	}
	key, err := bls.KeyFromSeed(seed)
	if err != nil {
		return fmt.Errorf("--key-seed-file: %w", err)
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	n, err := storagenode.New(ctx, storagenode.Config{
		Dir:         cfg.Dir,
		Ledger:      ledgerhttp.NewClient(cfg.LedgerURL),
		NodeID:      id,
		Key:         key,
		Addr:        cfg.Listen,
		MetricsAddr: cfg.MetricsListen,
		TLS:         storagenode.TLSConfig{Enabled: cfg.TLS, CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey},
		Logger:      log,
	})
	if err != nil {
		return err
	}
	defer n.Close()
	log.Info("storage node serving", "addr", cfg.Listen, "node_id", cfg.NodeID, "dir", cfg.Dir)
	return n.Run(ctx)
}
