package publisher

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memoryPeaks are the highest values a process's memory reached.
type memoryPeaks struct {
	// Heap is the Go heap in use by objects (runtime/metrics, no
	// stop-the-world), sampled every few milliseconds.
	Heap uint64 `json:"heap"`
	// RSSAnon and RSSFile split the resident set: anonymous memory (heap,
	// stacks, runtime) and file pages mapped in (the spool file's map).
	RSSAnon uint64 `json:"rssAnon"`
	RSSFile uint64 `json:"rssFile"`
	// VmHWM is the kernel's peak resident set of the process.
	VmHWM uint64 `json:"vmHWM"`
}

// memoryProbe samples this process's memory until stopped.
type memoryProbe struct {
	mu    sync.Mutex
	peaks memoryPeaks
}

func (m *memoryProbe) run(ctx context.Context) {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		rtmetrics.Read(sample)
		st := procStatus()
		m.mu.Lock()
		m.peaks.Heap = max(m.peaks.Heap, sample[0].Value.Uint64())
		m.peaks.RSSAnon = max(m.peaks.RSSAnon, st["RssAnon"])
		m.peaks.RSSFile = max(m.peaks.RSSFile, st["RssFile"])
		m.peaks.VmHWM = max(m.peaks.VmHWM, st["VmHWM"])
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (m *memoryProbe) get() memoryPeaks {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peaks
}

// procStatus reads the kB fields of /proc/self/status, in bytes.
func procStatus() map[string]uint64 {
	out := map[string]uint64{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 2 && fields[1] == "kB" {
			n, _ := strconv.ParseUint(fields[0], 10, 64)
			out[k] = n << 10
		}
	}
	return out
}

// serveProbed serves the publisher's API and its job runner, plus
// GET /test/memory with the peaks so far, until ctx ends.
func serveProbed(ctx context.Context, p *Publisher, ln net.Listener) int {
	var probe memoryProbe
	go probe.run(ctx)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /test/memory", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(probe.get())
	})
	mux.Handle("/", p.Handler())
	srv := &http.Server{Handler: mux}
	go p.RunJobs(ctx)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	p.Close()
	return 0
}
