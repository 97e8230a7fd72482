// Command gzip is a haulout plugin (wasm/plugin/abi) that gzip-compresses a
// blob on store and decompresses it on read. Build it for WASI:
//
//	GOOS=wasip1 GOARCH=wasm go build -o gzip.wasm ./wasm/plugins/gzip
//
// Forward takes level=1..9 (default 6) and sets the attribute gzip.level;
// reverse takes no arguments. Both stream: memory stays bounded by the
// compressor's window, whatever the blob's size.
package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"strconv"

	"github.com/haulout/haulout/wasm/plugin/abi"
)

const (
	name    = "gzip"
	version = "1.0.0"
)

func main() { abi.Serve(name, version, transform) }

func transform(dir abi.Direction, args abi.Args, in io.Reader, out *abi.Output) error {
	if dir == abi.Reverse {
		if err := args.Only(); err != nil {
			return err
		}
		return decompress(in, out)
	}
	if err := args.Only("level"); err != nil {
		return err
	}
	level := gzip.DefaultCompression
	if s, ok := args["level"]; ok {
		l, err := strconv.Atoi(s)
		if err != nil || l < gzip.BestSpeed || l > gzip.BestCompression {
			return fmt.Errorf("level %q: want 1 (fastest) to 9 (smallest)", s)
		}
		level = l
	}
	zw, err := gzip.NewWriterLevel(out, level)
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, in); err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	shown := level
	if level == gzip.DefaultCompression {
		shown = 6 // what compress/flate's default is
	}
	return out.SetAttribute("gzip.level", strconv.Itoa(shown))
}

func decompress(in io.Reader, out io.Writer) error {
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("not gzip data: %w", err)
	}
	// A stored blob is one gzip member; trailing members would be data this
	// plugin did not write.
	zr.Multistream(false)
	if _, err := io.Copy(out, zr); err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	if err := zr.Close(); err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	var b [1]byte
	if n, _ := in.Read(b[:]); n > 0 {
		return fmt.Errorf("decompressing: bytes after the gzip stream")
	}
	return nil
}
