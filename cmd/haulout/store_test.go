package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/internal/testnet"
)

func TestParseExpiryTime(t *testing.T) {
	want := time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-03-20T15:00:00Z", "2026-03-20T16:00:00+01:00", "2026-03-20 15:00:00",
		"2026-03-20T15:00:00", "2026-03-20 15:00:00Z", fmt.Sprint(want.Unix())} {
		got, err := parseExpiryTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseExpiryTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "tomorrow", "2026-03-20", "-5", "99999999999999999999", "2026-13-01T00:00:00Z"} {
		if got, err := parseExpiryTime(s); err == nil {
			t.Errorf("parseExpiryTime(%q) = %v, want an error", s, got)
		}
	}
}

// loadStore fills a store configuration as `haulout store` does, from the
// command line args, the environment env and the config file conf.
func loadStore(t *testing.T, args []string, env map[string]string, conf string) (*storeConfig, error) {
	t.Helper()
	if conf != "" {
		path := filepath.Join(t.TempDir(), "haulout.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	fs := newFlagSet("store")
	cfg := newStoreConfig(fs).(*storeConfig)
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := loadSettings(fs, args, lookup, isKnownSetting)
	return cfg, err
}

// TestLifetimeChosen: at most one of --epochs, --end-epoch and
// --earliest-expiry-time, the command line winning over the settings.
func TestLifetimeChosen(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		env     map[string]string
		conf    string
		want    string // flag name, or the start of the error
		isUsage bool
	}{
		{want: flagEpochs},
		{args: []string{"--end-epoch", "9"}, want: flagEndEpoch},
		{args: []string{"--earliest-expiry-time", "2030-01-01T00:00:00Z"}, want: flagExpiry},
		{args: []string{"--epochs", "2", "--end-epoch", "9"}, want: "give only one of", isUsage: true},
		{args: []string{"--end-epoch", "9", "--earliest-expiry-time", "2030-01-01T00:00:00Z"}, want: "give only one of", isUsage: true},
		// A config file's epochs = max serves every command, and the
		// command line still picks another way.
		{conf: "epochs = max\n", want: flagEpochs},
		{args: []string{"--end-epoch", "9"}, conf: "epochs = max\n", want: flagEndEpoch},
		{args: []string{"--earliest-expiry-time", "1900000000"}, env: map[string]string{"HAULOUT_END_EPOCH": "4"}, want: flagExpiry},
		{env: map[string]string{"HAULOUT_END_EPOCH": "4"}, want: flagEndEpoch},
		{env: map[string]string{"HAULOUT_END_EPOCH": "4"}, conf: "epochs = 3\n", want: "the settings"},
	} {
		name := fmt.Sprintf("%v env %v conf %q", tc.args, tc.env, tc.conf)
		cfg, err := loadStore(t, append(tc.args, "x"), tc.env, tc.conf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := cfg.Lifetime.chosen()
		var ue *usageError
		switch {
		case err != nil && (!strings.HasPrefix(err.Error(), tc.want) || errors.As(err, &ue) != tc.isUsage):
			t.Errorf("%s: error %v (usage error: %v), want %q (usage error: %v)", name, err, errors.As(err, &ue), tc.want, tc.isUsage)
		case err == nil && got != tc.want:
			t.Errorf("%s: chose %s, want %s", name, got, tc.want)
		}
	}
}

// TestEpochsMaxEverywhere: one config file with epochs = max serves store,
// store-quilt and site deploy alike.
func TestEpochsMaxEverywhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haulout.conf")
	if err := os.WriteFile(path, []byte("epochs = max\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		new    func(*flag.FlagSet) runner
		epochs func(runner) epochsValue
	}{
		{"store", newStoreConfig, func(r runner) epochsValue { return r.(*storeConfig).Lifetime.Epochs }},
		{"store-quilt", newStoreQuiltConfig, func(r runner) epochsValue { return r.(*storeQuiltConfig).Lifetime.Epochs }},
		{"site", newSiteConfig, func(r runner) epochsValue { return r.(*siteConfig).Epochs }},
	} {
		for _, args := range [][]string{{"--config", path}, {"--epochs", "max"}} {
			fs := newFlagSet(tc.name)
			r := tc.new(fs)
			if _, err := loadSettings(fs, args, func(string) (string, bool) { return "", false }, isKnownSetting); err != nil {
				t.Fatalf("%s %v: %v", tc.name, args, err)
			}
			if e := tc.epochs(r); !e.max || e.String() != "max" {
				t.Errorf("%s %v: epochs %+v, want max", tc.name, args, e)
			}
		}
	}
	// And site deploy turns it into the ledger's limit (site.DeployOptions).
	fs := newFlagSet("site")
	r := newSiteConfig(fs).(*siteConfig)
	if _, err := loadSettings(fs, []string{"--epochs", "max"}, func(string) (string, bool) { return "", false }, isKnownSetting); err != nil {
		t.Fatal(err)
	}
	if opts := r.deployOptions("dir"); !opts.MaxEpochs {
		t.Errorf("site deploy --epochs max: %+v", opts)
	}
}

// TestLifetimeEpochsAhead: how each flag becomes a number of epochs, as
// Walrus counts them.
func TestLifetimeEpochsAhead(t *testing.T) {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	info := &client.Info{Epoch: 5, EpochStart: start, EpochDuration: time.Hour, MaxEpochsAhead: 10}
	now := start.Add(10 * time.Minute)
	for _, tc := range []struct {
		args   []string
		info   *client.Info
		noInfo bool // a plain --epochs N needs none
		want   uint32
		err    string
	}{
		{args: []string{"--epochs", "3"}, noInfo: true, want: 3},
		{args: []string{"--epochs", "max"}, want: 10},
		{args: []string{"--epochs", "10"}, want: 10},
		{args: []string{"--epochs", "11"}, err: "at most 10 epochs ahead (until epoch 15); --epochs asks for 11"},
		{args: []string{"--end-epoch", "8"}, want: 3},
		{args: []string{"--end-epoch", "15"}, want: 10},
		{args: []string{"--end-epoch", "16"}, err: "at most 10 epochs ahead (until epoch 15); --end-epoch asks for 11"},
		{args: []string{"--end-epoch", "5"}, err: "--end-epoch 5 is not after the current epoch 5"},
		// Within the current epoch: it must last past its end.
		{args: []string{"--earliest-expiry-time", "2026-12-04T12:30:00Z"}, want: 1},
		// Exactly at the end of epoch 5: stored through epoch 6 too.
		{args: []string{"--earliest-expiry-time", "2026-12-04T13:00:00Z"}, want: 2},
		{args: []string{"--earliest-expiry-time", "2026-12-04T15:59:59Z"}, want: 4},
		{args: []string{"--earliest-expiry-time", fmt.Sprint(start.Add(90 * time.Minute).Unix())}, want: 2},
		{args: []string{"--earliest-expiry-time", "2026-12-04T12:05:00Z"}, err: "--earliest-expiry-time 2026-12-04T12:05:00Z is not in the future"},
		{args: []string{"--earliest-expiry-time", "2027-12-04T12:05:00Z"}, err: "at most 10 epochs ahead"},
		{args: []string{"--earliest-expiry-time", "2300-01-01T00:00:00Z"}, err: "at most 10 epochs ahead"},
		{args: []string{"--earliest-expiry-time", "2026-12-04T12:30:00Z"}, info: &client.Info{Epoch: 5, EpochStart: start, MaxEpochsAhead: 10},
			err: "--earliest-expiry-time: the ledger's epochs have no set duration"},
	} {
		cfg, err := loadStore(t, append(tc.args, "x"), nil, "")
		if err != nil {
			t.Fatal(err)
		}
		name, err := cfg.Lifetime.chosen()
		if err != nil {
			t.Fatal(err)
		}
		in := info
		if tc.info != nil || tc.noInfo {
			in = tc.info
		}
		got, err := cfg.Lifetime.epochsAhead(name, in, now)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: %d, %v; want error %q", tc.args, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%v: %d, %v; want %d", tc.args, got, err, tc.want)
		}
	}
}

// TestStoreUsage: the lifetime flags' refusals, in goldens; none needs a
// network.
func TestStoreUsage(t *testing.T) {
	down := map[string]string{"HAULOUT_PUBLISHER": "http://127.0.0.1:1", "HAULOUT_LEDGER": "http://127.0.0.1:1"}
	runGolden(t, "store", []cliCase{
		{name: "epochs-and-end-epoch", args: []string{"store", "--epochs", "2", "--end-epoch", "9", "inputs/hello.txt"}},
		{name: "end-epoch-and-expiry", args: []string{"store", "--end-epoch", "9", "--earliest-expiry-time", "2030-01-01T00:00:00Z", "inputs/hello.txt"}},
		{name: "bad-end-epoch", args: []string{"store", "--end-epoch", "soon", "inputs/hello.txt"}},
		{name: "bad-expiry", args: []string{"store", "--earliest-expiry-time", "tomorrow", "inputs/hello.txt"}},
		{name: "settings-conflict", args: []string{"store", "inputs/hello.txt"}, env: map[string]string{"HAULOUT_EPOCHS": "3", "HAULOUT_END_EPOCH": "9"}},
		{name: "end-epoch-ledger-down", args: []string{"store", "--end-epoch", "9", "inputs/hello.txt"}, env: down},
		{name: "dry-run-ledger-down", args: []string{"store", "--dry-run", "inputs/hello.txt"}, env: down},
	})
}

// TestStoreLifetimeAndDryRun runs --end-epoch, --earliest-expiry-time and
// --dry-run against a whole in-process network.
func TestStoreLifetimeAndDryRun(t *testing.T) {
	clearHauloutEnv(t)
	tn := testnet.Start(t, 3, 3, 4)
	t.Setenv("HAULOUT_PUBLISHER", tn.PublisherURL)
	t.Setenv("HAULOUT_LEDGER", tn.LedgerURL)
	dir := t.TempDir()
	data := bytes.Repeat([]byte("dry run "), 3000)
	file := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantID, _ := codec.ComputeBlobID(data, 10)
	info, err := tn.LedgerClient.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	notStored := func() {
		t.Helper()
		st, err := tn.LedgerClient.BlobStatus(t.Context(), wantID)
		if err != nil || st.Kind != chain.StatusNonexistent {
			t.Fatalf("after a dry run the ledger has %+v, %v", st, err)
		}
	}

	// --dry-run --json: Walrus's shape, the network's blob ID and sizes.
	out, errOut, code := runCLI(t, "", "store", "--dry-run", "--json", "--end-epoch", fmt.Sprint(info.Epoch+4), file)
	if code != 0 {
		t.Fatalf("store --dry-run --json: exit %d\n%s", code, errOut)
	}
	encoded, _ := chain.EncodedBlobLength(uint64(len(data)), 10)
	want := fmt.Sprintf(`[{"path":%q,"blobId":"%s","unencodedSize":%d,"encodedSize":%d,"storageCost":0,"encodingType":"RS2"}]`+"\n",
		file, wantID, len(data), encoded)
	if out != want {
		t.Fatalf("store --dry-run --json:\n%s\nwant\n%s", out, want)
	}
	notStored()
	// The text form, from standard input.
	out, errOut, code = runCLI(t, string(data), "store", "--dry-run", "-")
	if code != 0 || !strings.Contains(out, "Blob ID:                   "+wantID.String()) ||
		!strings.Contains(out, fmt.Sprintf("1 (until epoch %d, exclusive)", info.Epoch+1)) {
		t.Fatalf("store --dry-run -: exit %d\n%s%s", code, out, errOut)
	}
	notStored()

	// --end-epoch: stored until exactly that epoch.
	var stored []struct {
		BlobStoreResult struct {
			NewlyCreated *struct {
				BlobObject client.BlobObject `json:"blobObject"`
			} `json:"newlyCreated"`
		} `json:"blobStoreResult"`
	}
	out, errOut, code = runCLI(t, "", "store", "--json", "--end-epoch", fmt.Sprint(info.Epoch+4), file)
	if code != 0 {
		t.Fatalf("store --end-epoch: exit %d\n%s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &stored); err != nil || len(stored) != 1 || stored[0].BlobStoreResult.NewlyCreated == nil {
		t.Fatalf("store --end-epoch: %v\n%s", err, out)
	}
	if bo := stored[0].BlobStoreResult.NewlyCreated.BlobObject; bo.BlobID != wantID || bo.Storage.EndEpoch != info.Epoch+4 {
		t.Fatalf("store --end-epoch %d: blob %s until %d", info.Epoch+4, bo.BlobID, bo.Storage.EndEpoch)
	}
	// --direct takes it too.
	other := filepath.Join(dir, "other.bin")
	os.WriteFile(other, []byte("direct, until an epoch"), 0o600)
	if out, errOut, code := runCLI(t, "", "store", "--direct", "--end-epoch", fmt.Sprint(info.Epoch+2), other); code != 0 ||
		!strings.Contains(out, fmt.Sprintf("Expiry epoch (exclusive):  %d", info.Epoch+2)) {
		t.Fatalf("store --direct --end-epoch: exit %d\n%s%s", code, out, errOut)
	}

	// Refusals that need the ledger's state: an end epoch not ahead, too
	// far ahead, and a time on a ledger whose epochs have no duration.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--end-epoch", fmt.Sprint(info.Epoch)}, fmt.Sprintf("--end-epoch %d is not after the current epoch %d", info.Epoch, info.Epoch)},
		{[]string{"--end-epoch", fmt.Sprint(uint32(info.Epoch) + info.MaxEpochsAhead + 1)}, "epochs ahead"},
		{[]string{"--earliest-expiry-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, "no set duration"},
		{[]string{"--dry-run", "--end-epoch", fmt.Sprint(info.Epoch)}, "is not after the current epoch"},
	} {
		out, errOut, code := runCLI(t, "", append(append([]string{"store"}, tc.args...), other)...)
		if code != exitFailure || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("store %v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}
