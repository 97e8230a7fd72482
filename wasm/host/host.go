package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/codecop"
)

// Options configure a Codec. The zero value is usable.
type Options struct {
	// MemoryLimit caps the module's linear memory in bytes, rounded up to
	// whole 64 KiB pages. 0 means all of wasm32's 4 GiB. The module plans
	// each operation within three quarters of it (at most 3 GiB) and refuses
	// larger ones with codecop's out-of-memory code.
	MemoryLimit uint64
	// Cache, if set, holds compiled code: shared between runtimes, and kept
	// across processes when made by wazero.NewCompilationCacheWithDir.
	Cache wazero.CompilationCache
}

// Codec is the compiled module, ready to run.
type Codec struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	budget   uint64
}

// New compiles wasm, the bytes of haulout-wasip1.wasm.
func New(ctx context.Context, wasm []byte, opts Options) (*Codec, error) {
	return newCodec(ctx, wasm, opts, true)
}

// newCodec is New with a choice the benchmarks measure: without
// interruptible, wazero drops the checks that let a context stop running
// code (about half of the run time for this module), and deadlines no
// longer stop a run.
func newCodec(ctx context.Context, wasm []byte, opts Options, interruptible bool) (*Codec, error) {
	limit := opts.MemoryLimit
	if limit == 0 || limit > codecop.Wasm32Memory {
		limit = codecop.Wasm32Memory
	}
	pages := (limit + 65535) / 65536
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(interruptible).
		WithMemoryLimitPages(uint32(pages))
	if opts.Cache != nil {
		cfg = cfg.WithCompilationCache(opts.Cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("host: wasi: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("host: compiling the codec module: %w", err)
	}
	if _, ok := compiled.ExportedFunctions()["_start"]; !ok {
		rt.Close(ctx)
		return nil, errors.New("host: the module is not a WASI command (no _start export)")
	}
	return &Codec{rt: rt, compiled: compiled, budget: min(pages*65536/4*3, codecop.DefaultBudget)}, nil
}

// Close releases the compiled module and its runtime.
func (c *Codec) Close(ctx context.Context) error { return c.rt.Close(ctx) }

// BlobID returns the blob ID of data for nShards shards.
func (c *Codec) BlobID(ctx context.Context, data []byte, nShards int) (codec.BlobID, error) {
	frames, err := c.run(ctx, codecop.OpBlobID, nShards, "", blobInput(data), 64)
	if err != nil {
		return codec.BlobID{}, err
	}
	if len(frames) != 1 || len(frames[0]) != 32 {
		return codec.BlobID{}, protocolError(codecop.OpBlobID, "want one 32-byte frame, got %d frames", len(frames))
	}
	return codec.BlobID(frames[0]), nil
}

// Metadata returns the BCS BlobMetadataWithId of data for nShards shards.
func (c *Codec) Metadata(ctx context.Context, data []byte, nShards int) ([]byte, error) {
	frames, err := c.run(ctx, codecop.OpMetadata, nShards, "", blobInput(data), 64*nShards+64)
	if err != nil {
		return nil, err
	}
	if len(frames) != 1 {
		return nil, protocolError(codecop.OpMetadata, "want one frame, got %d", len(frames))
	}
	return frames[0], nil
}

// Encoded is what the module's encode writes, as it wrote it.
type Encoded struct {
	Metadata  []byte   // BCS BlobMetadataWithId
	Primary   [][]byte // BCS SliverData of each pair's primary sliver (index p)
	Secondary [][]byte // BCS SliverData of each pair's secondary sliver (index n-1-p)
}

// Encode returns the metadata and every sliver pair of data for nShards.
func (c *Codec) Encode(ctx context.Context, data []byte, nShards int) (*Encoded, error) {
	hint := 0
	if cfg, err := codec.NewConfig(nShards); err == nil {
		if l, err := cfg.EncodedLength(uint64(len(data))); err == nil {
			hint = int(min(l+uint64(nShards)*24, 1<<31))
		}
	}
	frames, err := c.run(ctx, codecop.OpEncode, nShards, "", blobInput(data), hint)
	if err != nil {
		return nil, err
	}
	if len(frames) != 1+2*nShards {
		return nil, protocolError(codecop.OpEncode, "want %d frames for %d shards, got %d", 1+2*nShards, nShards, len(frames))
	}
	e := &Encoded{Metadata: frames[0], Primary: make([][]byte, nShards), Secondary: make([][]byte, nShards)}
	for p := range nShards {
		e.Primary[p], e.Secondary[p] = frames[1+2*p], frames[2+2*p]
	}
	return e, nil
}

// Sliver is a BCS SliverData of one axis, as a storage node serves it.
type Sliver struct {
	Axis codec.Axis
	BCS  []byte
}

// Decode reconstructs a blob from its metadata (either BCS form) and
// slivers, checking each against the metadata and the result as mode says.
func (c *Codec) Decode(ctx context.Context, metadata []byte, slivers []Sliver, mode codec.Consistency) ([]byte, error) {
	consistency := map[codec.Consistency]string{codec.ConsistencyDefault: "default", codec.ConsistencyStrict: "strict", codec.ConsistencySkip: "skip"}[mode]
	if consistency == "" {
		return nil, fmt.Errorf("host: decode: unknown consistency mode %d", mode)
	}
	parts := [][]byte{codecop.AppendFrameHeader(nil, len(metadata)), metadata}
	for _, s := range slivers {
		parts = append(parts, codecop.AppendFrameHeader(nil, 1+len(s.BCS)), []byte{byte(s.Axis)}, s.BCS)
	}
	readers := make([]io.Reader, len(parts))
	for i, p := range parts {
		readers[i] = bytes.NewReader(p)
	}
	frames, err := c.run(ctx, codecop.OpDecode, 0, consistency, io.MultiReader(readers...), 0)
	if err != nil {
		return nil, err
	}
	if len(frames) != 1 {
		return nil, protocolError(codecop.OpDecode, "want one frame, got %d", len(frames))
	}
	return frames[0], nil
}

func blobInput(data []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(codecop.AppendFrameHeader(nil, len(data))), bytes.NewReader(data))
}

// run runs one operation and splits its output into frames.
func (c *Codec) run(ctx context.Context, op string, nShards int, consistency string, stdin io.Reader, sizeHint int) ([][]byte, error) {
	var stdout bytes.Buffer
	stdout.Grow(sizeHint)
	stderr := &headWriter{max: 4096}
	args := []string{"haulout-wasip1", op, strconv.Itoa(nShards)}
	if consistency != "" {
		args = append(args, consistency)
	}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(args...).
		WithEnv("HAULOUT_MEMORY_BUDGET", strconv.FormatUint(c.budget, 10)).
		WithStdin(stdin).
		WithStdout(&stdout).
		WithStderr(stderr)
	mod, err := c.rt.InstantiateModule(ctx, c.compiled, cfg)
	if mod != nil {
		defer mod.Close(ctx)
	}
	if err := exitError(ctx, op, err, stderr.String()); err != nil {
		return nil, err
	}
	var frames [][]byte
	out := stdout.Bytes()
	for len(out) > 0 {
		if len(out) < 4 {
			return nil, protocolError(op, "output ends in a partial frame header")
		}
		n := uint64(out[0]) | uint64(out[1])<<8 | uint64(out[2])<<16 | uint64(out[3])<<24
		if uint64(len(out)-4) < n {
			return nil, protocolError(op, "output ends inside a %d-byte frame", n)
		}
		frames = append(frames, out[4:4+n:4+n])
		out = out[4+n:]
	}
	return frames, nil
}

// Error is a run of the module that did not succeed.
type Error struct {
	Op       string
	ExitCode uint32 // 1: the codec refused or failed; 2: usage; others: the runtime's
	Code     string // the codec's error code (codecop), when it gave one
	Message  string
	cause    error // what errors.Is finds: a codec sentinel or the context's error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("host: %s: %s", e.Op, e.Message)
	}
	return fmt.Sprintf("host: %s: module exited with code %d: %s", e.Op, e.ExitCode, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// ErrProtocol is output that does not follow the module's protocol.
var ErrProtocol = errors.New("codec module broke its protocol")

func protocolError(op, format string, args ...any) error {
	return &Error{Op: op, Message: fmt.Sprintf(format, args...), cause: ErrProtocol}
}

// exitError turns how a run ended into nil or an *Error.
func exitError(ctx context.Context, op string, err error, stderr string) error {
	if err == nil {
		return nil
	}
	var exit *sys.ExitError
	if !errors.As(err, &exit) {
		// A trap: the Go runtime in the module does not trap on its own.
		return &Error{Op: op, Message: "module trapped: " + firstLine(err.Error()), cause: err}
	}
	switch exit.ExitCode() {
	case 0:
		return nil
	case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
		return &Error{Op: op, ExitCode: exit.ExitCode(), Message: "stopped: " + context.Cause(ctx).Error(), cause: context.Cause(ctx)}
	}
	line := firstLine(stderr)
	// "haulout-wasip1: OP: CODE: message"
	if rest, ok := strings.CutPrefix(line, "haulout-wasip1: "+op+": "); ok && exit.ExitCode() == 1 {
		code, msg, _ := strings.Cut(rest, ": ")
		return &Error{Op: op, ExitCode: 1, Code: code, Message: msg, cause: codecop.Sentinel(code)}
	}
	if line == "" {
		line = "no message"
	}
	return &Error{Op: op, ExitCode: exit.ExitCode(), Message: line}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// headWriter keeps the first max bytes written to it and drops the rest.
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

// ErrMemory is wrapped by the error of an operation the module refused
// because it would need more memory than its limit allows.
var ErrMemory = codecop.ErrMemory
