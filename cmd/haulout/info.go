package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/haulout/haulout/client"
)

func infoCommand() command {
	return command{
		name:    "info",
		args:    "[all|epoch|storage|size|committee]",
		summary: "show the network: epoch, committee, shards, sizes",
		help: `Shows what the ledger says about the network: the current epoch, when it
started and how long epochs last; the shards and nodes; the largest blob and
the fault thresholds; and the committee (each node's URL and shards). A
section name shows only that section (default all).

With --json the output has Walrus's sections: epochInfo, storageInfo,
sizeInfo, and committeeInfo (haulout's own shape).

Example:
  haulout info
  haulout info committee --json`,
		new: newInfoConfig,
	}
}

// infoConfig is the configuration of `haulout info`.
type infoConfig struct {
	JSON   bool
	Ledger string
}

func newInfoConfig(fs *flag.FlagSet) runner {
	cfg := &infoConfig{}
	jsonVar(fs, &cfg.JSON)
	ledgerVar(fs, &cfg.Ledger)
	return cfg
}

// Walrus's info output, by section.
type infoEpoch struct {
	CurrentEpoch        uint32       `json:"currentEpoch"`
	StartOfCurrentEpoch time.Time    `json:"startOfCurrentEpoch"`
	EpochDuration       rustDuration `json:"epochDuration"`
	MaxEpochsAhead      uint32       `json:"maxEpochsAhead"`
}

// rustDuration is a duration as serde writes Rust's: seconds and nanos.
type rustDuration struct {
	Secs  int64 `json:"secs"`
	Nanos int64 `json:"nanos"`
}

type infoStorage struct {
	NShards uint16 `json:"nShards"`
	NNodes  int    `json:"nNodes"`
}

type infoSize struct {
	StorageUnitSize uint64 `json:"storageUnitSize"`
	MaxBlobSize     uint64 `json:"maxBlobSize"`
	MetadataSize    uint64 `json:"metadataSize"`
}

type infoCommittee struct {
	MaxFaultyShards int               `json:"maxFaultyShards"`
	QuorumShards    int               `json:"quorumShards"`
	ValidityShards  int               `json:"validityShards"`
	Nodes           []client.InfoNode `json:"nodes"`
}

func (cfg *infoConfig) run(ctx context.Context, c *cli, args []string) error {
	section := "all"
	switch len(args) {
	case 0:
	case 1:
		section = args[0]
	default:
		return usagef("want at most one section; got %d arguments", len(args))
	}
	switch section {
	case "all", "epoch", "storage", "size", "committee":
	default:
		return usagef("unknown section %q: want all, epoch, storage, size or committee", section)
	}
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	info, err := newLedger(cfg.Ledger).Info(ctx)
	if err != nil {
		return err
	}
	show := func(s string) bool { return section == "all" || section == s }
	out := map[string]any{}
	if show("epoch") {
		out["epochInfo"] = infoEpoch{uint32(info.Epoch), info.EpochStart.UTC(),
			rustDuration{int64(info.EpochDuration / time.Second), int64(info.EpochDuration % time.Second)}, info.MaxEpochsAhead}
	}
	if show("storage") {
		out["storageInfo"] = infoStorage{info.NShards, len(info.Nodes)}
	}
	if show("size") {
		out["sizeInfo"] = infoSize{1 << 20, info.MaxBlobSize, info.MetadataSize}
	}
	if show("committee") {
		out["committeeInfo"] = infoCommittee{info.MaxFaulty, info.QuorumWeight, info.ValidityWeight, info.Nodes}
	}
	if cfg.JSON {
		return writeJSON(c.stdout, out)
	}
	printInfo(c.stdout, info, show)
	return nil
}

func printInfo(w io.Writer, info *client.Info, show func(string) bool) {
	if show("epoch") {
		fmt.Fprintf(w, "Epoch\n  current epoch:     %d\n  started:           %s\n", info.Epoch, info.EpochStart.UTC().Format(time.RFC3339))
		if info.EpochDuration > 0 {
			fmt.Fprintf(w, "  epoch duration:    %s\n", info.EpochDuration)
		} else {
			fmt.Fprintf(w, "  epoch duration:    none (epochs advance on demand)\n")
		}
		fmt.Fprintf(w, "  max epochs ahead:  %d\n", info.MaxEpochsAhead)
	}
	if show("storage") {
		fmt.Fprintf(w, "Storage\n  shards:            %d\n  nodes:             %d\n", info.NShards, len(info.Nodes))
	}
	if show("size") {
		fmt.Fprintf(w, "Sizes\n  max blob size:     %d bytes\n  metadata per blob: %d bytes (encoded length of an empty blob)\n", info.MaxBlobSize, info.MetadataSize)
	}
	if show("committee") {
		fmt.Fprintf(w, "Committee (f = %d shards may fail; a quorum is %d shards, validity %d)\n", info.MaxFaulty, info.QuorumWeight, info.ValidityWeight)
		for _, n := range info.Nodes {
			fmt.Fprintf(w, "  %-12s %s  %d shards  %s\n", n.Name, n.URL, len(n.Shards), n.ID)
		}
	}
}
