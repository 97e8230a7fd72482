package chain

import "errors"

// Bitcoin's base58 alphabet, which Sui uses for digests.
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var errBase58 = errors.New("invalid base58")

func encodeBase58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.37: enough digits for the big-endian number.
	digits := make([]byte, 0, len(b)*137/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := range zeros {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = base58Alphabet[d]
	}
	return string(out)
}

func decodeBase58(s string) ([]byte, error) {
	if len(s) == 0 {
		return nil, errBase58
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	// log(58)/log(256) < 0.74.
	bytes := make([]byte, 0, len(s)*74/100+1)
	for i := zeros; i < len(s); i++ {
		v := base58Value(s[i])
		if v < 0 {
			return nil, errBase58
		}
		carry := v
		for j := range bytes {
			carry += int(bytes[j]) * 58
			bytes[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			bytes = append(bytes, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(bytes))
	for i, c := range bytes {
		out[len(out)-1-i] = c
	}
	return out, nil
}

func base58Value(c byte) int {
	for i := range len(base58Alphabet) {
		if base58Alphabet[i] == c {
			return i
		}
	}
	return -1
}
