// Command hostile is a plugin that misbehaves on request (mode=...), for
// the host's tests: each mode breaks one rule of the sandbox or the ABI.
// It lives under testdata so that go build ./... leaves it alone.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/haulout/haulout/wasm/plugin/abi"
)

func main() {
	mode := ""
	for _, a := range os.Args[2:] {
		if v, ok := strings.CutPrefix(a, "mode="); ok {
			mode = v
		}
	}
	// Modes that break the ABI write stdout themselves.
	switch mode {
	case "garbage":
		os.Stdout.Write([]byte("this is not a record stream at all\n"))
		return
	case "wrong-version":
		raw(abi.AppendRecord(nil, abi.KindHello, []byte("haulout-plugin/9 hostile 1.0")))
		return
	case "oversize-record":
		out := abi.AppendRecord(nil, abi.KindHello, abi.Hello("hostile", "1"))
		out = append(out, abi.KindData)
		out = binary.LittleEndian.AppendUint32(out, 1<<31)
		raw(append(out, "and then some"...))
		return
	case "no-end":
		out := abi.AppendRecord(nil, abi.KindHello, abi.Hello("hostile", "1"))
		raw(abi.AppendRecord(out, abi.KindData, []byte("half a result")))
		return
	case "after-end":
		out := abi.AppendRecord(nil, abi.KindHello, abi.Hello("hostile", "1"))
		out = abi.AppendRecord(out, abi.KindEnd, nil)
		raw(abi.AppendRecord(out, abi.KindData, []byte("more")))
		return
	case "bad-attr":
		out := abi.AppendRecord(nil, abi.KindHello, abi.Hello("hostile", "1"))
		out = abi.AppendRecord(out, abi.KindAttribute, []byte("plugin=someone-else"))
		raw(abi.AppendRecord(out, abi.KindEnd, nil))
		return
	case "silent":
		return
	}
	abi.Serve("hostile", "1.0.0", transform)
}

func raw(b []byte) {
	os.Stdout.Write(b)
}

var sink [][]byte

func transform(dir abi.Direction, args abi.Args, in io.Reader, out *abi.Output) error {
	switch args["mode"] {
	case "echo":
		_, err := io.Copy(out, in)
		return err
	case "fail":
		return errors.New("asked to fail")
	case "panic":
		var m map[string]int
		m["boom"]++ // assignment to a nil map
	case "loop":
		x := 0
		for {
			x++
		}
	case "oom":
		for {
			b := make([]byte, 1<<20)
			b[len(b)-1] = 1
			sink = append(sink, b)
		}
	case "flood":
		chunk := make([]byte, 64<<10)
		for {
			if _, err := out.Write(chunk); err != nil {
				return err
			}
		}
	case "stderr-flood":
		line := strings.Repeat("noise ", 1000) + "\n"
		for range 20_000 {
			os.Stderr.WriteString(line)
		}
		return errors.New("flooded stderr")
	case "read-file":
		// Prints what it can see of the filesystem: nothing, unless a
		// directory was granted.
		b, err := os.ReadFile(args["path"])
		if err != nil {
			return fmt.Errorf("reading %s: %w", args["path"], err)
		}
		_, err = out.Write(b)
		return err
	case "write-file":
		return os.WriteFile(args["path"], []byte("written by a plugin"), 0o644)
	}
	return fmt.Errorf("unknown mode %q", args["mode"])
}
