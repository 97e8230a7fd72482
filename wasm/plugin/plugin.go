package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/haulout/haulout/wasm/plugin/abi"
)

// Direction says which way a blob goes through a plugin.
type Direction = abi.Direction

const (
	// Forward transforms a blob before it is stored.
	Forward = abi.Forward
	// Reverse undoes Forward on read.
	Reverse = abi.Reverse
)

// Defaults of Options.
const (
	DefaultMemoryLimit = 256 << 20
	DefaultMaxOutput   = 1 << 30
)

// Options configure a plugin. The zero value is a usable, locked-down
// configuration.
type Options struct {
	// Name is what errors call the plugin, and the argv[0] it sees: for
	// example its file name. Default: "plugin-" and the first 12 hex
	// digits of the module's SHA-256.
	Name string
	// MemoryLimit caps the module's linear memory, in bytes, rounded up to
	// 64 KiB pages (default 256 MiB, at most 4 GiB).
	MemoryLimit uint64
	// Timeout bounds each run on top of the caller's context (0: only the
	// context).
	Timeout time.Duration
	// MaxOutput bounds the data a run may return, in bytes (default 1 GiB).
	MaxOutput int64
	// Mounts grant the plugin host directories. Default: none, and then the
	// plugin has no filesystem at all.
	Mounts []Mount
	// Cache, if set, holds compiled code: shared between plugins and, when
	// made by wazero.NewCompilationCacheWithDir, across processes.
	Cache wazero.CompilationCache
}

// Mount makes a host directory visible to the plugin.
type Mount struct {
	HostDir  string
	GuestDir string // where the plugin sees it, e.g. "/data"
	Writable bool   // default read-only
}

// Plugin is a compiled plugin, ready to run.
type Plugin struct {
	name     string
	opts     Options
	limit    uint64 // memory limit in bytes, a whole number of pages
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	fs       wazero.FSConfig
}

// Load compiles a plugin module and checks that it is a WASI command that
// asks for nothing beyond WASI.
func Load(ctx context.Context, wasm []byte, opts Options) (*Plugin, error) {
	name := opts.Name
	if name == "" {
		sum := sha256.Sum256(wasm)
		name = "plugin-" + hex.EncodeToString(sum[:6])
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.MemoryLimit > 4<<30 {
		return nil, &Error{Plugin: name, Kind: ErrLoad, Detail: fmt.Sprintf("memory limit %d is over wasm32's 4 GiB", opts.MemoryLimit)}
	}
	if opts.MaxOutput == 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	pages := (opts.MemoryLimit + 65535) / 65536
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(pages))
	if opts.Cache != nil {
		cfg = cfg.WithCompilationCache(opts.Cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	p := &Plugin{name: name, opts: opts, limit: pages * 65536, rt: rt}
	fail := func(format string, args ...any) (*Plugin, error) {
		rt.Close(ctx)
		return nil, &Error{Plugin: name, Kind: ErrLoad, Detail: fmt.Sprintf(format, args...)}
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail("wasi: %v", err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return fail("not a module this host can run: %v", err)
	}
	p.compiled = compiled
	for _, f := range compiled.ImportedFunctions() {
		if mod, fn, _ := f.Import(); mod != wasi_snapshot_preview1.ModuleName {
			return fail("imports %s.%s: a plugin may import only from %s", mod, fn, wasi_snapshot_preview1.ModuleName)
		}
	}
	if len(compiled.ImportedMemories()) > 0 {
		return fail("imports its memory: a plugin must define and export it")
	}
	start, ok := compiled.ExportedFunctions()["_start"]
	if !ok || len(start.ParamTypes()) != 0 || len(start.ResultTypes()) != 0 {
		return fail("is not a WASI command: no _start function of no parameters and no results")
	}
	if _, ok := compiled.ExportedMemories()["memory"]; !ok {
		return fail("does not export its memory as \"memory\"")
	}
	fs := wazero.NewFSConfig()
	for _, m := range opts.Mounts {
		if m.HostDir == "" || !strings.HasPrefix(m.GuestDir, "/") {
			return fail("mount %q -> %q: want a host directory and an absolute guest path", m.HostDir, m.GuestDir)
		}
		if m.Writable {
			fs = fs.WithDirMount(m.HostDir, m.GuestDir)
		} else {
			fs = fs.WithReadOnlyDirMount(m.HostDir, m.GuestDir)
		}
	}
	p.fs = fs
	return p, nil
}

// Name is the plugin's name in errors.
func (p *Plugin) Name() string { return p.name }

// Close releases the compiled module.
func (p *Plugin) Close(ctx context.Context) error { return p.rt.Close(ctx) }

// Run transforms in through the plugin. It returns the output and the
// attributes (the plugin's, plus "plugin" and "plugin.version" from its
// hello record) of a run that completed, or an *Error.
func (p *Plugin) Run(ctx context.Context, dir Direction, args map[string]string, in io.Reader) ([]byte, map[string]string, error) {
	argv, err := p.argv(dir, args)
	if err != nil {
		return nil, nil, err
	}
	if p.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.Timeout)
		defer cancel()
	}
	// A violation of the ABI stops the plugin at once through this cause.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	out := &stdout{dec: abi.Decoder{MaxOutput: p.opts.MaxOutput}, stop: stop}
	stderr := &headWriter{max: 8 << 10}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(argv...).
		WithEnv(abi.EnvVar, "1").
		WithStdin(in).
		WithStdout(out).
		WithStderr(stderr).
		WithFSConfig(p.fs).
		WithRandSource(rand.Reader). // plugins make nonces: not wazero's deterministic default
		WithSysWalltime().
		WithSysNanotime().
		WithStartFunctions() // _start is called below, to see the memory after a failure
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, cfg)
	if err != nil {
		return nil, nil, p.fail(ctx, out, stderr, err, nil)
	}
	defer mod.Close(context.Background())
	_, err = mod.ExportedFunction("_start").Call(ctx)
	if err := p.fail(ctx, out, stderr, err, mod.Memory()); err != nil {
		return nil, nil, err
	}
	if err := out.dec.Finish(); err != nil {
		return nil, nil, &Error{Plugin: p.name, Kind: ErrABI, Detail: trimViolation(err), Stderr: stderr.String(), cause: err}
	}
	data, attrs := out.dec.Output()
	return data, attrs, nil
}

func (p *Plugin) argv(dir Direction, args map[string]string) ([]string, error) {
	if dir != Forward && dir != Reverse {
		return nil, &Error{Plugin: p.name, Kind: ErrArgs, Detail: fmt.Sprintf("direction %v", dir)}
	}
	argv := []string{p.name, dir.String()}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := args[k]
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
			return nil, &Error{Plugin: p.name, Kind: ErrArgs, Detail: fmt.Sprintf("argument %q: a key is non-empty without '=' or NUL, a value without NUL", k)}
		}
		argv = append(argv, k+"="+v)
	}
	return argv, nil
}

// fail classifies how a run ended: nil for a clean exit, else an *Error.
func (p *Plugin) fail(ctx context.Context, out *stdout, stderr *headWriter, err error, mem api.Memory) error {
	if err == nil {
		return nil
	}
	e := &Error{Plugin: p.name, Stderr: stderr.String(), cause: err}
	if v := out.dec.Err(); v != nil {
		// The plugin was stopped, or failed to write, because its output
		// broke the ABI: that is the news, not how it ended.
		e.Kind, e.Detail, e.cause = ErrABI, trimViolation(v), v
		return e
	}
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case isExit && exit.ExitCode() == 0:
		return nil
	case ctx.Err() != nil && (!isExit || exit.ExitCode() == sys.ExitCodeDeadlineExceeded || exit.ExitCode() == sys.ExitCodeContextCanceled):
		cause := context.Cause(ctx)
		e.cause = cause
		if errors.Is(cause, context.DeadlineExceeded) {
			e.Kind, e.Detail = ErrTimeout, "stopped at its deadline"
			if p.opts.Timeout > 0 {
				e.Detail = fmt.Sprintf("stopped at its deadline (time limit %v)", p.opts.Timeout)
			}
		} else {
			e.Kind, e.Detail = ErrCanceled, cause.Error()
		}
		return e
	case isExit:
		e.Kind, e.Detail = ErrFailed, fmt.Sprintf("exit code %d: %s", exit.ExitCode(), orNone(firstLine(e.Stderr)))
		if strings.Contains(e.Stderr, "out of memory") {
			e.Kind, e.Detail = ErrMemory, p.memoryDetail(mem, e.Stderr)
		}
		return e
	}
	// A trap: unreachable, out-of-bounds access, stack overflow, or a
	// memory.grow refused at the limit that the code then trapped on.
	e.Detail = firstLine(err.Error())
	e.Kind = ErrTrap
	if mem != nil && uint64(mem.Size())+max(p.limit/16, 8<<20) >= p.limit {
		e.Kind, e.Detail = ErrMemory, p.memoryDetail(mem, err.Error())
	}
	return e
}

func (p *Plugin) memoryDetail(mem api.Memory, why string) string {
	used := "?"
	if mem != nil {
		used = mib(uint64(mem.Size()))
	}
	return fmt.Sprintf("used %s of its %s limit: %s", used, mib(p.limit), orNone(firstLine(why)))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func orNone(s string) string {
	if s == "" {
		return "no message"
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	return line
}

func trimViolation(err error) string {
	return strings.TrimPrefix(err.Error(), abi.ErrViolation.Error()+": ")
}

// stdout feeds the plugin's output to the ABI decoder and stops the plugin
// at the first violation.
type stdout struct {
	dec  abi.Decoder
	stop context.CancelCauseFunc
}

func (s *stdout) Write(b []byte) (int, error) {
	n, err := s.dec.Write(b)
	if err != nil {
		s.stop(err)
	}
	return n, err
}

// headWriter keeps the first max bytes written to it and drops the rest:
// a plugin cannot flood the host through stderr.
type headWriter struct {
	buf bytes.Buffer
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *headWriter) String() string { return w.buf.String() }
