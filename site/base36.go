package site

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/haulout/haulout/chain"
)

// ErrInvalidSiteID is returned for text that is neither a 0x hex object ID
// nor its base36 form.
var ErrInvalidSiteID = errors.New("invalid site ID")

const base36Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// Base36 returns the form of a site ID that Walrus's portals put in a
// subdomain: the 32 bytes as a base-36 number in 0-9a-z, one leading '0'
// per leading zero byte (as the base-x encoding of Walrus's tools).
func Base36(id chain.ObjectID) string {
	zeros := 0
	for zeros < len(id) && id[zeros] == 0 {
		zeros++
	}
	digits := new(big.Int).SetBytes(id[:]).Text(36)
	if zeros == len(id) {
		digits = ""
	}
	return strings.Repeat("0", zeros) + digits
}

// ParseBase36 reads the base-36 form of a site ID, in either case. Leading
// zeros are accepted in any number, so both the base-x form and a plain
// number decode; the value must fit in 32 bytes.
func ParseBase36(s string) (chain.ObjectID, error) {
	var id chain.ObjectID
	if s == "" || len(s) > 64 {
		return id, fmt.Errorf("%w: %q: want 1 to 64 base-36 digits", ErrInvalidSiteID, clip(s))
	}
	s = strings.ToLower(s)
	if strings.Trim(s, base36Alphabet) != "" {
		return id, fmt.Errorf("%w: %q: not base 36 (0-9, a-z)", ErrInvalidSiteID, clip(s))
	}
	n, ok := new(big.Int).SetString(s, 36)
	if !ok || n.BitLen() > 256 {
		return id, fmt.Errorf("%w: %q: more than 32 bytes", ErrInvalidSiteID, clip(s))
	}
	n.FillBytes(id[:])
	return id, nil
}

// ParseSiteID reads a site ID as 0x and hex digits (a Sui object ID), 64
// hex digits, or in base 36 (at most 50 digits for 32 bytes).
func ParseSiteID(s string) (chain.ObjectID, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") || len(s) == 64 {
		id, err := chain.ParseObjectID(s)
		if err != nil {
			return id, fmt.Errorf("%w: %w", ErrInvalidSiteID, err)
		}
		return id, nil
	}
	return ParseBase36(s)
}
