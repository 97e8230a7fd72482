package aggregator

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// rowOwners returns the distinct nodes holding the blob's rows (its first
// systematic primary slivers), first rows first.
func (tn *testNet) rowOwners(b *storedBlob) []int {
	rows := (len(b.data) + rowBytes(tn.t, tn.code, len(b.data)) - 1) / rowBytes(tn.t, tn.code, len(b.data))
	var out []int
	seen := map[int]bool{}
	for i := 0; i < tn.code.PrimarySourceSymbols(); i++ {
		n := tn.ownerOfPrimary(b.id, i)
		if i < rows && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for i := 0; i < len(tn.nodes); i++ { // then the others
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// TestFaultyNodes reads with f nodes (those holding the blob's rows first,
// the worst case) down, lying about slivers or metadata, or slow: the
// bytes are always right.
func TestFaultyNodes(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	f := tn.code.MaxFaulty()
	blobs := []*storedBlob{
		tn.store(randomBytes(t, 100), 5, false),     // one row
		tn.store(randomBytes(t, 20_000), 5, false),  // two rows
		tn.store(randomBytes(t, 200_000), 5, false), // every row
	}
	for _, tc := range []struct {
		name string
		mode int32
	}{
		{"down", modeDown},
		{"corrupt slivers", modeCorruptSlivers},
		{"bad metadata", modeBadMetadata},
		{"slow", modeSlowSlivers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agg := tn.newAggregator(func(c *Config) { c.MemoryCacheSize, c.DiskCacheDir = -1, "" })
			for _, b := range blobs {
				owners := tn.rowOwners(b)
				for _, n := range owners[:f] {
					tn.nodes[n].proxy.set(tc.mode)
				}
				start := time.Now()
				resp, body := get(t, http.MethodGet, agg.url+"/v1/blobs/"+b.id.String())
				took := time.Since(start)
				tn.setAll(modeOK)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
					t.Fatalf("%d bytes: status %d, %d bytes back, equal %v (body %.200q)", len(b.data), resp.StatusCode, len(body), bytes.Equal(body, b.data), body)
				}
				if tc.mode == modeSlowSlivers && took >= tn.nodes[0].proxy.delay {
					t.Errorf("%d bytes: a read with slow nodes took %v: not hedged", len(b.data), took)
				}
			}
			m := agg.metrics
			switch tc.mode {
			case modeCorruptSlivers:
				if value(m.sliverFetches.WithLabelValues("invalid")) == 0 {
					t.Error("no invalid sliver counted")
				}
			case modeBadMetadata:
				if value(m.metadataFetches.WithLabelValues("invalid")) == 0 {
					t.Log("no node with bad metadata was asked (they rank after the good ones)")
				}
			case modeSlowSlivers:
				if value(m.hedges) == 0 {
					t.Error("no hedged request")
				}
			}
		})
	}
}

// TestTooManyFaults: with more faulty nodes than the code tolerates, a
// read answers 503 or the right bytes, never others.
func TestTooManyFaults(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	b := tn.store(randomBytes(t, 100_000), 5, false)
	k1 := tn.code.PrimarySourceSymbols()
	agg := tn.newAggregator(func(c *Config) { c.MemoryCacheSize, c.DiskCacheDir = -1, "" })
	u := agg.url + "/v1/blobs/" + b.id.String()
	for liars := 0; liars <= len(tn.nodes); liars++ {
		tn.setAll(modeOK)
		for i := 0; i < liars; i++ {
			tn.nodes[i].proxy.set(modeCorruptSlivers)
		}
		resp, body := get(t, http.MethodGet, u)
		switch {
		case resp.StatusCode == http.StatusOK:
			if !bytes.Equal(body, b.data) {
				t.Fatalf("%d lying nodes: wrong bytes served", liars)
			}
			if liars > len(tn.nodes)-k1 {
				t.Fatalf("%d lying nodes: read succeeded with fewer than k1 honest ones", liars)
			}
		case liars <= len(tn.nodes)-k1:
			t.Fatalf("%d lying nodes (%d honest, %d needed): status %d", liars, len(tn.nodes)-liars, k1, resp.StatusCode)
		default:
			wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
		}
	}
	tn.setAll(modeBadMetadata)
	resp, body := get(t, http.MethodGet, u)
	wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	tn.setAll(modeDown)
	resp, body = get(t, http.MethodGet, u)
	wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	tn.setAll(modeOK)
	resp, body = get(t, http.MethodGet, u)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
		t.Fatalf("after recovery: %d", resp.StatusCode)
	}
}

// inconsistentBlob stores a blob whose metadata commits to tampered
// recovery rows (every primary sliver from k1 on), as a malicious writer
// could: every sliver matches the metadata, but they do not form one
// codeword. Reading the blob's own rows gives the original bytes; any
// decoding goes through a tampered row.
func (tn *testNet) inconsistentBlob() *storedBlob {
	t := tn.t
	c := tn.code
	k1, k2, n := c.PrimarySourceSymbols(), c.SecondarySourceSymbols(), c.NShards()
	const s = 200
	size := k1 * k2 * s // a full matrix: every systematic row holds data
	data := randomBytes(t, size)
	enc, err := c.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := k1; i < n; i++ {
		bad := bytes.Clone(enc.Primary[i].Data)
		bad[7] ^= 0x5a
		enc.Primary[i].Data = bad
		// The Merkle root of a row depends on its bytes only: it is the
		// root of row 0 of a blob that starts with them.
		probe := make([]byte, size)
		copy(probe, bad)
		pm, err := c.ComputeMetadata(probe)
		if err != nil {
			t.Fatal(err)
		}
		enc.Metadata.Hashes[i].Primary = pm.Hashes[0].Primary
	}
	enc.Metadata.ID = enc.Metadata.BlobID()
	return tn.storeEncoded(data, enc, 5, false)
}

func TestInconsistentBlobRefused(t *testing.T) {
	tn := newTestNet(t, tenNodes...)
	b := tn.inconsistentBlob()
	u := "/v1/blobs/" + b.id.String()
	noCache := func(c *Config) { c.MemoryCacheSize, c.DiskCacheDir = -1, "" }

	t.Run("strict refuses it", func(t *testing.T) {
		agg := tn.newAggregator(noCache)
		resp, body := get(t, http.MethodGet, agg.url+u+"?strict_consistency_check=true")
		wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	})
	t.Run("default refuses to decode it", func(t *testing.T) {
		agg := tn.newAggregator(noCache)
		down := tn.ownerOfPrimary(b.id, 0)
		tn.nodes[down].proxy.set(modeDown)
		defer tn.setAll(modeOK)
		resp, body := get(t, http.MethodGet, agg.url+u)
		wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
		if got := value(agg.metrics.reconstructions.WithLabelValues("error")); got != 1 {
			t.Fatalf("%v failed reconstructions", got)
		}
	})
	t.Run("default serves the rows the metadata pins", func(t *testing.T) {
		// Walrus's default check: the bytes are the systematic rows, each
		// matching its hash; every read that succeeds returns these.
		agg := tn.newAggregator(noCache)
		resp, body := get(t, http.MethodGet, agg.url+u)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, b.data) {
			t.Fatalf("status %d, equal %v", resp.StatusCode, bytes.Equal(body, b.data))
		}
	})
	t.Run("skip results are not cached", func(t *testing.T) {
		agg := tn.newAggregator(nil)
		down := tn.ownerOfPrimary(b.id, 0)
		tn.nodes[down].proxy.set(modeDown)
		defer tn.setAll(modeOK)
		resp, _ := get(t, http.MethodGet, agg.url+u+"?skip_consistency_check=true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("skip: %d", resp.StatusCode)
		}
		agg.flush()
		if size, _ := agg.mem.stats(); size != 0 {
			t.Fatalf("a skip-mode decode was cached (%d bytes)", size)
		}
		resp, body := get(t, http.MethodGet, agg.url+u)
		wantError(t, resp, body, http.StatusServiceUnavailable, reasonBlobUnavailable)
	})
}
