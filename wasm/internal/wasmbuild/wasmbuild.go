// Package wasmbuild builds this module's WebAssembly programs for tests:
// go build with GOOS and GOARCH=wasm set, once per package and target per
// test binary, with the flags `make wasm` uses. Built modules are kept in
// memory, never written into the repository.
//
// It also finds the tools such tests need (go, node) and decides what a
// missing one means: a skip on a developer's machine, a failure in CI
// (CI=true), where every test must run.
package wasmbuild

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Flags are the build flags of shipped modules: no symbol table or DWARF
// (smaller downloads), no local paths.
var Flags = []string{"-trimpath", "-ldflags=-s -w"}

type result struct {
	once sync.Once
	wasm []byte
	err  error
}

var builds sync.Map // "goos pkg" -> *result

// Build returns the module that `GOOS=goos GOARCH=wasm go build pkg`
// makes; pkg is an import path of this module. The first call per (goos,
// pkg) builds it, later ones return the same bytes.
func Build(tb testing.TB, goos, pkg string) []byte {
	tb.Helper()
	goTool := Tool(tb, "go")
	r, _ := builds.LoadOrStore(goos+" "+pkg, &result{})
	res := r.(*result)
	res.once.Do(func() { res.wasm, res.err = build(goTool, goos, pkg) })
	if res.err != nil {
		tb.Fatal(res.err)
	}
	return res.wasm
}

func build(goTool, goos, pkg string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "haulout-wasmbuild-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.wasm")
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.Command(goTool, args...)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("GOOS=%s GOARCH=wasm go build %s: %v\n%s", goos, pkg, err, stderr.String())
	}
	return os.ReadFile(out)
}

// Tool returns the path of a program the test needs. When it is missing the
// test is skipped, with a message saying what to install, unless CI=true:
// then it fails.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if name == "go" {
		// go test runs from a toolchain whose go may not be on PATH.
		if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not on PATH: CI must run this test (install %s)", name, name)
	}
	tb.Skipf("skipping: %s is not on PATH (install it to run this test; in CI it is required)", name)
	return ""
}

// GoRoot returns `go env GOROOT`, where wasm_exec.js comes from.
func GoRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command(Tool(tb, "go"), "env", "GOROOT").Output()
	if err != nil {
		tb.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}
