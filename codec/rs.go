package codec

import (
	"errors"
	"fmt"
	"math/bits"
)

// rsCode is a systematic Reed-Solomon code over GF(2^16) with k source and m
// recovery symbols, computed with the additive FFT exactly as
// reed-solomon-simd 3.1 (the crate Walrus uses) does. That crate picks one of
// two algorithms per (k, m), and the two give different recovery symbols, so
// the choice here must be the same: "high rate" places recovery symbols at
// FFT positions [0, m) and sources from chunk = nextPow2(m) on; "low rate"
// places sources at [0, k) and recovery symbols from chunk = nextPow2(k) on.
//
// klauspost/reedsolomon's Leopard GF(2^16) codec computes the high-rate code
// only; Walrus's primary expansion (k = n-2f, m = 2f) is low-rate for almost
// every n, so the codec carries its own FFT code for both.
type rsCode struct {
	k, m  int
	high  bool
	chunk int
}

var errUnsupportedCounts = errors.New("unsupported Reed-Solomon symbol counts")

func nextPow2(x int) int {
	if x <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(x-1))
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

func newRSCode(k, m int) (rsCode, error) {
	kp, mp := nextPow2(k), nextPow2(m)
	if k <= 0 || m <= 0 || k > gfOrder || m > gfOrder || min(kp, mp)+max(k, m) > gfOrder {
		return rsCode{}, fmt.Errorf("%w: %d source, %d recovery", errUnsupportedCounts, k, m)
	}
	high := kp > mp || (kp == mp && k <= m)
	c := rsCode{k: k, m: m, high: high}
	if high {
		c.chunk = mp
	} else {
		c.chunk = kp
	}
	return c, nil
}

func (c rsCode) encodeWorkCount() int {
	if c.high {
		return roundUp(c.k, c.chunk)
	}
	return roundUp(c.m, c.chunk)
}

// rsEncoder computes recovery symbols for batches of packed shards. Shards
// are element streams in the 64-byte lo/hi layout (see pack.go), all of one
// length per call, a multiple of 64.
type rsEncoder struct {
	code rsCode
	buf  []byte
	work shards
	skew *[gfModulus]uint16
}

func (c rsCode) newEncoder(maxShardBytes int) *rsEncoder {
	return &rsEncoder{
		code: c,
		buf:  make([]byte, c.encodeWorkCount()*maxShardBytes),
		skew: &tables().skew,
	}
}

// setLen prepares the work area for shards of shardBytes bytes.
func (e *rsEncoder) setLen(shardBytes int) {
	e.work = shards{buf: e.buf[:e.code.encodeWorkCount()*shardBytes], stride: shardBytes}
}

// source returns the slot that source symbol i is written into before encode.
func (e *rsEncoder) source(i int) []byte { return e.work.at(i) }

// recovery returns recovery symbol j after encode.
func (e *rsEncoder) recovery(j int) []byte { return e.work.at(j) }

// encode turns the k sources in the work area into m recovery symbols.
func (e *rsEncoder) encode() {
	c, w, skew := e.code, &e.work, e.skew
	k, m, chunk := c.k, c.m, c.chunk
	count := w.len()
	if c.high {
		first := min(k, chunk)
		w.zero(first, chunk)
		w.ifft(skew, 0, chunk, first, chunk)
		if k > chunk {
			start := chunk
			for ; start+chunk <= k; start += chunk {
				w.ifft(skew, start, chunk, chunk, start+chunk)
				xorBytes(w.span(0, chunk), w.span(start, chunk))
			}
			if last := k % chunk; last > 0 {
				w.zero(start+last, count)
				w.ifft(skew, start, chunk, last, start+chunk)
				xorBytes(w.span(0, chunk), w.span(start, chunk))
			}
		}
		w.fft(skew, 0, chunk, m, 0)
		return
	}
	w.zero(k, chunk)
	w.ifft(skew, 0, chunk, k, 0)
	for start := chunk; start < m; start += chunk {
		copy(w.span(start, chunk), w.span(0, chunk))
	}
	start := 0
	for ; start+chunk <= m; start += chunk {
		w.fft(skew, start, chunk, chunk, start+chunk)
	}
	if last := m % chunk; last > 0 {
		w.fft(skew, start, chunk, last, start+chunk)
	}
}

func (s *shards) len() int { return len(s.buf) / s.stride }

// rsDecodePlan restores missing source symbols from any k of the k+m
// symbols. The erasure pattern is fixed when the plan is made, so its
// (costly) locator evaluation is done once, shared by every worker and every
// batch decoded with it.
type rsDecodePlan struct {
	code      rsCode
	pos       []int  // work position of each present symbol index, -1 if absent
	received  []bool // by work position
	erasures  []uint16
	workCount int
	end       int  // truncation point of the transforms
	complete  bool // every source symbol is present: nothing to decode
}

// errTooFewSymbols reports that fewer than k distinct symbols were given.
var errTooFewSymbols = errors.New("too few symbols to decode")

// newDecodePlan prepares decoding from the symbols whose indices are given
// (0..k-1 are sources, k..k+m-1 recovery symbols). Duplicates are ignored.
func (c rsCode) newDecodePlan(present []int) (*rsDecodePlan, error) {
	var origBase, recBase int
	d := &rsDecodePlan{code: c, pos: make([]int, c.k+c.m)}
	if c.high {
		origBase, recBase = c.chunk, 0
		d.end = c.chunk + c.k
	} else {
		origBase, recBase = 0, c.chunk
		d.end = c.chunk + c.m
	}
	d.workCount = nextPow2(d.end)
	for i := range d.pos {
		d.pos[i] = -1
	}
	d.received = make([]bool, d.workCount)
	nOrig, nDistinct := 0, 0
	for _, idx := range present {
		if idx < 0 || idx >= c.k+c.m {
			return nil, fmt.Errorf("symbol index %d out of range [0, %d)", idx, c.k+c.m)
		}
		if d.pos[idx] >= 0 {
			continue
		}
		p := recBase + idx - c.k
		if idx < c.k {
			p = origBase + idx
			nOrig++
		}
		d.pos[idx] = p
		d.received[p] = true
		nDistinct++
	}
	if nDistinct < c.k {
		return nil, fmt.Errorf("%w: have %d, need %d", errTooFewSymbols, nDistinct, c.k)
	}
	d.complete = nOrig == c.k
	if d.complete {
		return d, nil
	}
	er := new([gfOrder]uint16)
	truncated := d.end
	if c.high {
		for i := 0; i < d.end; i++ {
			if !d.received[i] {
				er[i] = 1
			}
		}
	} else {
		for i := 0; i < c.k; i++ {
			if !d.received[i] {
				er[i] = 1
			}
		}
		for i := c.chunk; i < gfOrder; i++ {
			if i >= d.end || !d.received[i] {
				er[i] = 1
			}
		}
		truncated = gfOrder
	}
	tables().evalErasures(er, truncated)
	d.erasures = er[:d.workCount]
	return d, nil
}

// rsDecoder is one worker's decoding area for a plan.
type rsDecoder struct {
	*rsDecodePlan
	buf  []byte
	work shards
	skew *[gfModulus]uint16
}

func (d *rsDecodePlan) newDecoder(maxShardBytes int) *rsDecoder {
	return &rsDecoder{rsDecodePlan: d, buf: make([]byte, d.workCount*maxShardBytes), skew: &tables().skew}
}

func (d *rsDecoder) setLen(shardBytes int) {
	d.work = shards{buf: d.buf[:d.workCount*shardBytes], stride: shardBytes}
}

// slot returns where present symbol idx is written before decode.
func (d *rsDecoder) slot(idx int) []byte { return d.work.at(d.pos[idx]) }

// source returns source symbol i after decode (given or restored).
func (d *rsDecoder) source(i int) []byte {
	if d.code.high {
		return d.work.at(d.code.chunk + i)
	}
	return d.work.at(i)
}

// decode restores the missing source symbols in the work area.
func (d *rsDecoder) decode() {
	if d.complete {
		return
	}
	w := &d.work
	for p := 0; p < d.workCount; p++ {
		if d.received[p] {
			w.mul(p, d.erasures[p])
		} else {
			w.zero(p, p+1)
		}
	}
	w.ifft(d.skew, 0, d.workCount, d.end, 0)
	w.formalDerivative(d.workCount)
	w.fft(d.skew, 0, d.workCount, d.end, 0)
	for i := 0; i < d.code.k; i++ {
		if d.pos[i] < 0 {
			p := i
			if d.code.high {
				p = d.code.chunk + i
			}
			w.mul(p, gfModulus-d.erasures[p])
		}
	}
}
