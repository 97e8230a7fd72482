package client_test

import (
	"testing"

	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/internal/testnet"
)

// testNet is the in-process network of internal/testnet under the short
// names the tests of this package use.
type testNet struct {
	*testnet.Net
	pub *client.Publisher
	agg *client.Aggregator
	led *client.Ledger
}

func newTestNet(t testing.TB, shardsPerNode ...int) *testNet {
	t.Helper()
	n := testnet.Start(t, shardsPerNode...)
	return &testNet{Net: n, pub: n.Publisher, agg: n.Aggregator, led: n.LedgerClient}
}
