package aggregator

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are what an operator graphs: requests and their answers, cache
// hits and bytes, reconstructions and how they went, node behaviour.
type metrics struct {
	requests           *prometheus.CounterVec
	requestSeconds     *prometheus.HistogramVec
	responseBytes      *prometheus.CounterVec
	cacheLookups       *prometheus.CounterVec
	cacheEvictions     *prometheus.CounterVec
	rejected           *prometheus.CounterVec
	readsRunning       prometheus.Gauge
	readsQueued        prometheus.Gauge
	reconstructions    *prometheus.CounterVec
	reconstructSeconds *prometheus.HistogramVec
	decodeSeconds      prometheus.Histogram
	sliverFetches      *prometheus.CounterVec
	metadataFetches    *prometheus.CounterVec
	hedges             prometheus.Counter
	faultyNodes        prometheus.Counter
	diskWritesSkipped  prometheus.Counter
	followerCursor     prometheus.Gauge
	followerErrors     prometheus.Counter
	epoch              prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry, a *Aggregator) *metrics {
	const ns = "haulout_aggregator"
	secs := []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "HTTP requests by route, method and status code."}, []string{"route", "method", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "request_duration_seconds",
			Help: "Time to answer a request, body included.", Buckets: secs}, []string{"route"}),
		responseBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "response_bytes_total",
			Help: "Blob bytes sent, by where they came from (memory, disk, nodes)."}, []string{"source"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cache_lookups_total",
			Help: "Cache lookups by result (memory, disk, miss)."}, []string{"result"}),
		cacheEvictions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "cache_evictions_total",
			Help: "Blobs dropped from a cache tier, by reason (capacity, deleted, expired, corrupt, ...)."}, []string{"tier", "reason"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rejected_total",
			Help: "Requests refused with 429, by the limit reached (requests, reads)."}, []string{"limit"}),
		readsRunning: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "reads_running",
			Help: "Blob reconstructions running."}),
		readsQueued: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "reads_queued",
			Help: "Blob reconstructions waiting for a slot."}),
		reconstructions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconstructions_total",
			Help: "Blob reconstructions by outcome: systematic (rows only), decoded, empty, error."}, []string{"outcome"}),
		reconstructSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "reconstruction_duration_seconds",
			Help: "Time to reconstruct a blob, by path.", Buckets: secs}, []string{"path"}),
		decodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "decode_duration_seconds",
			Help: "Time in the erasure decoder and consistency check.", Buckets: secs}),
		sliverFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sliver_fetches_total",
			Help: "Sliver requests by result (ok, error, invalid)."}, []string{"result"}),
		metadataFetches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "metadata_fetches_total",
			Help: "Metadata requests by result (ok, error, invalid)."}, []string{"result"}),
		hedges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "hedged_requests_total",
			Help: "Sliver requests slow enough that others were started in their place."}),
		faultyNodes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "invalid_slivers_total",
			Help: "Slivers that did not match their blob's metadata."}),
		diskWritesSkipped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "disk_cache_writes_skipped_total",
			Help: "Blobs not written to the disk cache because too many writes were pending."}),
		followerCursor: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "event_cursor",
			Help: "Next ledger event the cache follower will handle."}),
		followerErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "event_errors_total",
			Help: "Failed reads of the ledger's event stream."}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "epoch",
			Help: "Current epoch as last seen."}),
	}
	reg.MustRegister(m.requests, m.requestSeconds, m.responseBytes, m.cacheLookups, m.cacheEvictions,
		m.rejected, m.readsRunning, m.readsQueued, m.reconstructions, m.reconstructSeconds, m.decodeSeconds,
		m.sliverFetches, m.metadataFetches, m.hedges, m.faultyNodes, m.diskWritesSkipped,
		m.followerCursor, m.followerErrors, m.epoch)
	tier := func(name string, stats func() (int64, int)) {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "cache_bytes",
				Help: "Bytes held by a cache tier.", ConstLabels: prometheus.Labels{"tier": name}},
				func() float64 { b, _ := stats(); return float64(b) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "cache_blobs",
				Help: "Blobs held by a cache tier.", ConstLabels: prometheus.Labels{"tier": name}},
				func() float64 { _, n := stats(); return float64(n) }),
		)
	}
	tier("memory", a.mem.stats)
	if a.disk != nil {
		tier("disk", a.disk.stats)
	}
	return m
}

// newRegistry is the default Config.Registry: the aggregator's metrics
// with the Go runtime's and the process's.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
