// Command wasip1 is haulout's RedStuff codec as a WASI command module
// (GOOS=wasip1 GOARCH=wasm; `make wasm` names it haulout-wasip1.wasm). Any
// WASI runtime can run it; package wasm/host runs it under wazero. It also
// builds as a native program, which is how its tests check the protocol.
//
// One run does one operation:
//
//	haulout-wasip1 OP N_SHARDS [CONSISTENCY]
//
// Standard input and output are frames: a u32 little-endian length, then
// that many bytes.
//
//	OP        stdin                               stdout
//	blob-id   frame(blob)                         frame(blob ID, 32 bytes)
//	metadata  frame(blob)                         frame(BCS BlobMetadataWithId)
//	encode    frame(blob)                         frame(BCS BlobMetadataWithId), then for each
//	                                              pair p in 0..n-1: frame(BCS primary sliver p),
//	                                              frame(BCS secondary sliver n-1-p)
//	decode    frame(metadata, either BCS form),   frame(blob)
//	          then frame(axis byte + BCS SliverData) per sliver (axis 0 primary, 1 secondary)
//
// For decode, N_SHARDS may be 0 (take it from the metadata) and CONSISTENCY
// is default, strict or skip. Exit status 0 is success; 1 is a refusal or a
// failure, with one line on stderr: "haulout-wasip1: OP: CODE: message",
// CODE one of the codes of wasm/internal/codecop (too-large,
// out-of-memory, not-enough-slivers, ...); 2 is a usage error. The
// environment variable HAULOUT_MEMORY_BUDGET (bytes) lowers the memory an
// operation may plan to use from 3 GiB, to match a host's memory limit.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/wasm/internal/codecop"
)

const usage = "usage: haulout-wasip1 blob-id|metadata|encode|decode N_SHARDS [default|strict|skip] (frames on stdin and stdout; see wasm/README.md)"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv("HAULOUT_MEMORY_BUDGET")))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, budgetEnv string) int {
	if len(args) < 2 || len(args) > 3 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	op := args[0]
	n, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "haulout-wasip1: N_SHARDS %q is not a number\n%s\n", args[1], usage)
		return 2
	}
	budget := uint64(codecop.DefaultBudget)
	if budgetEnv != "" {
		if budget, err = strconv.ParseUint(budgetEnv, 10, 64); err != nil || budget == 0 {
			fmt.Fprintf(stderr, "haulout-wasip1: HAULOUT_MEMORY_BUDGET %q is not a positive number of bytes\n", budgetEnv)
			return 2
		}
	}
	consistency := ""
	if len(args) == 3 {
		consistency = args[2]
	}
	in := bufio.NewReaderSize(stdin, 1<<20)
	out := bufio.NewWriterSize(stdout, 1<<20)
	switch op {
	case codecop.OpBlobID, codecop.OpMetadata, codecop.OpEncode:
		err = encode(op, n, budget, in, out)
	case codecop.OpDecode:
		err = decode(n, consistency, budget, in, out)
	default:
		fmt.Fprintf(stderr, "haulout-wasip1: unknown operation %q\n%s\n", op, usage)
		return 2
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(stderr, "haulout-wasip1: %s: %s: %v\n", op, codecop.ErrorCode(err), err)
		return 1
	}
	return 0
}

// readBlob reads the blob frame, refusing it before allocating when the
// operation could not hold it.
func readBlob(op string, n int, budget uint64, in io.Reader) (codec.Config, []byte, error) {
	length, err := codecop.ReadFrameLength(in)
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("%w: no blob frame on stdin", codecop.ErrFrame)
		}
		return codec.Config{}, nil, err
	}
	c, err := codecop.Config(n, length)
	if err != nil {
		return codec.Config{}, nil, err
	}
	need, _ := codecop.EncodeNeed(c, length, op == codecop.OpEncode)
	if err := codecop.Check(op, c, length, need, budget); err != nil {
		return codec.Config{}, nil, err
	}
	blob, err := codecop.ReadFrameBody(in, length)
	return c, blob, err
}

func encode(op string, n int, budget uint64, in io.Reader, out io.Writer) error {
	c, blob, err := readBlob(op, n, budget, in)
	if err != nil {
		return err
	}
	if err := noMoreInput(in); err != nil {
		return err
	}
	switch op {
	case codecop.OpBlobID:
		md, err := c.ComputeMetadata(blob)
		if err != nil {
			return err
		}
		return codecop.WriteFrame(out, md.ID[:])
	case codecop.OpMetadata:
		md, err := c.ComputeMetadata(blob)
		if err != nil {
			return err
		}
		return codecop.WriteFrame(out, md.MarshalBCS())
	}
	enc, err := c.Encode(blob)
	if err != nil {
		return err
	}
	if err := codecop.WriteFrame(out, enc.Metadata.MarshalBCS()); err != nil {
		return err
	}
	for p := range c.NShards() {
		prim, sec := enc.Pair(p)
		if err := codecop.WriteFrame(out, prim.MarshalBCS()); err != nil {
			return err
		}
		if err := codecop.WriteFrame(out, sec.MarshalBCS()); err != nil {
			return err
		}
	}
	return nil
}

// maxMetadata is the largest BCS BlobMetadataWithId: the ID, the header,
// and two 33-byte nodes for each of at most 65535 pairs.
const maxMetadata = 32 + 2 + 8 + 3 + 66*codec.MaxShards

func decode(n int, consistency string, budget uint64, in io.Reader, out io.Writer) error {
	mode, err := codecop.ParseConsistency(consistency)
	if err != nil {
		return err
	}
	mdBytes, err := codecop.ReadFrame(in, maxMetadata)
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("%w: no metadata frame on stdin", codecop.ErrFrame)
		}
		return err
	}
	md, c, err := codecop.ParseMetadata(mdBytes, nil, n)
	if err != nil {
		return err
	}
	// The input counts against the budget as it arrives: a stream of
	// slivers larger than the decoding could hold is refused part way.
	var primary, secondary []*codec.Sliver
	var input uint64
	for i := 0; ; i++ {
		size, err := codecop.ReadFrameLength(in)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if size > uint64(c.MaxSliverSize())+16 {
			return fmt.Errorf("%w: sliver frame %d has %d bytes, more than any sliver at %d shards", codecop.ErrFrame, i, size, c.NShards())
		}
		input += size
		need, _ := codecop.DecodeNeed(c, md.UnencodedLength, input, mode)
		if err := codecop.Check(codecop.OpDecode, c, md.UnencodedLength, need, budget); err != nil {
			return err
		}
		b, err := codecop.ReadFrameBody(in, size)
		if err != nil {
			return err
		}
		if len(b) == 0 || b[0] > 1 {
			return fmt.Errorf("%w: sliver frame %d does not start with an axis byte (0 primary, 1 secondary)", codecop.ErrFrame, i)
		}
		a := codec.Axis(b[0])
		sl, err := codec.UnmarshalSliverBCS(b[1:], a)
		if err != nil {
			return fmt.Errorf("sliver frame %d: %w", i, err)
		}
		if a == codec.Primary {
			primary = append(primary, sl)
		} else {
			secondary = append(secondary, sl)
		}
	}
	blob, err := codecop.Decode(c, md, primary, secondary, mode)
	if err != nil {
		return err
	}
	return codecop.WriteFrame(out, blob)
}

// noMoreInput refuses trailing bytes after the blob frame: they mean the
// caller and the module disagree on the protocol.
func noMoreInput(in io.Reader) error {
	var b [1]byte
	switch _, err := io.ReadFull(in, b[:]); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: bytes after the blob frame", codecop.ErrFrame)
}
