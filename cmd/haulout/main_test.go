package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the commands print now")

// cliCase is one in-process run of haulout. Its golden outputs live in
// testdata/<command>/<name>/: stdout, stderr and exitcode.
type cliCase struct {
	name  string
	args  []string
	stdin string
	env   map[string]string
	// wantStdout, if set, is checked besides the golden file, for outputs
	// that come from outside (Walrus's own encoder) and must not follow an
	// -update blindly.
	wantStdout string
}

// runGolden runs each case with testdata/ as working directory and only the
// case's HAULOUT_* variables in the environment, and compares what it prints
// and its exit status with the golden files.
func runGolden(t *testing.T, command string, cases []cliCase) {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(testdata)
			clearHauloutEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)

			if tc.wantStdout != "" && stdout.String() != tc.wantStdout {
				t.Errorf("haulout %s: stdout = %q, want %q", strings.Join(tc.args, " "), stdout.String(), tc.wantStdout)
			}
			dir := filepath.Join(testdata, command, tc.name)
			checkGolden(t, filepath.Join(dir, "stdout"), stdout.Bytes())
			checkGolden(t, filepath.Join(dir, "stderr"), stderr.Bytes())
			checkGolden(t, filepath.Join(dir, "exitcode"), fmt.Appendf(nil, "%d\n", code))
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/haulout -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the command printed:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// clearHauloutEnv removes every HAULOUT_* variable for the duration of the
// test, so that a developer's own settings do not leak into the goldens.
func clearHauloutEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, envPrefix) {
			t.Setenv(key, "")
			os.Unsetenv(key)
		}
	}
}

func TestDispatch(t *testing.T) {
	runGolden(t, "haulout", []cliCase{
		{name: "no-command", args: []string{}},
		{name: "unknown-command", args: []string{"stor"}},
		{name: "dash-help", args: []string{"--help"}},
		{name: "dash-h", args: []string{"-h"}},
	})
}

func TestHelp(t *testing.T) {
	runGolden(t, "help", []cliCase{
		{name: "all", args: []string{"help"}},
		{name: "blob-id", args: []string{"help", "blob-id"}},
		{name: "version", args: []string{"help", "version"}},
		{name: "help", args: []string{"help", "help"}},
		{name: "unknown-command", args: []string{"help", "stor"}},
		{name: "two-commands", args: []string{"help", "blob-id", "version"}},
	})
}

// TestHelpListsEverything checks that `haulout help` names every command and,
// for each flag, the flag and its environment variable.
func TestHelpListsEverything(t *testing.T) {
	var out bytes.Buffer
	writeOverview(&out)
	for _, cmd := range commands() {
		if !strings.Contains(out.String(), "haulout "+cmd.name) {
			t.Errorf("help does not describe %q", cmd.name)
		}
		for _, f := range commandFlags(cmd) {
			for _, want := range []string{"--" + f.name, envName(f.name)} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("help does not mention %s of %q", want, cmd.name)
				}
			}
		}
	}
}
