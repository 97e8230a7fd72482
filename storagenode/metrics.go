package storagenode

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what an operator graphs: requests, slivers in and out,
// refusals by reason, confirmations, recovery, expiry, the event cursor and
// the store's disk use. Each node has its own registry.
type metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec   // route, method, code
	requestDuration *prometheus.HistogramVec // route, method
	slivers         *prometheus.CounterVec   // axis, source (upload|recovery)
	sliverBytes     *prometheus.CounterVec   // direction (in|out)
	refusals        *prometheus.CounterVec   // reason
	confirmations   prometheus.Counter
	recovered       *prometheus.CounterVec // result (ok|failed|inconsistent)
	recoveryQueue   prometheus.Gauge
	lyingPeers      *prometheus.CounterVec // peer
	blobsDropped    *prometheus.CounterVec // reason (expired|deleted|invalid)
	ledgerLookups   prometheus.Counter
	symbolsServed   prometheus.Counter
}

func newMetrics(n *Node) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_http_requests_total", Help: "REST API requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "haulout_node_http_request_duration_seconds", Help: "REST API request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "method"}),
		slivers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_slivers_stored_total", Help: "Slivers durably stored, by axis and source (upload or recovery).",
		}, []string{"axis", "source"}),
		sliverBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_sliver_bytes_total", Help: "Sliver bytes received (in) and served (out).",
		}, []string{"direction"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_refusals_total", Help: "Requests refused, by Walrus error reason.",
		}, []string{"reason"}),
		confirmations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_node_confirmations_signed_total", Help: "Storage confirmations signed.",
		}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_recovery_slivers_total", Help: "Slivers recovered from peers, by result.",
		}, []string{"result"}),
		recoveryQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "haulout_node_recovery_pending_blobs", Help: "Blobs waiting for or under recovery.",
		}),
		lyingPeers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_recovery_bad_symbols_total", Help: "Recovery answers with symbols whose proofs failed, by peer.",
		}, []string{"peer"}),
		blobsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_node_blobs_dropped_total", Help: "Blobs whose data was dropped, by reason.",
		}, []string{"reason"}),
		ledgerLookups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_node_ledger_lookups_total", Help: "Direct ledger lookups of blobs not yet seen in events.",
		}),
		symbolsServed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_node_recovery_symbols_served_total", Help: "Recovery symbols served to peers.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.requestDuration, m.slivers, m.sliverBytes, m.refusals,
		m.confirmations, m.recovered, m.recoveryQueue, m.lyingPeers, m.blobsDropped, m.ledgerLookups, m.symbolsServed} {
		f(c)
	}
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "haulout_node_epoch", Help: "The epoch the node is in.",
	}, func() float64 { return float64(n.view().epoch) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "haulout_node_event_cursor", Help: "The next ledger event the node will apply.",
	}, func() float64 { return float64(n.cursor.Load()) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "haulout_node_shards", Help: "Shards the node holds.",
	}, func() float64 { return float64(len(n.view().shards)) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "haulout_node_blobs", Help: "Blobs the node keeps a record of.",
	}, func() float64 {
		n.mu.RLock()
		defer n.mu.RUnlock()
		return float64(len(n.blobs))
	}))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "haulout_node_store_disk_bytes", Help: "Disk space the sliver store takes.",
	}, func() float64 {
		if n.store == nil {
			return 0
		}
		u, err := n.store.Usage()
		if err != nil {
			return 0
		}
		return float64(u.DiskBytes)
	}))
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves the node's Prometheus metrics.
func (n *Node) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(n.metrics.reg, promhttp.HandlerOpts{Registry: n.metrics.reg})
}
