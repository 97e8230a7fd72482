package abi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Transform is a plugin's work: read the input from in, write the output to
// out, and set attributes on out. An error ends the run as a failure; its
// text is what the user sees.
type Transform func(dir Direction, args Args, in io.Reader, out *Output) error

// Args are the user's plugin arguments.
type Args map[string]string

// Only returns an error naming any argument not in allowed: a mistyped
// argument should fail loudly, not be ignored.
func (a Args) Only(allowed ...string) error {
	var unknown []string
	for k := range a {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("unknown argument %s (this plugin takes: %s)", strings.Join(unknown, ", "), strings.Join(allowed, ", "))
}

// Serve is the main function of a plugin written in Go: it runs transform
// under the ABI on the process's arguments and standard streams, and exits.
func Serve(name, version string, transform Transform) {
	os.Exit(Run(name, version, transform, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// Run is Serve without the process: it returns the exit status. Tests run
// plugins natively through it.
func Run(name, version string, transform Transform, argv []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if !ValidName(name) || !validVersion(version) {
		fmt.Fprintf(stderr, "plugin name %q or version %q is not valid for %s\n", name, version, Version)
		return 2
	}
	if getenv(EnvVar) != "1" {
		fmt.Fprintf(stderr, "%s %s is a haulout plugin (%s): haulout runs it, e.g. haulout store --plugin %s.wasm FILE\n", name, version, Version, name)
		return 2
	}
	dir, args, err := parseArgv(argv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	out := &Output{w: w, chunk: make([]byte, 0, 64<<10)}
	out.record(KindHello, Hello(name, version))
	err = transform(dir, args, bufio.NewReaderSize(stdin, 256<<10), out)
	if err == nil {
		err = out.close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func parseArgv(argv []string) (Direction, Args, error) {
	if len(argv) < 2 {
		return 0, nil, errors.New("no direction in argv (want forward or reverse)")
	}
	dir, err := ParseDirection(argv[1])
	if err != nil {
		return 0, nil, err
	}
	args := Args{}
	for _, a := range argv[2:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return 0, nil, fmt.Errorf("argument %q is not key=value", a)
		}
		args[k] = v
	}
	return dir, args, nil
}

// Output is where a Transform writes: data through Write (an io.Writer),
// attributes through SetAttribute.
type Output struct {
	w     *bufio.Writer
	chunk []byte
	attrs map[string]bool
	err   error
}

// Write appends p to the output.
func (o *Output) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && o.err == nil {
		k := min(cap(o.chunk)-len(o.chunk), len(p))
		o.chunk = append(o.chunk, p[:k]...)
		p = p[k:]
		if len(o.chunk) == cap(o.chunk) {
			o.flushChunk()
		}
	}
	if o.err != nil {
		return 0, o.err
	}
	return n, nil
}

// SetAttribute records an attribute to store with the blob.
func (o *Output) SetAttribute(key, value string) error {
	switch {
	case !ValidName(key) || key == AttrPlugin || key == AttrPluginVersion:
		return fmt.Errorf("attribute key %q: want [a-z0-9][a-z0-9._-]{0,63}, not plugin or plugin.version", key)
	case len(value) > MaxAttrValue || !utf8.ValidString(value):
		return fmt.Errorf("attribute %q: value must be at most %d bytes of UTF-8", key, MaxAttrValue)
	case o.attrs[key]:
		return fmt.Errorf("attribute %q set twice", key)
	case len(o.attrs) >= MaxAttributes:
		return fmt.Errorf("more than %d attributes", MaxAttributes)
	}
	if o.attrs == nil {
		o.attrs = map[string]bool{}
	}
	o.attrs[key] = true
	o.record(KindAttribute, []byte(key+"="+value))
	return o.err
}

func (o *Output) flushChunk() {
	if len(o.chunk) > 0 {
		o.record(KindData, o.chunk)
		o.chunk = o.chunk[:0]
	}
}

func (o *Output) record(kind byte, payload []byte) {
	if o.err != nil {
		return
	}
	var hdr [headerLen]byte
	hdr[0] = kind
	hdr[1], hdr[2], hdr[3], hdr[4] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), byte(len(payload)>>24)
	if _, err := o.w.Write(hdr[:]); err != nil {
		o.err = err
		return
	}
	if _, err := o.w.Write(payload); err != nil {
		o.err = err
	}
}

func (o *Output) close() error {
	o.flushChunk()
	o.record(KindEnd, nil)
	if o.err != nil {
		return fmt.Errorf("writing the output: %w", o.err)
	}
	if err := o.w.Flush(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}
