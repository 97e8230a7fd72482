package local

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
)

var _ chaintest.Backend = (*Ledger)(nil)

func openTest(t *testing.T, genesis []chain.NodeRegistration) *Ledger {
	t.Helper()
	l, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: genesis, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestConformance(t *testing.T) {
	chaintest.Run(t, func(t *testing.T, genesis []chain.NodeRegistration) chaintest.Backend {
		return openTest(t, genesis)
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
