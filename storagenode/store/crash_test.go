package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/haulout/haulout/codec"
)

// The crash test runs a child process (this test binary again, selected by
// crashDirEnv) that writes batches of slivers and deletes blobs as fast as it
// can, printing "ack N" after batch N's Commit returned and "del N" after
// DeleteBlob of blob N returned. The parent kills it with SIGKILL at a
// random moment, almost always in the middle of a commit, reopens the store
// and checks that every acknowledged write is there, every acknowledged
// deletion is, and nothing is torn: a batch is present as a prefix of its
// writes, and every value present is the one written.
const (
	crashDirEnv   = "HAULOUT_STORE_CRASH_DIR"
	crashRoundEnv = "HAULOUT_STORE_CRASH_ROUND"
	crashCursor   = "crash"
)

// crashSizes are the sliver sizes of every crash batch (about 5.7 MiB): empty,
// under and over the value-separation size, up to a 1 GiB blob's sliver.
var crashSizes = []int{0, 100, separateValuesFrom - 1, separateValuesFrom, 5000, 64 << 10, 300 << 10, 1 << 20, 3 << 20, 17, 200 << 10, 1 << 20}

func crashID(round, k int) codec.BlobID { return testID(uint64(round*1_000_000 + k)) }

func crashSliver(p int) SliverID { return SliverID{Pair: uint16(p / 2 * 7), Axis: Axis(p % 2)} }

func crashInfo(round, k int) []byte { return fmt.Appendf(nil, "info %d/%d", round, k) }

// crashOptions splits each batch into several commits, and flushes soon after
// deletions, so that kills also land between commits of one batch and during
// flushes and compactions.
func crashOptions() Options {
	o := testOptions()
	o.CommitBytes = 2 << 20
	o.ReclaimDelay = 30 * time.Millisecond
	o.MemTableSize = 8 << 20
	return o
}

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("crash-test child; run by TestCrash")
	}
	round, err := strconv.Atoi(os.Getenv(crashRoundEnv))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, dir, crashOptions())
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; ; k++ {
		id := crashID(round, k)
		b := s.NewBatch()
		b.PutBlobInfo(id, crashInfo(round, k))
		b.PutMetadata(id, sliverBytes(id, SliverID{Pair: 65535}, 12012))
		for p, size := range crashSizes {
			b.PutSliver(id, crashSliver(p), sliverBytes(id, crashSliver(p), size))
		}
		b.SetCursor(crashCursor, crashInfo(round, k))
		if err := b.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "ack %d\n", k)
		if k%3 == 2 {
			if err := s.DeleteBlob(ctx, crashID(round, k-2)); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(os.Stdout, "del %d\n", k-2)
		}
	}
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	const rounds = 6
	for round := range rounds {
		acked, deleted := runCrashChild(t, dir, round, time.Duration(200+rng.IntN(1300))*time.Millisecond)
		start := time.Now()
		s, err := Open(context.Background(), dir, testOptions())
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		reopen := time.Since(start)
		n := checkCrashRound(t, s, round, acked, deleted)
		// Earlier rounds are still intact after further crashes.
		for r := 0; r < round; r++ {
			checkCrashRoundQuiet(t, s, r)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d batches acknowledged, %d deletions; %d batch(es) found partly written; reopened in %v",
			round, acked, len(deleted), n, reopen.Round(time.Millisecond))
	}
}

// runCrashChild runs the child for round until killed after d, and returns
// how many batches it acknowledged and which deletions.
func runCrashChild(t *testing.T, dir string, round int, d time.Duration) (int, map[int]bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first acknowledgement so that the child is past Open,
	// then kill it d later.
	lines := bufio.NewScanner(out)
	var got []string
	if lines.Scan() {
		got = append(got, lines.Text())
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // what the child wrote before it died
		got = append(got, lines.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child did not die of SIGKILL: %v\n%s\n%s", round, err, strings.Join(got, "\n"), stderr.String())
	}
	acked, deleted := 0, map[int]bool{}
	for _, l := range got {
		var k int
		switch {
		case strings.HasPrefix(l, "ack "):
			k, err = strconv.Atoi(l[4:])
			if k != acked {
				t.Fatalf("round %d: out-of-order ack %q", round, l)
			}
			acked++
		case strings.HasPrefix(l, "del "):
			k, err = strconv.Atoi(l[4:])
			deleted[k] = true
		default:
			t.Fatalf("round %d: child wrote %q", round, l)
		}
		if err != nil {
			t.Fatalf("round %d: child wrote %q", round, l)
		}
	}
	if acked == 0 {
		t.Fatalf("round %d: child acknowledged nothing\n%s", round, stderr.String())
	}
	return acked, deleted
}

// checkCrashRound checks round's blobs after a crash and returns how many
// were found partly written.
func checkCrashRound(t *testing.T, s *Store, round, acked int, deleted map[int]bool) int {
	t.Helper()
	ctx := context.Background()
	partial := 0
	// After "ack acked-1" the child may have been deleting blob acked-3
	// (when acked-1 is 2 mod 3) without printing "del".
	maybeDeleted := -1
	if (acked-1)%3 == 2 && !deleted[acked-3] {
		maybeDeleted = acked - 3
	}
	full := crashBatchLen()
	// Blob acked is the batch that was in flight; acked+1 was never begun.
	for k := 0; k <= acked+1; k++ {
		state := crashBlobState(t, s, round, k)
		switch {
		case k == acked+1:
			if state != 0 {
				t.Fatalf("round %d blob %d was never written, found %d writes", round, k, state)
			}
		case k == acked:
			if state != 0 && state != full {
				partial++
			}
		case deleted[k]:
			if state != 0 {
				t.Fatalf("round %d blob %d: deletion acknowledged, %d writes found", round, k, state)
			}
		case k == maybeDeleted:
			if state != 0 && state != full {
				t.Fatalf("round %d blob %d: partly deleted, %d writes found", round, k, state)
			}
		default:
			if state != full {
				t.Fatalf("round %d blob %d: acknowledged, found %d of %d writes", round, k, state, full)
			}
		}
	}
	cur, err := s.Cursor(ctx, crashCursor)
	if err != nil {
		t.Fatalf("round %d: cursor: %v", round, err)
	}
	if want, inFlight := crashInfo(round, acked-1), crashInfo(round, acked); !bytes.Equal(cur, want) && !bytes.Equal(cur, inFlight) {
		t.Fatalf("round %d: cursor %q, want %q or %q", round, cur, want, inFlight)
	}
	return partial
}

// checkCrashRoundQuiet checks an earlier round without its acknowledgements:
// every blob is whole or absent (the in-flight one may be a prefix).
func checkCrashRoundQuiet(t *testing.T, s *Store, round int) {
	t.Helper()
	err := s.ListBlobs(context.Background(), crashID(round, 0), func(id codec.BlobID, info []byte) error {
		var r, k int
		if _, err := fmt.Sscanf(string(info), "info %d/%d", &r, &k); err != nil || r != round {
			return nil // a later round
		}
		crashBlobState(t, s, round, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func crashBatchLen() int { return 2 + len(crashSizes) }

// crashBlobState returns how many writes of blob k's batch are present
// (info, metadata, slivers in batch order), failing the test if they are not
// a prefix of the batch or any value differs from what was written.
func crashBlobState(t *testing.T, s *Store, round, k int) int {
	t.Helper()
	ctx := context.Background()
	id := crashID(round, k)
	var present []bool
	info, err := s.GetBlobInfo(ctx, id)
	if err == nil && !bytes.Equal(info, crashInfo(round, k)) {
		t.Fatalf("round %d blob %d: info %q", round, k, info)
	}
	present = append(present, err == nil)
	md, err := s.GetMetadata(ctx, id)
	if err == nil && !bytes.Equal(md, sliverBytes(id, SliverID{Pair: 65535}, 12012)) {
		t.Fatalf("round %d blob %d: metadata differs", round, k)
	}
	present = append(present, err == nil)
	for p, size := range crashSizes {
		v, err := s.GetSliver(ctx, id, crashSliver(p))
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("round %d blob %d sliver %v: %v", round, k, crashSliver(p), err)
		}
		if err == nil && !bytes.Equal(v, sliverBytes(id, crashSliver(p), size)) {
			t.Fatalf("round %d blob %d sliver %v: %d bytes differ from the %d written", round, k, crashSliver(p), len(v), size)
		}
		present = append(present, err == nil)
	}
	n := 0
	for n < len(present) && present[n] {
		n++
	}
	for _, p := range present[n:] {
		if p {
			t.Fatalf("round %d blob %d: writes present %v are not a prefix of the batch", round, k, present)
		}
	}
	list, err := s.ListSlivers(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := max(0, n-2); len(list) != want {
		t.Fatalf("round %d blob %d: ListSlivers has %d, found %d", round, k, len(list), want)
	}
	return n
}
