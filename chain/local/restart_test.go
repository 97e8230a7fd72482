package local

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/chaintest"
	"github.com/haulout/haulout/codec"
)

// snapshot is everything observable through the method set.
type snapshot struct {
	Epoch      chain.Epoch
	EpochStart time.Time
	Committees []chain.Committee
	Events     []chain.Event
	Objects    map[string][]chain.BlobRecord
	Statuses   map[string]chain.BlobStatus
}

func takeSnapshot(t *testing.T, l *Ledger) string {
	t.Helper()
	ctx := t.Context()
	info, err := l.SystemInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{Epoch: info.Epoch, EpochStart: info.EpochStart.UTC(), Objects: map[string][]chain.BlobRecord{}, Statuses: map[string]chain.BlobStatus{}}
	for e := GenesisEpoch; e <= info.Epoch; e++ {
		c, err := l.Committee(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		s.Committees = append(s.Committees, c)
	}
	for from := uint64(0); ; {
		evs, err := l.Events(ctx, from, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		s.Events = append(s.Events, evs...)
		from = evs[len(evs)-1].Cursor + 1
	}
	for _, ev := range s.Events {
		if ev.BlobID == (codec.BlobID{}) {
			continue
		}
		objs, err := l.BlobObjects(ctx, ev.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		st, err := l.BlobStatus(ctx, ev.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		s.Objects[ev.BlobID.String()] = objs
		s.Statuses[ev.BlobID.String()] = st
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// history drives a ledger through every kind of change.
func history(t *testing.T, l *Ledger, net *chaintest.Network) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cert := func(rec chain.BlobRecord) chain.Certificate {
		c, err := l.CurrentCommittee(ctx)
		must(err)
		return net.Certificate(t, c, chaintest.Confirmation(rec, c.Epoch), chaintest.Quorum(c)...)
	}
	perm, err := l.Register(ctx, chaintest.Blob("perm", 5000, 10, 5, false))
	must(err)
	del, err := l.Register(ctx, chaintest.Blob("del", 10, 10, 4, true))
	must(err)
	_, err = l.Register(ctx, chaintest.Blob("short", 1, 10, 2, false))
	must(err)
	_, err = l.Certify(ctx, perm.ObjectID, cert(perm))
	must(err)
	_, err = l.Certify(ctx, del.ObjectID, cert(del))
	must(err)
	must(l.SetAttribute(ctx, perm.ObjectID, "content-type", "text/html"))
	must(l.SetAttribute(ctx, perm.ObjectID, "x", "y"))
	must(l.RemoveAttribute(ctx, perm.ObjectID, "x"))
	_, err = l.Extend(ctx, perm.ObjectID, 2)
	must(err)
	_, err = l.SetNextCommittee(ctx, []chain.NodeRegistration{
		net.Register(0, []uint16{0, 1, 2, 3, 4}, 1),
		net.Register(5, []uint16{5, 6, 7, 8, 9}, 1),
	})
	must(err)
	_, err = l.AdvanceEpoch(ctx)
	must(err)
	_, err = l.Delete(ctx, del.ObjectID)
	must(err)
	c, err := l.CurrentCommittee(ctx)
	must(err)
	bad := chaintest.Blob("bad", 7, 10, 0, false).BlobID
	_, err = l.InvalidateBlobID(ctx, net.Certificate(t, c, chaintest.InvalidBlobID(bad, 2), 0))
	must(err)
	_, err = l.AdvanceEpoch(ctx)
	must(err)
}

func openAt(t *testing.T, path string, genesis []chain.NodeRegistration) *Ledger {
	t.Helper()
	l, err := Open(t.Context(), Config{Path: path, Genesis: genesis, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRestartReplaysTheLog(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	path := filepath.Join(t.TempDir(), "ledger.log")
	l := openAt(t, path, net.Genesis)
	history(t, l, net)
	before := takeSnapshot(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// The genesis given to an existing log is ignored: the log decides.
	l = openAt(t, path, nil)
	after := takeSnapshot(t, l)
	if before != after {
		t.Fatalf("state differs after restart\nbefore: %s\nafter: %s", before, after)
	}
	// And it keeps working: a change after the restart survives the next one.
	rec, err := l.Register(t.Context(), chaintest.Blob("after", 1, 10, 5, false))
	if err != nil {
		t.Fatal(err)
	}
	before = takeSnapshot(t, l)
	l.Close()
	l = openAt(t, path, nil)
	defer l.Close()
	if after := takeSnapshot(t, l); before != after {
		t.Fatalf("state differs after the second restart\nbefore: %s\nafter: %s", before, after)
	}
	if _, err := l.Blob(t.Context(), rec.ObjectID); err != nil {
		t.Fatal(err)
	}
}

func TestTornLastRecordIsDropped(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	tests := []struct {
		name   string
		damage func(b []byte, last int) []byte // last: offset of the last record
	}{
		{"cut in the header", func(b []byte, last int) []byte { return b[:last+3] }},
		{"header only", func(b []byte, last int) []byte { return b[:last+recordHeaderSize] }},
		{"cut in the payload", func(b []byte, last int) []byte { return b[:last+(len(b)-last)/2] }},
		{"last byte missing", func(b []byte, last int) []byte { return b[:len(b)-1] }},
		{"flipped payload byte", func(b []byte, last int) []byte { b[len(b)-5] ^= 0x40; return b }},
		{"flipped checksum byte", func(b []byte, last int) []byte { b[last+5] ^= 1; return b }},
		{"length too large", func(b []byte, last int) []byte { b[last] += 10; return b }},
		{"length too small", func(b []byte, last int) []byte { b[last] -= 3; return b }},
		{"length absurd", func(b []byte, last int) []byte { b[last+3] = 0xff; return b }},
		{"zeroed tail", func(b []byte, last int) []byte { clear(b[last:]); return b }},
		{"garbage appended", func(b []byte, last int) []byte {
			return append(b, 0x05, 0, 0, 0, 1, 2, 3, 4, 'x')
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.log")
			l := openAt(t, path, net.Genesis)
			history(t, l, net)
			want := takeSnapshot(t, l)
			last, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Register(t.Context(), chaintest.Blob("lost", 3, 10, 5, true))
			if err != nil {
				t.Fatal(err)
			}
			l.Close()

			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tt.damage(b, int(last.Size()))
			if tt.name == "garbage appended" {
				// The last record is intact; the garbage after it goes.
				l = openAt(t, path, nil)
				want = takeSnapshot(t, l)
				l.Close()
			}
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}

			l = openAt(t, path, nil)
			if got := takeSnapshot(t, l); got != want {
				t.Fatalf("state after dropping the torn record\n got %s\nwant %s", got, want)
			}
			// The log is usable after the cut: new records land after the
			// intact ones and survive a restart.
			rec, err := l.Register(t.Context(), chaintest.Blob("next", 3, 10, 5, false))
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			l = openAt(t, path, nil)
			defer l.Close()
			if _, err := l.Blob(t.Context(), rec.ObjectID); err != nil {
				t.Fatalf("record written after the repair is lost: %v", err)
			}
		})
	}
}

func TestCorruptionBeforeTheEndIsRefused(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	path := filepath.Join(t.TempDir(), "ledger.log")
	l := openAt(t, path, net.Genesis)
	history(t, l, net)
	l.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, first, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, damaged := range map[string][]byte{
		"flipped byte in the second record":  func() []byte { d := append([]byte(nil), b...); d[first+20] ^= 1; return d }(),
		"intact record that is not an entry": appendRecord(append([]byte(nil), b...), []byte("not json")),
		"entry out of sequence":              appendRecord(append([]byte(nil), b...), []byte(`{"op":"delete","tx":1}`)),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ledger.log")
			if err := os.WriteFile(p, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(t.Context(), Config{Path: p, Logger: testLogger(t)})
			if !errors.Is(err, ErrCorruptLog) {
				t.Fatalf("Open = %v, want ErrCorruptLog", err)
			}
			after, _ := os.ReadFile(p)
			if string(after) != string(damaged) {
				t.Fatal("a refused log was modified")
			}
		})
	}
}

func TestOneProcessPerLog(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	path := filepath.Join(t.TempDir(), "ledger.log")
	l := openAt(t, path, net.Genesis)
	defer l.Close()
	if _, err := Open(t.Context(), Config{Path: path, Logger: testLogger(t)}); err == nil {
		t.Fatal("a second Open of a log in use succeeded")
	}
}

func TestOpenRefuses(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	dir := t.TempDir()
	bad := append([]chain.NodeRegistration(nil), net.Genesis...)
	bad[0].ProofOfPossession = bad[1].ProofOfPossession
	wrongEpoch := append([]chain.NodeRegistration(nil), net.Genesis...)
	wrongEpoch[2] = net.Register(2, net.Genesis[2].Node.Shards, 1)
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no path", Config{Genesis: net.Genesis}, chain.ErrInvalidArgument},
		{"no genesis", Config{Path: filepath.Join(dir, "a.log")}, chain.ErrInvalidCommittee},
		{"bad proof of possession", Config{Path: filepath.Join(dir, "b.log"), Genesis: bad}, chain.ErrInvalidCommittee},
		{"proof for another epoch", Config{Path: filepath.Join(dir, "c.log"), Genesis: wrongEpoch}, chain.ErrInvalidCommittee},
		{"negative epoch duration", Config{Path: filepath.Join(dir, "d.log"), Genesis: net.Genesis, EpochDuration: -1}, chain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = testLogger(t)
			l, err := Open(t.Context(), tt.cfg)
			if err == nil {
				l.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEpochsAdvanceOnTime(t *testing.T) {
	net := chaintest.NewNetwork(t, chaintest.SuiteShards...)
	l, err := Open(t.Context(), Config{
		Path: filepath.Join(t.TempDir(), "ledger.log"), Genesis: net.Genesis,
		EpochDuration: 50 * time.Millisecond, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var from uint64 = 1
	for epoch := GenesisEpoch + 1; epoch <= GenesisEpoch+3; epoch++ {
		evs, err := l.WaitEvents(ctx, from, 1)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Kind != chain.EventEpochChange || evs[0].Epoch != epoch {
			t.Fatalf("event %+v, want epoch change to %d", evs[0], epoch)
		}
		from = evs[0].Cursor + 1
	}
	info, err := l.SystemInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.EpochDuration != 50*time.Millisecond {
		t.Fatalf("epoch duration %s", info.EpochDuration)
	}

	// A waiter is released by Close, and Close stops the clock.
	done := make(chan error, 1)
	go func() {
		_, err := l.WaitEvents(ctx, 1000, 1)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, chain.ErrClosed) {
		t.Fatalf("WaitEvents after Close = %v, want ErrClosed", err)
	}
	if _, err := l.CurrentEpoch(ctx); !errors.Is(err, chain.ErrClosed) {
		t.Fatalf("CurrentEpoch after Close = %v", err)
	}
}
