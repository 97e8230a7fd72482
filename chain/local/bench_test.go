package local

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/haulout/haulout/chain/chaintest"
)

// BenchmarkRegister measures a registration, which is one fsynced log
// append, beside the baseline of the bare append of a record of the same
// size to a file in the same directory.
func BenchmarkRegister(b *testing.B) {
	net := chaintest.NewNetwork(b, chaintest.SuiteShards...)
	dir := b.TempDir()
	l, err := Open(b.Context(), Config{Path: filepath.Join(dir, "ledger.log"), Genesis: net.Genesis})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var size int
	b.Run("ledger", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := l.Register(b.Context(), chaintest.Blob(fmt.Sprint(i), 1000, 10, 5, true)); err != nil {
				b.Fatal(err)
			}
		}
		st, _ := os.Stat(filepath.Join(dir, "ledger.log"))
		size = int(st.Size()) / (i + 1)
	})
	b.Run("baseline-append-fsync", func(b *testing.B) {
		f, err := os.OpenFile(filepath.Join(dir, "raw.log"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		rec := appendRecord(nil, make([]byte, max(size, 512)))
		for b.Loop() {
			if _, err := f.Write(rec); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCertify measures a certification: an aggregate-signature check of
// a quorum and one fsynced append.
func BenchmarkCertify(b *testing.B) {
	net := chaintest.NewNetwork(b, chaintest.SuiteShards...)
	l, err := Open(b.Context(), Config{Path: filepath.Join(b.TempDir(), "ledger.log"), Genesis: net.Genesis})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := l.CurrentCommittee(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		rec, err := l.Register(b.Context(), chaintest.Blob(fmt.Sprint(i), 1000, 10, 5, false))
		if err != nil {
			b.Fatal(err)
		}
		cert := net.Certificate(b, c, chaintest.Confirmation(rec, c.Epoch), chaintest.Quorum(c)...)
		b.StartTimer()
		if _, err := l.Certify(b.Context(), rec.ObjectID, cert); err != nil {
			b.Fatal(err)
		}
	}
}
