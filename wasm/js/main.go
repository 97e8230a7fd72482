//go:build js && wasm

// Command js is haulout's RedStuff codec for JavaScript: built with
// GOOS=js GOARCH=wasm and started by Go's wasm_exec.js, it installs
// globalThis.haulout, whose functions take and return Uint8Arrays and
// return Promises. The bytes come from package codec, the same code the
// services run; nothing here re-implements it.
//
// Every call runs synchronously on the thread that makes it, so a page runs
// the module in a Web Worker (worker.js, driven by haulout.js). A call that
// fails rejects its Promise with an Error whose code property says why (see
// README.md); a call that would need more memory than the module may use is
// refused before it allocates anything. Panics never escape to JavaScript:
// they would end the Go program, and every later call with it.
package main

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"syscall/js"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/codecop"
)

// apiVersion changes when the JavaScript API changes incompatibly.
const apiVersion = 1

func main() {
	a := &api{budget: codecop.DefaultBudget}
	// Collect before the heap outgrows what wasm32 can address: without a
	// limit, the collector lets a 2 GiB heap double before it runs.
	debug.SetMemoryLimit(codecop.Wasm32Memory - 256<<20)
	js.Global().Set("haulout", a.object())
	select {} // serve calls until the page or worker goes away
}

// api holds the module's one setting; each call reads it.
type api struct {
	budget uint64
}

func (a *api) object() js.Value {
	o := js.Global().Get("Object").New()
	o.Set("apiVersion", apiVersion)
	o.Set("blobId", a.method(codecop.OpBlobID, a.blobID))
	o.Set("computeMetadata", a.method(codecop.OpMetadata, a.computeMetadata))
	o.Set("encode", a.method(codecop.OpEncode, a.encode))
	o.Set("decode", a.method(codecop.OpDecode, a.decode))
	o.Set("limits", a.method("limits", a.limits))
	o.Set("setMemoryBudget", a.method("setMemoryBudget", a.setMemoryBudget))
	o.Set("confirmationMessage", a.method("confirmationMessage", a.confirmationMessage))
	o.Set("verifySignature", a.method("verifySignature", a.verifySignature))
	o.Set("aggregateSignatures", a.method("aggregateSignatures", a.aggregateSignatures))
	return o
}

// method wraps an operation as a JavaScript function returning a Promise.
// The wrapper is never released: the API lives as long as the module.
func (a *api) method(op string, fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) (result any) {
		promise := js.Global().Get("Promise")
		defer func() {
			if r := recover(); r != nil {
				result = promise.Call("reject", panicError(op, r))
			}
		}()
		v, err := fn(args)
		if err != nil {
			return promise.Call("reject", jsError(op, err))
		}
		return promise.Call("resolve", v)
	})
}

// jsError turns a Go error into a JavaScript Error with a code.
func jsError(op string, err error) js.Value {
	var jerr js.Error
	if errors.As(err, &jerr) {
		return jerr.Value // a callback's own exception, passed through
	}
	e := js.Global().Get("Error").New(fmt.Sprintf("haulout %s: %v", op, err))
	e.Set("name", "HauloutError")
	e.Set("code", codecop.ErrorCode(err))
	return e
}

// panicError reports a panic: a JavaScript exception thrown by a callback,
// a value of the wrong type where syscall/js expected another, or a bug.
func panicError(op string, r any) js.Value {
	switch p := r.(type) {
	case js.Error:
		return p.Value
	case *js.ValueError:
		return jsError(op, fmt.Errorf("%w: %v", codecop.ErrInvalidArgument, p))
	case error:
		return jsError(op, fmt.Errorf("internal error: %w", p))
	}
	return jsError(op, fmt.Errorf("internal error: %v", r))
}

func (a *api) blobID(args []js.Value) (any, error) {
	data, n, opts, err := dataArgs(args)
	if err != nil {
		return nil, err
	}
	md, err := a.metadata(codecop.OpBlobID, data, n, opts)
	if err != nil {
		return nil, err
	}
	return md.ID.String(), nil
}

func (a *api) computeMetadata(args []js.Value) (any, error) {
	data, n, opts, err := dataArgs(args)
	if err != nil {
		return nil, err
	}
	md, err := a.metadata(codecop.OpMetadata, data, n, opts)
	if err != nil {
		return nil, err
	}
	c, _ := md.Config() // the codec just made it
	return metadataObject(c, md), nil
}

func (a *api) metadata(op string, data js.Value, n int, opts options) (*codec.Metadata, error) {
	length := uint64(data.Length())
	c, err := codecop.Config(n, length)
	if err != nil {
		return nil, err
	}
	need, _ := codecop.EncodeNeed(c, length, false)
	if err := codecop.Check(op, c, length, need, a.budget); err != nil {
		return nil, err
	}
	blob := opts.copyIn(op, data)
	opts.progress(op, "encode", 0, 1)
	md, err := c.ComputeMetadata(blob)
	if err != nil {
		return nil, err
	}
	opts.progress(op, "encode", 1, 1)
	return md, nil
}

func (a *api) encode(args []js.Value) (any, error) {
	const op = codecop.OpEncode
	data, n, opts, err := dataArgs(args)
	if err != nil {
		return nil, err
	}
	length := uint64(data.Length())
	c, err := codecop.Config(n, length)
	if err != nil {
		return nil, err
	}
	need, _ := codecop.EncodeNeed(c, length, true)
	if err := codecop.Check(op, c, length, need, a.budget); err != nil {
		return nil, err
	}
	blob := opts.copyIn(op, data)
	opts.progress(op, "encode", 0, 1)
	enc, err := c.Encode(blob)
	if err != nil {
		return nil, err
	}
	opts.progress(op, "encode", 1, 1)
	blob = nil // the slivers do not alias it: let the collector have it

	// Each pair is marshalled and copied out on its own, so that the module
	// never holds a second copy of every sliver.
	pairs := js.Global().Get("Array").New(n)
	step := max(1, n/100)
	for p := range n {
		prim, sec := enc.Pair(p)
		pair := js.Global().Get("Object").New()
		pair.Set("primary", bytesToJS(prim.MarshalBCS()))
		pair.Set("secondary", bytesToJS(sec.MarshalBCS()))
		pairs.SetIndex(p, pair)
		if (p+1)%step == 0 || p+1 == n {
			opts.progress(op, "write", p+1, n)
		}
	}
	out := metadataObject(c, enc.Metadata)
	out.Set("pairs", pairs)
	return out, nil
}

func (a *api) decode(args []js.Value) (any, error) {
	const op = codecop.OpDecode
	if len(args) < 2 {
		return nil, fmt.Errorf("%w: decode(metadata, slivers, nShards?, options?) takes at least 2 arguments, got %d", codecop.ErrInvalidArgument, len(args))
	}
	mdBytes, err := bytesArg("metadata", args[0])
	if err != nil {
		return nil, err
	}
	n := 0
	if len(args) > 2 && !nullish(args[2]) {
		if n, err = shardsArg(args[2]); err != nil {
			return nil, err
		}
	}
	opts, err := optionsArg(args, 3)
	if err != nil {
		return nil, err
	}
	var want *codec.BlobID
	if opts.blobID != "" {
		id, err := codec.ParseBlobID(opts.blobID)
		if err != nil {
			return nil, err
		}
		want = &id
	}
	mode, err := codecop.ParseConsistency(opts.consistency)
	if err != nil {
		return nil, err
	}
	prim, sec, input, err := sliverArgs(args[1])
	if err != nil {
		return nil, err
	}
	md, c, err := codecop.ParseMetadata(copyBytes(mdBytes), want, n)
	if err != nil {
		return nil, err
	}
	need, _ := codecop.DecodeNeed(c, md.UnencodedLength, input, mode)
	if err := codecop.Check(op, c, md.UnencodedLength, need, a.budget); err != nil {
		return nil, err
	}
	opts.progress(op, "read", 0, len(prim)+len(sec))
	primary, err := parseSlivers(prim, codec.Primary)
	if err != nil {
		return nil, err
	}
	secondary, err := parseSlivers(sec, codec.Secondary)
	if err != nil {
		return nil, err
	}
	opts.progress(op, "read", len(prim)+len(sec), len(prim)+len(sec))
	opts.progress(op, "decode", 0, 1)
	blob, err := codecop.Decode(c, md, primary, secondary, mode)
	if err != nil {
		return nil, err
	}
	opts.progress(op, "decode", 1, 1)
	return bytesToJS(blob), nil
}

// limits describes what an operation on length bytes at nShards needs:
// sizes, and memory against the budget.
func (a *api) limits(args []js.Value) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("%w: limits(length, nShards) takes 2 arguments", codecop.ErrInvalidArgument)
	}
	length, err := lengthArg(args[0])
	if err != nil {
		return nil, err
	}
	n, err := shardsArg(args[1])
	if err != nil {
		return nil, err
	}
	c, err := codecop.Config(n, length)
	if err != nil {
		return nil, err
	}
	s, _ := c.SymbolSize(length)
	encoded, _ := c.EncodedLength(length)
	meta, _ := codecop.EncodeNeed(c, length, false)
	enc, _ := codecop.EncodeNeed(c, length, true)
	// Decoding from just enough primary slivers, each a BCS SliverData.
	input := uint64(c.PrimarySourceSymbols()) * (uint64(s*c.SecondarySourceSymbols()) + 10)
	dec, _ := codecop.DecodeNeed(c, length, input, codec.ConsistencyDefault)

	o := js.Global().Get("Object").New()
	o.Set("unencodedLength", float64(length))
	o.Set("nShards", n)
	o.Set("maxBlobSize", float64(c.MaxBlobSize()))
	o.Set("symbolSize", s)
	o.Set("primarySourceSymbols", c.PrimarySourceSymbols())
	o.Set("secondarySourceSymbols", c.SecondarySourceSymbols())
	o.Set("primarySliverSize", s*c.SliverSymbols(codec.Primary))
	o.Set("secondarySliverSize", s*c.SliverSymbols(codec.Secondary))
	o.Set("encodedLength", float64(encoded))
	mem := js.Global().Get("Object").New()
	mem.Set("budget", float64(a.budget))
	mem.Set("blobId", float64(meta))
	mem.Set("computeMetadata", float64(meta))
	mem.Set("encode", float64(enc))
	mem.Set("decode", float64(dec))
	o.Set("memory", mem)
	return o, nil
}

func (a *api) setMemoryBudget(args []js.Value) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%w: setMemoryBudget(bytes) takes 1 argument", codecop.ErrInvalidArgument)
	}
	b, err := lengthArg(args[0])
	if err != nil {
		return nil, err
	}
	if b > codecop.Wasm32Memory {
		return nil, fmt.Errorf("%w: memory budget %d is more than wasm32's 4 GiB", codecop.ErrInvalidArgument, b)
	}
	if b == 0 {
		b = codecop.DefaultBudget
	}
	a.budget = b
	return float64(b), nil
}

// metadataObject is what computeMetadata returns, and encode without pairs.
func metadataObject(c codec.Config, md *codec.Metadata) js.Value {
	s, _ := c.SymbolSize(md.UnencodedLength)
	encoded, _ := c.EncodedLength(md.UnencodedLength)
	root := md.RootHash()
	o := js.Global().Get("Object").New()
	o.Set("blobId", md.ID.String())
	o.Set("blobIdBytes", bytesToJS(md.ID[:]))
	o.Set("rootHash", bytesToJS(root[:]))
	o.Set("metadataBcs", bytesToJS(md.BlobMetadata.MarshalBCS()))
	o.Set("metadataWithIdBcs", bytesToJS(md.MarshalBCS()))
	o.Set("unencodedLength", float64(md.UnencodedLength))
	o.Set("encodingType", md.EncodingType.String())
	o.Set("nShards", c.NShards())
	o.Set("symbolSize", s)
	o.Set("primarySourceSymbols", c.PrimarySourceSymbols())
	o.Set("secondarySourceSymbols", c.SecondarySourceSymbols())
	o.Set("primarySliverSize", s*c.SliverSymbols(codec.Primary))
	o.Set("secondarySliverSize", s*c.SliverSymbols(codec.Secondary))
	o.Set("encodedLength", float64(encoded))
	return o
}

// options are the optional last argument of every call.
type options struct {
	onProgress  js.Value // function({op, phase, done, total}) or undefined
	consistency string   // decode: "default", "strict" or "skip"
	blobID      string   // decode: the blob ID the metadata must commit to
}

func optionsArg(args []js.Value, i int) (options, error) {
	if len(args) <= i || nullish(args[i]) {
		return options{}, nil
	}
	v := args[i]
	if v.Type() != js.TypeObject {
		return options{}, fmt.Errorf("%w: options must be an object, got %s", codecop.ErrInvalidArgument, v.Type())
	}
	var o options
	if p := v.Get("onProgress"); !nullish(p) {
		if p.Type() != js.TypeFunction {
			return options{}, fmt.Errorf("%w: onProgress must be a function, got %s", codecop.ErrInvalidArgument, p.Type())
		}
		o.onProgress = p
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"consistency", &o.consistency}, {"blobId", &o.blobID}} {
		if s := v.Get(f.name); !nullish(s) {
			if s.Type() != js.TypeString {
				return options{}, fmt.Errorf("%w: %s must be a string, got %s", codecop.ErrInvalidArgument, f.name, s.Type())
			}
			*f.dst = s.String()
		}
	}
	return o, nil
}

// progress reports a step to the caller's onProgress, if any. An exception
// it throws ends the call with that exception.
func (o options) progress(op, phase string, done, total int) {
	if o.onProgress.IsUndefined() { // the zero js.Value is undefined
		return
	}
	ev := js.Global().Get("Object").New()
	ev.Set("op", op)
	ev.Set("phase", phase)
	ev.Set("done", done)
	ev.Set("total", total)
	o.onProgress.Invoke(ev)
}

// copyIn copies the caller's bytes into Go memory, reporting it.
func (o options) copyIn(op string, data js.Value) []byte {
	n := data.Length()
	o.progress(op, "read", 0, n)
	b := copyBytes(data)
	o.progress(op, "read", n, n)
	return b
}

// dataArgs reads (data, nShards, options?).
func dataArgs(args []js.Value) (js.Value, int, options, error) {
	if len(args) < 2 {
		return js.Value{}, 0, options{}, fmt.Errorf("%w: takes (data, nShards, options?), got %d arguments", codecop.ErrInvalidArgument, len(args))
	}
	data, err := bytesArg("data", args[0])
	if err != nil {
		return js.Value{}, 0, options{}, err
	}
	n, err := shardsArg(args[1])
	if err != nil {
		return js.Value{}, 0, options{}, err
	}
	opts, err := optionsArg(args, 2)
	return data, n, opts, err
}

// bytesArg accepts a Uint8Array, an ArrayBuffer or any other
// ArrayBufferView, and returns a Uint8Array over the same bytes.
func bytesArg(name string, v js.Value) (js.Value, error) {
	u8 := js.Global().Get("Uint8Array")
	switch {
	case v.Type() != js.TypeObject:
		return js.Value{}, fmt.Errorf("%w: %s must be a Uint8Array, got %s", codecop.ErrInvalidArgument, name, v.Type())
	case v.InstanceOf(u8):
		return v, nil
	case v.InstanceOf(js.Global().Get("ArrayBuffer")):
		return u8.New(v), nil
	case js.Global().Get("ArrayBuffer").Call("isView", v).Bool():
		return u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength")), nil
	}
	return js.Value{}, fmt.Errorf("%w: %s must be a Uint8Array, an ArrayBuffer or an ArrayBufferView", codecop.ErrInvalidArgument, name)
}

func shardsArg(v js.Value) (int, error) {
	if v.Type() != js.TypeNumber {
		return 0, fmt.Errorf("%w: nShards must be a number, got %s", codecop.ErrInvalidArgument, v.Type())
	}
	f := v.Float()
	if f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %v (want an integer from %d to %d)", codec.ErrInvalidShardCount, f, codec.MinShards, codec.MaxShards)
	}
	return int(f), nil
}

func lengthArg(v js.Value) (uint64, error) {
	if v.Type() != js.TypeNumber {
		return 0, fmt.Errorf("%w: a byte count must be a number, got %s", codecop.ErrInvalidArgument, v.Type())
	}
	f := v.Float()
	if f != math.Trunc(f) || f < 0 || f > 1<<53 {
		return 0, fmt.Errorf("%w: byte count %v is not a whole number from 0 to 2^53", codecop.ErrInvalidArgument, f)
	}
	return uint64(f), nil
}

// sliverArgs reads the slivers of decode: an array whose items are a
// Uint8Array (a primary sliver) or an object with primary and/or secondary
// Uint8Arrays (a pair, as encode returns them). It returns them still in
// JavaScript memory, with their total size.
func sliverArgs(v js.Value) (prim, sec []js.Value, total uint64, err error) {
	if !v.InstanceOf(js.Global().Get("Array")) {
		return nil, nil, 0, fmt.Errorf("%w: slivers must be an array, got %s", codecop.ErrInvalidArgument, v.Type())
	}
	for i := range v.Length() {
		item := v.Index(i)
		if item.Type() == js.TypeObject && (item.InstanceOf(js.Global().Get("Uint8Array")) || item.InstanceOf(js.Global().Get("ArrayBuffer"))) {
			b, _ := bytesArg("sliver", item)
			prim = append(prim, b)
			total += uint64(b.Length())
			continue
		}
		if item.Type() != js.TypeObject {
			return nil, nil, 0, fmt.Errorf("%w: slivers[%d] must be a Uint8Array or {primary, secondary}, got %s", codecop.ErrInvalidArgument, i, item.Type())
		}
		found := false
		for _, f := range []struct {
			name string
			dst  *[]js.Value
		}{{"primary", &prim}, {"secondary", &sec}} {
			x := item.Get(f.name)
			if nullish(x) {
				continue
			}
			b, err := bytesArg(fmt.Sprintf("slivers[%d].%s", i, f.name), x)
			if err != nil {
				return nil, nil, 0, err
			}
			*f.dst = append(*f.dst, b)
			total += uint64(b.Length())
			found = true
		}
		if !found {
			return nil, nil, 0, fmt.Errorf("%w: slivers[%d] has neither primary nor secondary", codecop.ErrInvalidArgument, i)
		}
	}
	return prim, sec, total, nil
}

func parseSlivers(bcs []js.Value, a codec.Axis) ([]*codec.Sliver, error) {
	out := make([]*codec.Sliver, 0, len(bcs))
	for i, v := range bcs {
		sl, err := codec.UnmarshalSliverBCS(copyBytes(v), a)
		if err != nil {
			return nil, fmt.Errorf("%s sliver %d of the %d given: %w", a, i, len(bcs), err)
		}
		out = append(out, sl)
	}
	return out, nil
}

func copyBytes(u8 js.Value) []byte {
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	return b
}

func bytesToJS(b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8
}

func nullish(v js.Value) bool { return v.IsUndefined() || v.IsNull() }
