package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/haulout/haulout/wasm/internal/wasmbuild"
)

const (
	gzipPkg    = "github.com/haulout/haulout/wasm/plugins/gzip"
	aesgcmPkg  = "github.com/haulout/haulout/wasm/plugins/aesgcm"
	hostilePkg = "github.com/haulout/haulout/wasm/plugin/testdata/hostile"
)

// One compilation cache for the test binary: loading the same module with
// other options does not compile it again.
var cache = sync.OnceValue(wazero.NewCompilationCache)

func load(t *testing.T, pkg string, opts Options) *Plugin {
	t.Helper()
	wasm := wasmbuild.Build(t, "wasip1", pkg)
	opts.Cache = cache()
	if opts.Name == "" {
		opts.Name = filepath.Base(pkg)
	}
	p, err := Load(context.Background(), wasm, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// wantKind checks that err is an *Error of the kind, naming the plugin,
// whose message contains detail.
func wantKind(t *testing.T, err error, kind error, plugin, detail string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("got %v, want a plugin error of kind %q", err, kind)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("plugin %q", plugin)) || !strings.Contains(err.Error(), detail) {
		t.Fatalf("error %q should name plugin %q and say %q", err, plugin, detail)
	}
	t.Log(err)
}

func TestGzip(t *testing.T) {
	p := load(t, gzipPkg, Options{})
	ctx := context.Background()
	text := bytes.Repeat([]byte("haulout stores blobs on a committee of storage nodes. "), 100_000)
	for _, tc := range []struct {
		name string
		data []byte
		args map[string]string
	}{
		{"empty", nil, nil},
		{"one byte", []byte{42}, nil},
		{"random", randomBytes(t, 3<<20+7), nil},
		{"text, fastest", text, map[string]string{"level": "1"}},
		{"text, smallest", text, map[string]string{"level": "9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			packed, attrs, err := p.Run(ctx, Forward, tc.args, bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			level := "6"
			if l, ok := tc.args["level"]; ok {
				level = l
			}
			want := map[string]string{"plugin": "gzip", "plugin.version": "1.0.0", "gzip.level": level}
			if fmt.Sprint(attrs) != fmt.Sprint(want) {
				t.Fatalf("attributes %v, want %v", attrs, want)
			}
			back, attrs, err := p.Run(ctx, Reverse, nil, bytes.NewReader(packed))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, tc.data) {
				t.Fatalf("round trip of %d bytes gave %d different bytes", len(tc.data), len(back))
			}
			if attrs["plugin"] != "gzip" || len(attrs) != 2 {
				t.Fatalf("reverse attributes %v", attrs)
			}
			t.Logf("%d -> %d bytes", len(tc.data), len(packed))
		})
	}
	_, _, err := p.Run(ctx, Forward, map[string]string{"level": "11"}, strings.NewReader("x"))
	wantKind(t, err, ErrFailed, "gzip", "level \"11\": want 1 (fastest) to 9 (smallest)")
	_, _, err = p.Run(ctx, Forward, map[string]string{"levle": "1"}, strings.NewReader("x"))
	wantKind(t, err, ErrFailed, "gzip", "unknown argument levle")
	_, _, err = p.Run(ctx, Reverse, nil, strings.NewReader("not gzip"))
	wantKind(t, err, ErrFailed, "gzip", "not gzip data")
}

func TestAESGCM(t *testing.T) {
	p := load(t, aesgcmPkg, Options{})
	ctx := context.Background()
	key := randomBytes(t, 32)
	hexKey := map[string]string{"key": hex.EncodeToString(key)}
	b64Key := map[string]string{"key": base64.RawURLEncoding.EncodeToString(key)}
	for _, tc := range []struct {
		name  string
		size  int
		chunk int
	}{
		{"empty", 0, 0}, {"one byte", 1, 0}, {"chunk-1", 1023, 1024}, {"chunk", 1024, 1024}, {"chunk+1", 1025, 1024},
		{"three chunks", 3 << 16, 0}, {"uneven", 1<<20 + 12345, 0}, {"big chunks", 5 << 20, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(t, tc.size)
			args := map[string]string{"key": hexKey["key"]}
			chunk := 64 << 10
			if tc.chunk != 0 {
				args["chunk"] = fmt.Sprint(tc.chunk)
				chunk = tc.chunk
			}
			sealed, attrs, err := p.Run(ctx, Forward, args, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			chunks := max(1, (tc.size+chunk-1)/chunk) // an empty blob is one empty chunk
			if want := 32 + tc.size + 16*chunks; len(sealed) != want {
				t.Fatalf("%d sealed bytes, want %d", len(sealed), want)
			}
			want := map[string]string{"plugin": "aesgcm", "plugin.version": "1.0.0", "aesgcm.cipher": "AES-256-GCM", "aesgcm.format": "1"}
			if fmt.Sprint(attrs) != fmt.Sprint(want) {
				t.Fatalf("attributes %v, want %v", attrs, want)
			}
			// The same key in base64 opens it.
			back, _, err := p.Run(ctx, Reverse, b64Key, bytes.NewReader(sealed))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, data) {
				t.Fatal("round trip gave different bytes")
			}
		})
	}

	data := randomBytes(t, 200_000)
	args := map[string]string{"key": hexKey["key"], "chunk": "4096"}
	sealed, _, err := p.Run(ctx, Forward, args, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := p.Run(ctx, Forward, args, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed[:32], again[:32]) {
		t.Fatal("two encryptions share a salt and nonce prefix: the plugin's randomness is not random")
	}
	const auth = "authentication failed: wrong key, or the stored bytes were modified or truncated"
	tampered := bytes.Clone(sealed)
	tampered[1000] ^= 1
	full := 4096 + 16
	for _, tc := range []struct {
		name   string
		stored []byte
		args   map[string]string
		detail string
	}{
		{"wrong key", sealed, map[string]string{"key": hex.EncodeToString(randomBytes(t, 32))}, auth},
		{"tampered", tampered, hexKey, auth},
		{"truncated at a chunk boundary", sealed[:32+10*full], hexKey, auth},
		{"truncated inside a chunk", sealed[:len(sealed)-5], hexKey, auth},
		{"extended", append(bytes.Clone(sealed), 0), hexKey, auth},
		{"chunks swapped", swap(sealed, 32, full), hexKey, auth},
		{"not ours", []byte(strings.Repeat("x", 100)), hexKey, `starts with "xxxx", want "HLAG"`},
		{"no key", sealed, nil, "no key: pass key="},
		{"short key", sealed, map[string]string{"key": "abcd"}, "key of 4 characters is not 32 bytes"},
		{"chunk on reverse", sealed, map[string]string{"key": hexKey["key"], "chunk": "4096"}, "unknown argument chunk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.Run(ctx, Reverse, tc.args, bytes.NewReader(tc.stored))
			wantKind(t, err, ErrFailed, "aesgcm", tc.detail)
			if strings.Contains(err.Error(), hexKey["key"]) {
				t.Fatal("the error repeats the key")
			}
		})
	}
}

// swap exchanges the first two chunks after the header.
func swap(sealed []byte, header, full int) []byte {
	out := bytes.Clone(sealed)
	copy(out[header:], sealed[header+full:header+2*full])
	copy(out[header+full:], sealed[header:header+full])
	return out
}

// The plugins stream: a blob larger than the plugin's whole memory goes
// through both of them.
func TestBoundedMemory(t *testing.T) {
	ctx := context.Background()
	const limit = 8 << 20
	data := bytes.Repeat([]byte("a blob larger than the plugin's memory limit, "), (9<<20)/46)
	data = append(data, randomBytes(t, 1<<20)...) // and some that does not compress
	key := map[string]string{"key": hex.EncodeToString(randomBytes(t, 32))}
	for _, tc := range []struct {
		pkg  string
		args map[string]string
	}{{gzipPkg, nil}, {aesgcmPkg, key}} {
		p := load(t, tc.pkg, Options{MemoryLimit: limit})
		out, _, err := p.Run(ctx, Forward, tc.args, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := p.Run(ctx, Reverse, tc.args, bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, data) {
			t.Fatalf("%s: round trip under a %d MiB limit gave different bytes", p.Name(), limit>>20)
		}
	}
}

func TestHostile(t *testing.T) {
	ctx := context.Background()
	// A generous time limit for every mode, and a short one for the loop:
	// on a loaded machine even a prompt failure can take a second.
	opts := Options{MemoryLimit: 64 << 20, Timeout: time.Minute, MaxOutput: 4 << 20}
	p := load(t, hostilePkg, opts)
	opts.Timeout = 2 * time.Second
	looping := load(t, hostilePkg, opts)
	for _, tc := range []struct {
		mode   string
		kind   error
		detail string
	}{
		{"panic", ErrFailed, "exit code 2: panic: assignment to entry in nil map"},
		{"fail", ErrFailed, "exit code 1: hostile: asked to fail"},
		{"loop", ErrTimeout, "stopped at its deadline (time limit 2s)"},
		{"oom", ErrMemory, "MiB of its 64.0 MiB limit: runtime: out of memory"},
		{"garbage", ErrABI, "first record is 0x74, want the hello record"},
		{"wrong-version", ErrABI, `plugin speaks "haulout-plugin/9", this host speaks haulout-plugin/1`},
		{"oversize-record", ErrABI, "data record of 2147483648 bytes (at most 1048576)"},
		{"flood", ErrABI, "output exceeds the limit of 4194304 bytes"},
		{"no-end", ErrABI, "output ends without the end record"},
		{"after-end", ErrABI, "bytes after the end record"},
		{"bad-attr", ErrABI, `attribute "plugin" is the host's to set`},
		{"silent", ErrABI, "no output (a plugin must write a hello record first)"},
		{"stderr-flood", ErrFailed, "exit code 1: noise noise"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			start := time.Now()
			run := p
			if tc.mode == "loop" {
				run = looping
			}
			out, attrs, err := run.Run(ctx, Forward, map[string]string{"mode": tc.mode}, strings.NewReader("input"))
			wantKind(t, err, tc.kind, "hostile", tc.detail)
			if out != nil || attrs != nil {
				t.Fatal("a failed run returned output")
			}
			var e *Error
			errors.As(err, &e)
			if len(e.Stderr) > 8<<10 {
				t.Fatalf("kept %d bytes of stderr", len(e.Stderr))
			}
			if d := time.Since(start); d > 50*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	// The caller's context is a time limit too, and cancelling works.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err := p.Run(short, Forward, map[string]string{"mode": "loop"}, nil)
	wantKind(t, err, ErrTimeout, "hostile", "stopped at its deadline")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not wrap context.DeadlineExceeded", err)
	}
	gone, cancelNow := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancelNow)
	_, _, err = p.Run(gone, Forward, map[string]string{"mode": "loop"}, nil)
	wantKind(t, err, ErrCanceled, "hostile", "context canceled")

	// After all that, the host and the plugin still work.
	out, _, err := p.Run(ctx, Forward, map[string]string{"mode": "echo"}, strings.NewReader("still here"))
	if err != nil || string(out) != "still here" {
		t.Fatalf("echo after the hostile runs: %q, %v", out, err)
	}
	_, _, err = p.Run(ctx, Direction(7), nil, nil)
	wantKind(t, err, ErrArgs, "hostile", "direction Direction(7)")
	_, _, err = p.Run(ctx, Forward, map[string]string{"a=b": "c"}, nil)
	wantKind(t, err, ErrArgs, "hostile", `argument "a=b"`)
}

func TestSandbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "granted.txt"), []byte("granted"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := load(t, hostilePkg, Options{})
	for _, path := range []string{"/etc/passwd", filepath.Join(dir, "granted.txt"), "/data/granted.txt"} {
		_, _, err := p.Run(ctx, Forward, map[string]string{"mode": "read-file", "path": path}, nil)
		wantKind(t, err, ErrFailed, "hostile", "reading "+path)
	}
	_, _, err := p.Run(ctx, Forward, map[string]string{"mode": "write-file", "path": filepath.Join(dir, "new")}, nil)
	wantKind(t, err, ErrFailed, "hostile", "exit code 1")
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Fatal("a plugin without a grant wrote a file")
	}

	// A read-only grant: the plugin reads the directory, and cannot write it.
	granted := load(t, hostilePkg, Options{Mounts: []Mount{{HostDir: dir, GuestDir: "/data"}}})
	out, _, err := granted.Run(ctx, Forward, map[string]string{"mode": "read-file", "path": "/data/granted.txt"}, nil)
	if err != nil || string(out) != "granted" {
		t.Fatalf("granted read: %q, %v", out, err)
	}
	_, _, err = granted.Run(ctx, Forward, map[string]string{"mode": "write-file", "path": "/data/new"}, nil)
	wantKind(t, err, ErrFailed, "hostile", "exit code 1")
	_, _, err = granted.Run(ctx, Forward, map[string]string{"mode": "read-file", "path": "/etc/passwd"}, nil)
	wantKind(t, err, ErrFailed, "hostile", "reading /etc/passwd")
}

// Hand-assembled modules: what a non-Go plugin could do.
func TestHandMadeModules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		wasm    []byte
		timeout time.Duration
		kind    error
		detail  string
	}{
		{"unreachable", command(nil, 0x00), time.Minute, ErrTrap, "wasm error: unreachable"},
		// memory.grow by 1 MiB until refused, then trap.
		{"grow", command(nil, 0x03, 0x40, 0x41, 0x10, 0x40, 0x00, 0x41, 0x7f, 0x47, 0x0d, 0x00, 0x0b, 0x00), time.Minute, ErrMemory, "MiB of its 32.0 MiB limit: wasm error: unreachable"},
		// loop forever without calling anything.
		{"spin", command(nil, 0x03, 0x40, 0x0c, 0x00, 0x0b), 300 * time.Millisecond, ErrTimeout, "stopped at its deadline"},
		// returns without writing anything.
		{"empty", command(nil), time.Minute, ErrABI, "no output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(ctx, tc.wasm, Options{Name: tc.name, MemoryLimit: 32 << 20, Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			_, _, err = p.Run(ctx, Forward, nil, nil)
			wantKind(t, err, tc.kind, tc.name, tc.detail)
		})
	}
	for _, tc := range []struct {
		name   string
		wasm   []byte
		detail string
	}{
		{"garbage", []byte("\x00asm but not really"), "not a module this host can run"},
		{"env import", command([]string{"env", "now"}, 0x00), "imports env.now: a plugin may import only from wasi_snapshot_preview1"},
		{"no start", withoutStart(), "is not a WASI command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(ctx, tc.wasm, Options{Name: tc.name})
			wantKind(t, err, ErrLoad, tc.name, tc.detail)
		})
	}
	_, err := Load(ctx, command(nil), Options{Name: "huge", MemoryLimit: 5 << 30})
	wantKind(t, err, ErrLoad, "huge", "over wasm32's 4 GiB")
}

// command assembles a module with one page of exported memory and an
// exported _start whose body is code; imp, if set, adds an imported
// function (module, name) of the same type ()->().
func command(imp []string, code ...byte) []byte {
	var m []byte
	m = append(m, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
	m = section(m, 1, []byte{0x01, 0x60, 0x00, 0x00}) // type 0: () -> ()
	start := byte(0)
	if imp != nil {
		var s []byte
		s = append(s, 0x01)
		s = append(s, name(imp[0])...)
		s = append(s, name(imp[1])...)
		s = append(s, 0x00, 0x00) // a function of type 0
		m = section(m, 2, s)
		start = 1
	}
	m = section(m, 3, []byte{0x01, 0x00})       // one function of type 0
	m = section(m, 5, []byte{0x01, 0x00, 0x01}) // one memory, min 1 page
	var exp []byte
	exp = append(exp, 0x02)
	exp = append(exp, name("_start")...)
	exp = append(exp, 0x00, start)
	exp = append(exp, name("memory")...)
	exp = append(exp, 0x02, 0x00)
	m = section(m, 7, exp)
	body := append([]byte{0x00}, code...) // no locals
	body = append(body, 0x0b)
	m = section(m, 10, append([]byte{0x01, byte(len(body))}, body...))
	return m
}

// withoutStart is a module with memory and no functions.
func withoutStart() []byte {
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	m = section(m, 5, []byte{0x01, 0x00, 0x01})
	exp := append([]byte{0x01}, name("memory")...)
	return section(m, 7, append(exp, 0x02, 0x00))
}

func section(m []byte, id byte, content []byte) []byte {
	m = append(m, id, byte(len(content))) // every section here is under 128 bytes
	return append(m, content...)
}

func name(s string) []byte { return append([]byte{byte(len(s))}, s...) }

func TestConcurrentRuns(t *testing.T) {
	p := load(t, gzipPkg, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			data := bytes.Repeat([]byte(fmt.Sprintf("run %d ", i)), 10_000*(i+1))
			packed, _, err := p.Run(ctx, Forward, nil, bytes.NewReader(data))
			if err != nil {
				errs[i] = err
				return
			}
			back, _, err := p.Run(ctx, Reverse, nil, bytes.NewReader(packed))
			if err == nil && !bytes.Equal(back, data) {
				err = fmt.Errorf("run %d: round trip differs", i)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// A reader that fails mid-way fails the run, with nothing returned.
func TestInputError(t *testing.T) {
	p := load(t, gzipPkg, Options{})
	in := io.MultiReader(strings.NewReader("some bytes"), iotestErrReader{})
	out, _, err := p.Run(context.Background(), Forward, nil, in)
	if err == nil || out != nil {
		t.Fatalf("got %d bytes, %v; want an error", len(out), err)
	}
	wantKind(t, err, ErrFailed, "gzip", "exit code 1")
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// BenchmarkPlugins times both example plugins each way under wazero, as
// Run runs them (close-on-context-done on), on 8 MiB: half random bytes,
// half text.
func BenchmarkPlugins(b *testing.B) {
	data := bytes.Repeat([]byte("haulout stores blobs on a committee of storage nodes. "), (4<<20)/54)
	random := make([]byte, 8<<20-len(data))
	if _, err := rand.Read(random); err != nil {
		b.Fatal(err)
	}
	data = append(data, random...)
	key := map[string]string{"key": hex.EncodeToString(random[:32])}
	ctx := context.Background()
	for _, pl := range []struct {
		pkg  string
		args map[string]string
	}{{gzipPkg, nil}, {aesgcmPkg, key}} {
		p, err := Load(ctx, wasmbuild.Build(b, "wasip1", pl.pkg), Options{Name: filepath.Base(pl.pkg), Cache: cache()})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(ctx)
		stored, _, err := p.Run(ctx, Forward, pl.args, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for _, dir := range []struct {
			d  Direction
			in []byte
		}{{Forward, data}, {Reverse, stored}} {
			b.Run(p.Name()+"/"+dir.d.String(), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, _, err := p.Run(ctx, dir.d, pl.args, bytes.NewReader(dir.in)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
