package bls

import (
	"fmt"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	k := mustKey(b, 1)
	msg := make([]byte, 40)
	for b.Loop() {
		k.Sign(msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := mustKey(b, 1)
	msg := make([]byte, 40)
	sig := k.Sign(msg)
	pk := k.PublicKey()
	for b.Loop() {
		if err := Verify(pk, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAggregate checks a certificate of n signers: the sum of n
// keys (each checked to be in the subgroup) and one pairing check, against
// verifying the n signatures one by one (the baseline it replaces).
func BenchmarkVerifyAggregate(b *testing.B) {
	msg := make([]byte, 40)
	for _, n := range []int{4, 34, 100} {
		pks := make([]PublicKey, n)
		sigs := make([]Signature, n)
		for i := range n {
			k := mustKey(b, byte(i+1))
			pks[i], sigs[i] = k.PublicKey(), k.Sign(msg)
		}
		agg, err := Aggregate(sigs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("aggregate/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := VerifyAggregate(pks, msg, agg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("one-by-one/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				for i := range pks {
					if err := Verify(pks[i], msg, sigs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
