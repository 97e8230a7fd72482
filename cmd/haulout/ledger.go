package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/chain/local"
)

func ledgerCommand() command {
	return command{
		name:    "ledger",
		summary: "serve the embedded coordination ledger over HTTP",
		help: `Runs haulout's embedded ledger, the local stand-in for Walrus's Sui contracts:
epochs, the committee of storage nodes, blob registration, certification by a
quorum certificate, deletion, extension, attributes and the event stream that
nodes follow. Every change is in an fsynced log under --dir before it is
answered. It serves one machine or one operator; Sui is the decentralised
backend. It has no authentication: keep it on loopback or a private network.

A new ledger needs --genesis, a JSON file with the first committee: a list of
node registrations as 'haulout devnet' writes them (node ID, name, REST URL,
BLS public key, shards, proof of possession).

Example:
  haulout ledger --dir ./ledger --genesis genesis.json --listen 127.0.0.1:31400`,
		new: newLedgerConfig,
	}
}

// ledgerConfig is the configuration of `haulout ledger`.
type ledgerConfig struct {
	// Dir holds the ledger's log.
	Dir string
	// Listen is the HTTP address.
	Listen string
	// Genesis is the JSON file of the first committee (only read for a new ledger).
	Genesis string
	// EpochDuration is the length of an epoch; 0 keeps epoch 1 forever.
	EpochDuration time.Duration
	// MaxEpochsAhead bounds how far ahead a blob may be stored.
	MaxEpochsAhead int
}

func newLedgerConfig(fs *flag.FlagSet) runner {
	cfg := &ledgerConfig{}
	fs.StringVar(&cfg.Dir, "dir", "ledger-data", "keep the ledger's log in `DIR`")
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:31400", "serve HTTP on `ADDR`")
	fs.StringVar(&cfg.Genesis, "genesis", "", "first committee, a JSON `FILE` of node registrations (new ledgers only)")
	fs.DurationVar(&cfg.EpochDuration, "epoch-duration", time.Hour, "length of an epoch (0: epochs never advance by time)")
	intRangeVar(fs, &cfg.MaxEpochsAhead, "max-epochs-ahead", local.DefaultMaxEpochsAhead, 1, 1<<20,
		"store blobs for at most `N` epochs ahead")
	return cfg
}

func (cfg *ledgerConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments")
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	genesis, err := readGenesis(cfg.Genesis)
	if err != nil {
		return err
	}
	path := filepath.Join(cfg.Dir, "ledger.log")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && genesis == nil {
		return fmt.Errorf("%s holds no ledger yet: give --genesis", cfg.Dir)
	}
	l, err := local.Open(ctx, local.Config{
		Path:           path,
		Genesis:        genesis,
		EpochDuration:  cfg.EpochDuration,
		MaxEpochsAhead: uint32(cfg.MaxEpochsAhead),
		Logger:         log,
	})
	if err != nil {
		return err
	}
	defer l.Close()
	log.Info("ledger serving", "addr", cfg.Listen, "dir", cfg.Dir)
	srv := &ledgerhttp.Server{Ledger: l, Logger: log}
	return srv.ListenAndServe(ctx, cfg.Listen)
}

// readGenesis reads a JSON list of node registrations; "" gives none.
func readGenesis(path string) ([]chain.NodeRegistration, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var regs []chain.NodeRegistration
	if err := json.Unmarshal(b, &regs); err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return regs, nil
}
