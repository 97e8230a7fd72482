package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/nodeclient"
	"github.com/haulout/haulout/publisher/jobs"
)

// Ledger is what the publisher needs from the chain. *local.Ledger and
// ledgerhttp.Client have these methods.
type Ledger interface {
	SystemInfo(ctx context.Context) (chain.SystemInfo, error)
	CurrentCommittee(ctx context.Context) (chain.Committee, error)
	Register(ctx context.Context, req chain.RegisterRequest) (chain.BlobRecord, error)
	Certify(ctx context.Context, id chain.ObjectID, cert chain.Certificate) (chain.BlobRecord, error)
	Blob(ctx context.Context, id chain.ObjectID) (chain.BlobRecord, error)
	BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error)
	BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error)
	SetAttribute(ctx context.Context, id chain.ObjectID, key, value string) error
}

// JobStore is what the publisher needs from its job store. *jobs.Store has
// these methods.
type JobStore interface {
	Create(ctx context.Context, n jobs.NewJob, owner string, lease time.Duration) (jobs.Job, error)
	Get(ctx context.Context, id string) (jobs.Job, error)
	Update(ctx context.Context, l jobs.Lease, c jobs.Change) error
	Renew(ctx context.Context, l jobs.Lease, lease time.Duration) (jobs.Lease, error)
	Acquire(ctx context.Context, owner string, lease time.Duration) (jobs.Job, bool, error)
	Fail(ctx context.Context, l jobs.Lease, reason string) error
	Release(ctx context.Context, l jobs.Lease) error
	ReleaseOwner(ctx context.Context, owner string) (int, error)
	Prune(ctx context.Context, before time.Time) (int, error)
}

// Node is what the publisher needs from one storage node. *nodeclient.Client
// has these methods.
type Node interface {
	PutMetadata(ctx context.Context, id codec.BlobID, md *codec.BlobMetadata) error
	PutSlivers(ctx context.Context, id codec.BlobID, slivers []nodeclient.BatchSliver) (nodeclient.BatchResult, error)
	Confirmation(ctx context.Context, id codec.BlobID, p chain.BlobPersistence) (chain.SignedMessage, error)
}

// Dialer returns the client of a committee member. It is called once per
// node URL and the client is kept.
type Dialer func(node chain.NodeInfo) (Node, error)

// Defaults of Config.
const (
	// DefaultAddr is where haulout's publisher listens: Walrus's daemon
	// port plus one, so that an aggregator can keep 31415.
	DefaultAddr = "127.0.0.1:31416"
	// DefaultMetricsAddr is Walrus's metrics port. Config.MetricsAddr has
	// no default (empty: no metrics listener); commands use this one as
	// their flag default.
	DefaultMetricsAddr = "127.0.0.1:27182"

	DefaultMaxBodySize          = 10 << 20  // Walrus's --max-body-size, 10 240 KiB
	DefaultMaxQuiltBodySize     = 100 << 20 // Walrus's --max-quilt-body-size, 102 400 KiB
	DefaultMaxConcurrentUploads = 8         // Walrus's --max-concurrent-requests
	DefaultMaxBufferedUploads   = 8         // Walrus's --max-buffer-size
	DefaultMaxActiveJobs        = 64
	DefaultEncodeMemory         = 2 << 30
	DefaultNodeConcurrency      = 4
	DefaultBatchBytes           = 16 << 20
	DefaultStreamThreshold      = 64 << 20
	DefaultSendMemory           = 128 << 20
	DefaultNodeAttempts         = 5
	DefaultRetryBackoff         = 250 * time.Millisecond
	DefaultMaxRetryBackoff      = 5 * time.Second
	DefaultNodeRequestTimeout   = 2 * time.Minute
	DefaultQuorumTimeout        = 5 * time.Minute
	DefaultEpochs               = 1
	DefaultLeaseDuration        = 30 * time.Second
	DefaultPollInterval         = 2 * time.Second
	DefaultSpoolGrace           = 10 * time.Minute
	DefaultJobRetention         = 7 * 24 * time.Hour
	DefaultShutdownTimeout      = 10 * time.Second
	DefaultJWTCacheSize         = 10000
	DefaultJWTCacheRefresh      = 5 * time.Second
)

// Config configures a Publisher. Ledger and Jobs are required; every other
// field has a default, applied by New.
type Config struct {
	// Ledger is the chain on which blobs are registered and certified.
	Ledger Ledger
	// Jobs keeps the uploads (publisher/jobs: Postgres, or embedded SQLite).
	Jobs JobStore

	// Addr is where Run listens (default DefaultAddr).
	Addr string
	// MetricsAddr is where Prometheus metrics are served at /metrics,
	// apart from the API. Empty: no metrics listener (MetricsHandler still
	// serves them).
	MetricsAddr string

	// SpoolDir holds the bodies of unfinished uploads. It must survive a
	// restart for jobs to be finished after one, and be shared by the
	// publishers that may take each other's jobs over (default
	// $TMPDIR/haulout-publisher-spool, which a reboot may empty: jobs whose
	// spool file is gone fail with that reason).
	SpoolDir string
	// Owner names this publisher in the job store: unique among the live
	// publishers sharing a store, and the same across restarts of this one,
	// so that a restart takes its previous run's jobs back at once
	// (default hostname:SpoolDir).
	Owner string
	// LeaseDuration is how long a job stays leased to this publisher
	// without renewal; renewals come every third of it (default
	// DefaultLeaseDuration). Another publisher takes a job over once its
	// lease has run out.
	LeaseDuration time.Duration
	// PollInterval is how often the runner looks for jobs to take over
	// (default DefaultPollInterval).
	PollInterval time.Duration
	// JobRetention is how long finished jobs stay in the store, for
	// GET /v1/jobs/{id}, before the runner deletes them (default
	// DefaultJobRetention; negative: forever).
	JobRetention time.Duration
	// SpoolGrace is how old a spool file without an unfinished job must be
	// before it is removed, so that an upload still being received is left
	// alone (default DefaultSpoolGrace).
	SpoolGrace time.Duration

	// MaxBodySize bounds a PUT /v1/blobs body; larger ones get 413 (default
	// DefaultMaxBodySize).
	MaxBodySize int64
	// MaxQuiltBodySize bounds a PUT /v1/quilts body (default
	// DefaultMaxQuiltBodySize).
	MaxQuiltBodySize int64
	// MaxConcurrentUploads is how many PUT requests are served at once
	// (default DefaultMaxConcurrentUploads); MaxBufferedUploads how many
	// more may wait for a turn (default DefaultMaxBufferedUploads; negative:
	// none). Beyond both, requests get 429.
	MaxConcurrentUploads int
	MaxBufferedUploads   int
	// MaxActiveJobs bounds the jobs this publisher works on at once: those
	// of requests waiting for their answer, those that go on in the
	// background (?wait=false, slow nodes) and those taken over. A PUT that
	// would exceed it gets 429 (default DefaultMaxActiveJobs).
	MaxActiveJobs int
	// EncodeMemory bounds the memory that encodings hold at once, estimated
	// per blob as its slivers and leaf hashes; an encoding larger than the
	// whole budget runs alone (default DefaultEncodeMemory). What a job
	// no longer holds is given back early: the leaf hashes once encoded,
	// the served nodes' slivers once certified.
	EncodeMemory int64
	// StreamThreshold: blobs larger than this (not quilts) are encoded
	// from their spool file in passes into a sliver file beside it
	// (codec.StreamEncoder), and their slivers are read from that file as
	// they are sent, so that their memory is bounded whatever their size;
	// smaller ones are encoded in memory, which is faster (default
	// DefaultStreamThreshold; negative: never).
	StreamThreshold int64
	// StreamBuffer bounds the block buffers of one streaming encoding
	// (default codec.DefaultStreamBuffer).
	StreamBuffer int
	// Plugins transform every blob of PUT /v1/blobs, in order, before it
	// is encoded; their attributes are set on its Blob object (quilts are
	// stored as they come).
	Plugins []UploadPlugin
	// SendMemory bounds the sliver data read from sliver files and in
	// flight to the nodes at once, over all uploads (default
	// DefaultSendMemory). With EncodeMemory it bounds the publisher's
	// memory.
	SendMemory int64

	// NodeConcurrency bounds the requests in flight to one storage node
	// for one blob (default DefaultNodeConcurrency).
	NodeConcurrency int
	// BatchBytes bounds the sliver data of one batch request; a node's
	// slivers are split into batches of about this size (default
	// DefaultBatchBytes).
	BatchBytes int
	// NodeAttempts is how many times a node is tried (metadata, slivers,
	// confirmation) before it is given up on (default DefaultNodeAttempts).
	NodeAttempts int
	// RetryBackoff is the wait before the second attempt; it doubles up to
	// MaxRetryBackoff (defaults DefaultRetryBackoff, DefaultMaxRetryBackoff).
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// NodeRequestTimeout bounds one request to a node (default
	// DefaultNodeRequestTimeout).
	NodeRequestTimeout time.Duration
	// QuorumTimeout bounds the time from the start of distribution to a
	// quorum of confirmations; past it the upload fails with 504
	// INSUFFICIENT_CONFIRMATIONS, as Walrus's (default DefaultQuorumTimeout).
	QuorumTimeout time.Duration
	// Dial returns a storage node's client (default: nodeclient.New with
	// NodeHTTPClient).
	Dial Dialer
	// NodeHTTPClient is the HTTP client for storage nodes when Dial is nil
	// (default nodeclient.NewHTTPClient with default options; give one that
	// trusts the nodes' certificates for self-signed TLS).
	NodeHTTPClient *http.Client

	// DefaultEpochs is the epochs of an upload that names none (default 1,
	// as Walrus).
	DefaultEpochs uint32
	// StoragePrice is the cost, in FROST, of one storage unit (1 MiB of
	// encoded size) for one epoch, and WritePrice the one-off cost of
	// writing one unit: the "cost" of a newly created blob is
	// units*(StoragePrice*epochs + WritePrice). Both default to zero: the
	// local ledger charges nothing.
	StoragePrice uint64
	WritePrice   uint64
	// Blocklist holds blob IDs that are refused with 451 FORBIDDEN_BLOB,
	// as Walrus's --blocklist.
	Blocklist []codec.BlobID

	// JWT configures Walrus's optional JWT authentication of uploads.
	JWT JWTConfig

	// Registry receives the publisher's metrics (default a new registry
	// of its own).
	Registry *prometheus.Registry
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown of the servers when the
	// context of Serve ends (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// JWTConfig is Walrus's authenticated publisher (--jwt-*): authentication is
// on when DecodeSecret is set, ExpiringSec is positive or VerifyUpload is set.
type JWTConfig struct {
	// DecodeSecret verifies token signatures: the HMAC secret, or the
	// public key (DER: PKIX or PKCS#1; for EdDSA also the 32 raw bytes) of
	// an asymmetric algorithm; 0x-prefixed hex is decoded first. Empty
	// with authentication on: signatures are not checked (an API gateway
	// in front has done it) and only the claims are enforced.
	DecodeSecret string
	// Algorithm is HS256 (default), HS384, HS512, ES256, ES384, RS256,
	// RS384, RS512, PS256, PS384, PS512 or EdDSA.
	Algorithm string
	// ExpiringSec, when positive, requires exp and iat with exp-iat equal
	// to it.
	ExpiringSec int64
	// VerifyUpload enforces the claims (epochs, max_epochs, size,
	// max_size, send_object_to) against each request.
	VerifyUpload bool
	// CacheSize bounds the remembered token IDs (jti), each kept until its
	// token expires; when full, requests with new tokens fail (default
	// DefaultJWTCacheSize).
	CacheSize int
	// CacheRefresh is how often expired token IDs are dropped (default
	// DefaultJWTCacheRefresh).
	CacheRefresh time.Duration
}

// Enabled reports whether authentication is on.
func (j JWTConfig) Enabled() bool {
	return j.DecodeSecret != "" || j.ExpiringSec > 0 || j.VerifyUpload
}

// errConfig reports a configuration that New refuses.
var errConfig = errors.New("publisher: invalid configuration")

// withDefaults checks cfg and fills in every default.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Ledger == nil {
		return cfg, fmt.Errorf("%w: no ledger", errConfig)
	}
	if cfg.Jobs == nil {
		return cfg, fmt.Errorf("%w: no job store", errConfig)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(os.TempDir(), "haulout-publisher-spool")
	}
	abs, err := filepath.Abs(cfg.SpoolDir)
	if err != nil {
		return cfg, fmt.Errorf("%w: spool dir: %v", errConfig, err)
	}
	cfg.SpoolDir = abs
	if cfg.Owner == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		cfg.Owner = host + ":" + cfg.SpoolDir
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur(&cfg.LeaseDuration, DefaultLeaseDuration)
	setDur(&cfg.PollInterval, DefaultPollInterval)
	setDur(&cfg.SpoolGrace, DefaultSpoolGrace)
	if cfg.JobRetention == 0 {
		cfg.JobRetention = DefaultJobRetention
	}
	setDur(&cfg.RetryBackoff, DefaultRetryBackoff)
	setDur(&cfg.MaxRetryBackoff, DefaultMaxRetryBackoff)
	setDur(&cfg.NodeRequestTimeout, DefaultNodeRequestTimeout)
	setDur(&cfg.QuorumTimeout, DefaultQuorumTimeout)
	setDur(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	setDur(&cfg.JWT.CacheRefresh, DefaultJWTCacheRefresh)
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.MaxQuiltBodySize <= 0 {
		cfg.MaxQuiltBodySize = DefaultMaxQuiltBodySize
	}
	setInt(&cfg.MaxConcurrentUploads, DefaultMaxConcurrentUploads)
	switch {
	case cfg.MaxBufferedUploads == 0:
		cfg.MaxBufferedUploads = DefaultMaxBufferedUploads
	case cfg.MaxBufferedUploads < 0:
		cfg.MaxBufferedUploads = 0
	}
	setInt(&cfg.MaxActiveJobs, DefaultMaxActiveJobs)
	if cfg.EncodeMemory <= 0 {
		cfg.EncodeMemory = DefaultEncodeMemory
	}
	if cfg.StreamThreshold == 0 {
		cfg.StreamThreshold = DefaultStreamThreshold
	}
	setInt(&cfg.StreamBuffer, codec.DefaultStreamBuffer)
	if cfg.SendMemory <= 0 {
		cfg.SendMemory = DefaultSendMemory
	}
	setInt(&cfg.NodeConcurrency, DefaultNodeConcurrency)
	setInt(&cfg.BatchBytes, DefaultBatchBytes)
	setInt(&cfg.NodeAttempts, DefaultNodeAttempts)
	setInt(&cfg.JWT.CacheSize, DefaultJWTCacheSize)
	if cfg.DefaultEpochs == 0 {
		cfg.DefaultEpochs = DefaultEpochs
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Dial == nil {
		hc := cfg.NodeHTTPClient
		if hc == nil {
			hc = nodeclient.NewHTTPClient(nodeclient.TransportOptions{})
		}
		cfg.Dial = func(n chain.NodeInfo) (Node, error) {
			return nodeclient.New(n.RESTURL, nodeclient.WithHTTPClient(hc))
		}
	}
	return cfg, nil
}
