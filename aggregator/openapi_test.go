package aggregator

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// noLedger satisfies Ledger for tests that never read the chain.
type noLedger struct{ Ledger }

// TestOpenAPIGolden keeps the OpenAPI document under review: a change to
// the routes or their documentation shows in testdata/openapi.json
// (go test -run OpenAPIGolden -update ./aggregator rewrites it).
func TestOpenAPIGolden(t *testing.T) {
	a, err := New(Config{Ledger: noLedger{}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := json.MarshalIndent(a.openAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("OpenAPI document differs from %s; run with -update if the change is meant", golden)
	}
}
