package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
)

// Defaults of Config.
const (
	DefaultAddr                  = "127.0.0.1:31415"
	DefaultMetricsAddr           = "127.0.0.1:27182"
	DefaultMemoryCacheSize       = 256 << 20
	DefaultDiskCacheSize         = 4 << 30
	DefaultMaxConcurrentReads    = 8
	DefaultMaxQueuedReads        = 64
	DefaultMaxConcurrentRequests = 1024
	DefaultMaxSliverFetches      = 64
	DefaultMetadataFanout        = 3
	DefaultHedgeDelay            = 250 * time.Millisecond
	DefaultMetadataTimeout       = 10 * time.Second
	DefaultSliverTimeout         = 60 * time.Second
	DefaultReadTimeout           = 10 * time.Minute
	DefaultCommitteeRefresh      = 30 * time.Second
	DefaultShutdownTimeout       = 30 * time.Second
)

// DefaultAllowedHeaders are the Blob attributes that by-object-id reads copy
// into response headers, as Walrus's --allowed-headers default.
var DefaultAllowedHeaders = []string{
	"content-type", "authorization", "content-disposition", "content-encoding",
	"content-language", "content-location", "link",
}

// Ledger is what the aggregator needs from the chain: *local.Ledger and
// *ledgerhttp.Client have these methods.
type Ledger interface {
	CurrentCommittee(ctx context.Context) (chain.Committee, error)
	BlobStatus(ctx context.Context, id codec.BlobID) (chain.BlobStatus, error)
	BlobObjects(ctx context.Context, id codec.BlobID) ([]chain.BlobRecord, error)
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	Events(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
	WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
}

// SliverSource is what a read needs from one storage node;
// *nodeclient.Client has these methods. Errors are the node's answers or
// transport failures; the aggregator treats them all as "not from this
// node".
type SliverSource interface {
	GetMetadata(ctx context.Context, id codec.BlobID) (*codec.Metadata, error)
	GetSliver(ctx context.Context, id codec.BlobID, pair uint16, axis codec.Axis) (*codec.Sliver, error)
}

// Config configures an Aggregator. Ledger is required; every other field
// has a default, applied by New.
type Config struct {
	// Addr is the API's listen address for ListenAndServe (default
	// DefaultAddr, Walrus's --bind-address default).
	Addr string
	// MetricsAddr is where Serve exposes Prometheus metrics, at /metrics,
	// on a listener of their own. Empty: no metrics listener
	// (MetricsHandler still serves them); commands use DefaultMetricsAddr,
	// Walrus's default, as their flag default.
	MetricsAddr string
	// Registry receives the aggregator's metrics (default a new registry,
	// with the Go and process collectors).
	Registry *prometheus.Registry

	// Ledger gives committees, blob statuses, Blob objects and the event
	// stream that evicts deleted and expired blobs.
	Ledger Ledger
	// NodeHTTPClient talks to the storage nodes (default
	// nodeclient.NewHTTPClient, which trusts the system's roots: for nodes
	// on self-signed certificates, give a client that trusts theirs).
	NodeHTTPClient *http.Client
	// Dial returns the client of a committee's node; clients are kept per
	// REST URL. Default: a nodeclient.Client over NodeHTTPClient.
	Dial func(node chain.NodeInfo) (SliverSource, error)

	// Consistency is the check for reads that ask for none
	// (strict_consistency_check / skip_consistency_check choose another).
	// The zero value is Walrus's default check.
	Consistency codec.Consistency

	// MemoryCacheSize bounds the memory cache in bytes (default
	// DefaultMemoryCacheSize; negative: no memory cache).
	MemoryCacheSize int64
	// MemoryCacheMaxEntry is the largest blob kept in memory (default a
	// quarter of MemoryCacheSize); larger ones go to disk only.
	MemoryCacheMaxEntry int64
	// DiskCacheDir holds the disk cache; empty: no disk cache. Files in it
	// that the cache did not write are removed.
	DiskCacheDir string
	// DiskCacheSize bounds the disk cache in bytes (default
	// DefaultDiskCacheSize).
	DiskCacheSize int64

	// MaxConcurrentReads bounds blob reconstructions (node reads and
	// decoding) in flight (default DefaultMaxConcurrentReads). Requests
	// served from the cache or joining a reconstruction in flight do not
	// count.
	MaxConcurrentReads int
	// MaxQueuedReads bounds reconstructions waiting for a slot (default
	// DefaultMaxQueuedReads); beyond it reads are refused with 429.
	MaxQueuedReads int
	// MaxConcurrentRequests bounds requests in flight, whatever serves them
	// (default DefaultMaxConcurrentRequests); beyond it, 429.
	MaxConcurrentRequests int
	// MaxBlobSize refuses larger blobs with 403 BLOB_TOO_LARGE (default 0:
	// no limit, as Walrus). A reconstruction holds the blob in memory.
	MaxBlobSize uint64

	// MaxSliverFetches bounds concurrent sliver requests of one read
	// (default DefaultMaxSliverFetches).
	MaxSliverFetches int
	// MetadataFanout is how many nodes are asked for metadata at once
	// (default DefaultMetadataFanout).
	MetadataFanout int
	// HedgeDelay is the least time a sliver request may take before
	// another sliver is requested in its place; the delay grows to four
	// times the median of the read's completed requests (default
	// DefaultHedgeDelay).
	HedgeDelay time.Duration
	// MetadataTimeout bounds one metadata request (default
	// DefaultMetadataTimeout).
	MetadataTimeout time.Duration
	// SliverTimeout bounds one sliver request (default
	// DefaultSliverTimeout).
	SliverTimeout time.Duration
	// ReadTimeout bounds a whole reconstruction (default
	// DefaultReadTimeout).
	ReadTimeout time.Duration
	// CommitteeRefresh is how long a committee is used before it is
	// fetched again; epoch changes seen in the event stream refresh it at
	// once (default DefaultCommitteeRefresh).
	CommitteeRefresh time.Duration
	// ShutdownTimeout bounds the graceful shutdown of Serve (default
	// DefaultShutdownTimeout).
	ShutdownTimeout time.Duration

	// AllowedHeaders are the attribute keys (case-insensitive) that
	// by-object-id reads copy into headers (default
	// DefaultAllowedHeaders).
	AllowedHeaders []string
	// AllowQuiltPatchTags copies every tag of a quilt patch that is a valid
	// header field into the response headers, as Walrus's
	// --allow-quilt-patch-tags-in-response; off, only tags named in
	// AllowedHeaders are.
	AllowQuiltPatchTags bool
	// SniffContentType sets a Content-Type guessed from the first bytes
	// (http.DetectContentType) when neither the request nor an attribute
	// gives one. Off by default, as Walrus since PR #2866: serving a
	// sniffed text/html from a shared origin invites stored XSS.
	SniffContentType bool

	// UI, if set, serves the web pages for people: GET and HEAD of "/" and
	// of every path under "/ui/" go to it (cmd wires package web in; the
	// aggregator does not import it).
	UI http.Handler

	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns cfg with every default applied, or an error for a
// configuration that cannot work.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Ledger == nil {
		return cfg, errors.New("aggregator: Config.Ledger is required")
	}
	switch cfg.Consistency {
	case codec.ConsistencyDefault, codec.ConsistencyStrict, codec.ConsistencySkip:
	default:
		return cfg, fmt.Errorf("aggregator: unknown consistency mode %d", cfg.Consistency)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.NodeHTTPClient == nil {
		cfg.NodeHTTPClient = nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
	}
	if cfg.Dial == nil {
		cfg.Dial = nodeDialer(cfg.NodeHTTPClient)
	}
	if cfg.MemoryCacheSize == 0 {
		cfg.MemoryCacheSize = DefaultMemoryCacheSize
	}
	if cfg.MemoryCacheSize < 0 {
		cfg.MemoryCacheSize = 0
	}
	if cfg.MemoryCacheMaxEntry <= 0 || cfg.MemoryCacheMaxEntry > cfg.MemoryCacheSize {
		cfg.MemoryCacheMaxEntry = cfg.MemoryCacheSize / 4
	}
	if cfg.DiskCacheSize <= 0 {
		cfg.DiskCacheSize = DefaultDiskCacheSize
	}
	setDefault(&cfg.MaxConcurrentReads, DefaultMaxConcurrentReads)
	setDefault(&cfg.MaxQueuedReads, DefaultMaxQueuedReads)
	setDefault(&cfg.MaxConcurrentRequests, DefaultMaxConcurrentRequests)
	setDefault(&cfg.MaxSliverFetches, DefaultMaxSliverFetches)
	setDefault(&cfg.MetadataFanout, DefaultMetadataFanout)
	setDefault(&cfg.HedgeDelay, DefaultHedgeDelay)
	setDefault(&cfg.MetadataTimeout, DefaultMetadataTimeout)
	setDefault(&cfg.SliverTimeout, DefaultSliverTimeout)
	setDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	setDefault(&cfg.CommitteeRefresh, DefaultCommitteeRefresh)
	setDefault(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	if cfg.AllowedHeaders == nil {
		cfg.AllowedHeaders = DefaultAllowedHeaders
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// verifyWorkers is how many slivers one read checks at once: hashing is
// CPU-bound.
func verifyWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }
