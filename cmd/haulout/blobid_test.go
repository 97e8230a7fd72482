package main

import (
	"strings"
	"testing"
)

// Blob IDs that Walrus's own encoder (@mysten/walrus-wasm) gives.
const (
	helloWorldID    = "vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ\n" // "hello world", 1000 shards
	helloWorldID10  = "kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg\n" // "hello world", 10 shards
	emptyBlobID1000 = "3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4\n" // empty blob, 1000 shards
)

func TestBlobID(t *testing.T) {
	// At 4 shards a blob is 2 x 3 symbols of at most 65534 bytes.
	tooLargeFor4 := strings.Repeat("x", 6*65534+1)

	runGolden(t, "blob-id", []cliCase{
		{name: "hello", args: []string{"blob-id", "inputs/hello.txt"}, wantStdout: helloWorldID},
		{name: "hello-n10", args: []string{"blob-id", "--n-shards", "10", "inputs/hello.txt"}, wantStdout: helloWorldID10},
		{name: "hello-n10-flag-last", args: []string{"blob-id", "inputs/hello.txt", "--n-shards=10"}, wantStdout: helloWorldID10},
		{name: "empty", args: []string{"blob-id", "inputs/empty"}, wantStdout: emptyBlobID1000},
		{name: "stdin", args: []string{"blob-id", "-"}, stdin: "hello world", wantStdout: helloWorldID},
		{name: "stdin-after-dashdash", args: []string{"blob-id", "--", "-"}, stdin: "hello world", wantStdout: helloWorldID},
		{name: "stdin-empty", args: []string{"blob-id", "-"}, wantStdout: emptyBlobID1000},

		{name: "env", args: []string{"blob-id", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_N_SHARDS": "10"}, wantStdout: helloWorldID10},
		{name: "env-empty-is-unset", args: []string{"blob-id", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_N_SHARDS": ""}, wantStdout: helloWorldID},
		{name: "flag-beats-env", args: []string{"blob-id", "--n-shards", "1000", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_N_SHARDS": "10"}, wantStdout: helloWorldID},
		{name: "config-flag", args: []string{"blob-id", "--config", "inputs/n10.conf", "inputs/hello.txt"}, wantStdout: helloWorldID10},
		{name: "config-env", args: []string{"blob-id", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_CONFIG": "inputs/n10.conf"}, wantStdout: helloWorldID10},
		{name: "env-beats-config", args: []string{"blob-id", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_CONFIG": "inputs/n10.conf", "HAULOUT_N_SHARDS": "1000"}, wantStdout: helloWorldID},

		{name: "missing-file", args: []string{"blob-id", "inputs/missing.txt"}},
		{name: "directory", args: []string{"blob-id", "inputs"}},
		{name: "too-large-for-n", args: []string{"blob-id", "--n-shards", "4", "-"}, stdin: tooLargeFor4},
		{name: "n-zero", args: []string{"blob-id", "--n-shards", "0", "inputs/hello.txt"}},
		{name: "n-negative", args: []string{"blob-id", "--n-shards=-1", "inputs/hello.txt"}},
		{name: "n-too-large", args: []string{"blob-id", "--n-shards", "65536", "inputs/hello.txt"}},
		{name: "n-overflow", args: []string{"blob-id", "--n-shards", "99999999999999999999", "inputs/hello.txt"}},
		{name: "n-not-a-number", args: []string{"blob-id", "--n-shards", "ten", "inputs/hello.txt"}},
		{name: "n-fraction", args: []string{"blob-id", "--n-shards", "10.5", "inputs/hello.txt"}},
		{name: "n-empty", args: []string{"blob-id", "--n-shards=", "inputs/hello.txt"}},
		{name: "n-without-value", args: []string{"blob-id", "inputs/hello.txt", "--n-shards"}},
		{name: "env-bad-n", args: []string{"blob-id", "inputs/hello.txt"},
			env: map[string]string{"HAULOUT_N_SHARDS": "0x10"}},
		{name: "config-bad-n", args: []string{"blob-id", "--config", "inputs/bad-n.conf", "inputs/hello.txt"}},
		{name: "config-unknown-setting", args: []string{"blob-id", "--config", "inputs/unknown-setting.conf", "inputs/hello.txt"}},
		{name: "config-missing", args: []string{"blob-id", "--config", "inputs/missing.conf", "inputs/hello.txt"}},
		{name: "no-file", args: []string{"blob-id"}},
		{name: "two-files", args: []string{"blob-id", "inputs/hello.txt", "inputs/empty"}},
		{name: "unknown-flag", args: []string{"blob-id", "--shards", "10", "inputs/hello.txt"}},
		{name: "help-flag", args: []string{"blob-id", "--help"}},
	})
}
