package codec

import "sync"

// GF(2^16) arithmetic in the representation that Leopard-style FFT
// Reed-Solomon codes use (and so reed-solomon-simd, and so Walrus): elements
// are written in a Cantor basis, multiplication goes through log/exp tables,
// and the additive FFT needs per-layer "skew" factors. The tables are built
// once, on first use, exactly as that family of codecs builds them; any
// difference would change every recovery symbol.

const (
	gfBits       = 16
	gfOrder      = 1 << gfBits // number of field elements
	gfModulus    = gfOrder - 1 // multiplicative group order; log value meaning "times zero"
	gfPolynomial = 0x1002D
)

var cantorBasis = [gfBits]uint16{
	0x0001, 0xACCA, 0x3C0E, 0x163E, 0xC582, 0xED2E, 0x914C, 0x4012,
	0x6C98, 0x10D8, 0x6A72, 0xB900, 0xFDB8, 0xFB34, 0xFF38, 0x991E,
}

// gfTables holds everything derived from the field: built once, read-only after.
type gfTables struct {
	exp      [gfOrder]uint16
	log      [gfOrder]uint16
	skew     [gfModulus]uint16 // log of the FFT twiddle factors
	logWalsh [gfOrder]uint16   // Walsh transform of log, for erasure locator evaluation
}

var tables = sync.OnceValue(buildTables)

// addMod adds modulo 65535, where 65535 and 0 are the same value.
func addMod(x, y uint16) uint16 {
	sum := uint32(x) + uint32(y)
	return uint16(sum + sum>>gfBits)
}

// subMod subtracts modulo 65535.
func subMod(x, y uint16) uint16 {
	dif := uint32(x) - uint32(y)
	return uint16(dif + dif>>gfBits)
}

// mulLog multiplies x by the element whose log is logM.
func (t *gfTables) mulLog(x, logM uint16) uint16 {
	if x == 0 {
		return 0
	}
	return t.exp[addMod(t.log[x], logM)]
}

func buildTables() *gfTables {
	t := new(gfTables)
	// LFSR over the polynomial gives exp in the standard basis...
	state := 1
	for i := 0; i < gfModulus; i++ {
		t.exp[state] = uint16(i)
		state <<= 1
		if state >= gfOrder {
			state ^= gfPolynomial
		}
	}
	t.exp[0] = gfModulus
	// ...then both tables are re-expressed in the Cantor basis.
	t.log[0] = 0
	for i := 0; i < gfBits; i++ {
		width := 1 << i
		for j := 0; j < width; j++ {
			t.log[j+width] = t.log[j] ^ cantorBasis[i]
		}
	}
	for i := 0; i < gfOrder; i++ {
		t.log[i] = t.exp[t.log[i]]
	}
	for i := 0; i < gfOrder; i++ {
		t.exp[t.log[i]] = uint16(i)
	}
	t.exp[gfModulus] = t.exp[0]

	t.buildSkew()

	t.logWalsh = t.log
	t.logWalsh[0] = 0
	fwht(&t.logWalsh, gfOrder)
	return t
}

func (t *gfTables) buildSkew() {
	var temp [gfBits - 1]uint16
	for i := 1; i < gfBits; i++ {
		temp[i-1] = 1 << i
	}
	for m := 0; m < gfBits-1; m++ {
		step := 1 << (m + 1)
		t.skew[(1<<m)-1] = 0
		for i := m; i < gfBits-1; i++ {
			s := 1 << (i + 1)
			for j := (1 << m) - 1; j < s; j += step {
				t.skew[j+s] = t.skew[j] ^ temp[i]
			}
		}
		temp[m] = gfModulus - t.log[t.mulLog(temp[m], t.log[temp[m]^1])]
		for i := m + 1; i < gfBits-1; i++ {
			sum := addMod(t.log[temp[i]^1], temp[m])
			temp[i] = t.mulLog(temp[i], sum)
		}
	}
	for i := range t.skew {
		t.skew[i] = t.log[t.skew[i]]
	}
}

// fwht is the Walsh-Hadamard transform modulo 65535 over the first
// truncated entries (the rest are known to be zero).
func fwht(data *[gfOrder]uint16, truncated int) {
	dist, dist4 := 1, 4
	for dist4 <= gfOrder {
		for r := 0; r < truncated; r += dist4 {
			for off := r; off < r+dist; off++ {
				i0, i1, i2, i3 := off, off+dist, off+2*dist, off+3*dist
				s0, d0 := addMod(data[i0], data[i1]), subMod(data[i0], data[i1])
				s1, d1 := addMod(data[i2], data[i3]), subMod(data[i2], data[i3])
				data[i0], data[i2] = addMod(s0, s1), subMod(s0, s1)
				data[i1], data[i3] = addMod(d0, d1), subMod(d0, d1)
			}
		}
		dist = dist4
		dist4 <<= 2
	}
}

// evalErasures turns an erasure indicator vector (1 = missing) into the logs
// of the erasure locator polynomial's derivative factors.
func (t *gfTables) evalErasures(erasures *[gfOrder]uint16, truncated int) {
	fwht(erasures, truncated)
	for i := range erasures {
		p := uint32(erasures[i]) * uint32(t.logWalsh[i])
		erasures[i] = addMod(uint16(p), uint16(p>>gfBits))
	}
	fwht(erasures, gfOrder)
}
