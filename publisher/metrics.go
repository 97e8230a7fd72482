package publisher

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are what an operator graphs: requests, uploads by outcome and
// their bytes, the time of each step, node sends, refusals, the jobs at
// work and the memory budget in use.
type metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec   // route, method, code
	requestDuration *prometheus.HistogramVec // route, method
	uploads         *prometheus.CounterVec   // outcome (newly_created|already_certified|failed)
	uploadBytes     prometheus.Counter
	stepDuration    *prometheus.HistogramVec // step (spool|encode|register|distribute|certify|background)
	nodeSends       *prometheus.CounterVec   // result (sent|confirmed|given_up|retry|invalid_confirmation)
	sliverBytes     prometheus.Counter
	refusals        *prometheus.CounterVec // reason (overload|too_large|jobs_full)
	jobsActive      prometheus.Gauge
	jobsTakenOver   prometheus.Counter
	jobsFinished    *prometheus.CounterVec // state (done|failed)
	encodeMemory    prometheus.GaugeFunc
	spoolRemoved    prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, memInUse func() float64) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_publisher_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "haulout_publisher_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}, []string{"route", "method"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_publisher_uploads_total", Help: "Uploads finished, by outcome (newly_created, already_certified, failed).",
		}, []string{"outcome"}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_publisher_upload_bytes_total", Help: "Unencoded bytes received for upload.",
		}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "haulout_publisher_step_duration_seconds", Help: "Time of each step of an upload.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}, []string{"step"}),
		nodeSends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_publisher_node_sends_total", Help: "Outcomes of sending a blob to one storage node.",
		}, []string{"result"}),
		sliverBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_publisher_sliver_bytes_sent_total", Help: "Sliver bytes sent to storage nodes.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_publisher_refusals_total", Help: "Uploads refused before any work, by reason.",
		}, []string{"reason"}),
		jobsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "haulout_publisher_jobs_active", Help: "Jobs this publisher is working on.",
		}),
		jobsTakenOver: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_publisher_jobs_taken_over_total", Help: "Unfinished jobs taken over from a dead or restarted publisher.",
		}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "haulout_publisher_jobs_finished_total", Help: "Jobs finished, by final state.",
		}, []string{"state"}),
		encodeMemory: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "haulout_publisher_encode_memory_bytes", Help: "Bytes of the encode memory budget in use.",
		}, memInUse),
		spoolRemoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "haulout_publisher_spool_files_removed_total", Help: "Stale spool files removed at start or by the periodic sweep.",
		}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.uploads, m.uploadBytes, m.stepDuration, m.nodeSends,
		m.sliverBytes, m.refusals, m.jobsActive, m.jobsTakenOver, m.jobsFinished, m.encodeMemory, m.spoolRemoved)
	// A registry shared with other services may hold these already.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
