//go:build !js

package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/wasmbuild"
)

// TestNode builds the js/wasm module and runs the Node tests in test/
// against it (node --test): known blob IDs, the native codec's bytes for
// random inputs, round trips, refusals, and haulout.js driving worker.js.
// Without node the test is skipped, except in CI (CI=true), where it fails.
func TestNode(t *testing.T) {
	// Built first: even without node, the module must build.
	wasm := wasmbuild.Build(t, "js", "github.com/haulout/haulout/wasm/js")
	node := wasmbuild.Tool(t, "node")
	dir := t.TempDir()
	wasmPath := filepath.Join(dir, "haulout.wasm")
	if err := os.WriteFile(wasmPath, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	// wasm_exec.js must come from the toolchain that built the module.
	execJS, err := os.ReadFile(filepath.Join(wasmbuild.GoRoot(t), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	execPath := filepath.Join(dir, "wasm_exec.js")
	if err := os.WriteFile(execPath, execJS, 0o644); err != nil {
		t.Fatal(err)
	}
	vecPath := filepath.Join(dir, "vectors.json")
	writeVectors(t, vecPath)

	cmd := exec.Command(node, "--test", "--test-reporter=spec",
		filepath.Join("test", "codec.test.mjs"), filepath.Join("test", "worker.test.mjs"), filepath.Join("test", "sign.test.mjs"))
	cmd.Env = append(os.Environ(), "HAULOUT_WASM="+wasmPath, "HAULOUT_WASM_EXEC="+execPath, "HAULOUT_VECTORS="+vecPath)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("node --test: %v", err)
	}
}

// vector is what the native codec makes of input(size, seed), for the Node
// tests to compare with the js/wasm build.
type vector struct {
	NShards              int    `json:"nShards"`
	Size                 int    `json:"size"`
	Seed                 int    `json:"seed"`
	BlobID               string `json:"blobId"`
	BlobIDHex            string `json:"blobIdHex"`
	RootHashHex          string `json:"rootHashHex"`
	SymbolSize           int    `json:"symbolSize"`
	MetadataBcsHex       string `json:"metadataBcsHex"`
	MetadataWithIDBcsHex string `json:"metadataWithIdBcsHex"`
	Pairs                []pair `json:"pairs"`
}

type pair struct {
	Pair         int    `json:"pair"`
	PrimaryHex   string `json:"primaryHex"`
	SecondaryHex string `json:"secondaryHex"`
}

func writeVectors(t *testing.T, path string) {
	t.Helper()
	var cases []vector
	for i, tc := range []struct{ n, size int }{
		{4, 0}, {4, 1}, {7, 1000}, {10, 17}, {10, 99_999}, {100, 2 << 20}, {1000, 300_001},
	} {
		seed := 1000 + i
		data := input(tc.size, seed)
		c, err := codec.NewConfig(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encode(data)
		if err != nil {
			t.Fatal(err)
		}
		md := enc.Metadata
		root := md.RootHash()
		v := vector{
			NShards: tc.n, Size: tc.size, Seed: seed,
			BlobID: md.ID.String(), BlobIDHex: hex.EncodeToString(md.ID[:]), RootHashHex: hex.EncodeToString(root[:]),
			SymbolSize:           enc.SymbolSize,
			MetadataBcsHex:       hex.EncodeToString(md.BlobMetadata.MarshalBCS()),
			MetadataWithIDBcsHex: hex.EncodeToString(md.MarshalBCS()),
		}
		for _, p := range []int{0, 1, tc.n / 2, tc.n - 1} {
			prim, sec := enc.Pair(p)
			v.Pairs = append(v.Pairs, pair{Pair: p, PrimaryHex: hex.EncodeToString(prim.MarshalBCS()), SecondaryHex: hex.EncodeToString(sec.MarshalBCS())})
		}
		cases = append(cases, v)
	}
	b, err := json.Marshal(map[string]any{"cases": cases, "signing": signingVector(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// input is the Walrus reference harness's PRNG (see
// codec/testdata/walrus-reference/README.md), which test/load.mjs also has.
func input(size, seed int) []byte {
	x := uint32(seed)*2654435761 + 1
	if x == 0 {
		x = 1
	}
	b := make([]byte, size)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// signing is what the native chain and bls packages make of storage
// confirmations, for test/sign.test.mjs: the messages, four nodes'
// signatures over the deletable one and their aggregate.
type signing struct {
	Epoch                int      `json:"epoch"`
	BlobID               string   `json:"blobId"`
	ObjectID             string   `json:"objectId"`
	PermanentHex         string   `json:"permanentHex"`
	DeletableHex         string   `json:"deletableHex"`
	PublicKeys           []string `json:"publicKeys"`
	Signatures           []string `json:"signatures"`
	AggregateHex         string   `json:"aggregateHex"`
	AggregateOfFirstHex  string   `json:"aggregateOfFirstHex"`
	WrongKeyForSignature int      `json:"wrongKeyForSignature"`
}

func signingVector(t *testing.T) signing {
	id, err := codec.ComputeBlobID([]byte("hello world"), 10)
	if err != nil {
		t.Fatal(err)
	}
	oid := chain.ObjectID{0xab, 0xcd}
	perm := chain.StorageConfirmation{Epoch: 7, BlobID: id}.Bytes()
	del := chain.StorageConfirmation{Epoch: 7, BlobID: id, Persistence: chain.PersistenceDeletable(oid)}.Bytes()
	v := signing{Epoch: 7, BlobID: id.String(), ObjectID: oid.String(),
		PermanentHex: hex.EncodeToString(perm), DeletableHex: hex.EncodeToString(del), WrongKeyForSignature: 1}
	var sigs []bls.Signature
	for i := range 4 {
		k := chaintest.NodeKey(i)
		s := k.Sign(del)
		sigs = append(sigs, s)
		v.PublicKeys = append(v.PublicKeys, k.PublicKey().String())
		v.Signatures = append(v.Signatures, s.String())
	}
	agg, err := bls.Aggregate(sigs)
	if err != nil {
		t.Fatal(err)
	}
	v.AggregateHex = hex.EncodeToString(agg[:])
	if agg, err = bls.Aggregate(sigs[:3]); err != nil {
		t.Fatal(err)
	}
	v.AggregateOfFirstHex = hex.EncodeToString(agg[:])
	return v
}
