// Command gencodec writes the browser codec into web/codec for embedding:
// wasm/js built for GOOS=js with the flags of `make wasm`, Go's
// wasm_exec.js from the same toolchain, and haulout.js and worker.js. It is
// run by `go generate ./web` (from web/, as go generate does) or with the
// output directory as its argument.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	out := "codec"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := generate(out); err != nil {
		fmt.Fprintln(os.Stderr, "gencodec:", err)
		os.Exit(1)
	}
}

func generate(out string) error {
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if os.Getenv("GOROOT") == "" {
		goTool = "go"
	}
	root, err := run(goTool, nil, "env", "GOROOT")
	if err != nil {
		return err
	}
	modDir, err := run(goTool, nil, "list", "-m", "-f", "{{.Dir}}")
	if err != nil {
		return err
	}
	tmp := filepath.Join(out, ".haulout.wasm.tmp")
	env := append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if _, err := run(goTool, env, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "github.com/haulout/haulout/wasm/js"); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(out, "haulout.wasm")); err != nil {
		return err
	}
	for src, dst := range map[string]string{
		filepath.Join(root, "lib", "wasm", "wasm_exec.js"): "wasm_exec.js",
		filepath.Join(modDir, "wasm", "js", "haulout.js"):  "haulout.js",
		filepath.Join(modDir, "wasm", "js", "worker.js"):   "worker.js",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, dst), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// run runs a go command and returns its trimmed output.
func run(goTool string, env []string, args ...string) (string, error) {
	cmd := exec.Command(goTool, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(b)), nil
}
