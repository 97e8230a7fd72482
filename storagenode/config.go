package storagenode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/haulout/haulout/bls"
	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/codec"
	"github.com/haulout/haulout/storagenode/store"
)

// Ledger is what a node needs from the chain: the current epoch and
// committee, the Blob objects of a blob ID (to accept uploads for a blob
// registered moments ago, before its event arrives), the aggregated status
// of a blob ID, and the event stream. *local.Ledger and ledgerhttp.Client
// have these methods.
type Ledger interface {
	CurrentEpoch(ctx context.Context) (chain.Epoch, error)
	Committee(ctx context.Context, epoch chain.Epoch) (chain.Committee, error)
	BlobObjects(ctx context.Context, blobID codec.BlobID) ([]chain.BlobRecord, error)
	BlobStatus(ctx context.Context, blobID codec.BlobID) (chain.BlobStatus, error)
	WaitEvents(ctx context.Context, from uint64, limit int) ([]chain.Event, error)
}

// Defaults of Config.
const (
	// DefaultAddr is Walrus's REST API port, on loopback.
	DefaultAddr = "127.0.0.1:9185"
	// DefaultMetricsAddr is Walrus's metrics port, on loopback. Config's
	// MetricsAddr has no default (empty: no metrics listener); commands
	// use this one as their flag default.
	DefaultMetricsAddr = "127.0.0.1:9184"

	DefaultRecoveryWorkers    = 4
	DefaultRecoveryDelay      = 2 * time.Second
	DefaultRecoveryBackoff    = time.Second
	DefaultRecoveryMaxBackoff = time.Minute
	DefaultSweepInterval      = time.Minute
	DefaultSymbolRequestLimit = 64
	DefaultShutdownTimeout    = 10 * time.Second
	DefaultMetadataCacheSize  = 1024
)

// Config configures a Node. Dir, Ledger, NodeID and Key are required; every
// other field has a default, applied by New.
type Config struct {
	// Dir holds the node's durable state: the sliver store (Dir/store) and,
	// with TLS and no certificate files, the generated certificate
	// (Dir/tls).
	Dir string
	// Ledger is the chain the node follows.
	Ledger Ledger
	// NodeID is the node's ID in the committee (chain.NodeInfo.ID): the
	// node holds the shards the committee assigns to this ID.
	NodeID chain.ObjectID
	// Key is the node's BLS12-381 protocol key; the committee lists its
	// public key, and storage confirmations are signed with it.
	Key *bls.PrivateKey

	// Addr is where Run listens for the REST API (default DefaultAddr).
	Addr string
	// MetricsAddr is where Prometheus metrics are served, at /metrics,
	// apart from the API. Empty: no metrics listener (Node.MetricsHandler
	// still serves them).
	MetricsAddr string
	// TLS serves the API over HTTPS.
	TLS TLSConfig

	// RecoveryWorkers is how many blobs are recovered at once (default
	// DefaultRecoveryWorkers).
	RecoveryWorkers int
	// RecoveryDelay is how long after a blob's certification the node
	// waits before recovering slivers it lacks, so that uploads still in
	// flight land first (default DefaultRecoveryDelay; negative: none).
	RecoveryDelay time.Duration
	// RecoveryBackoff and RecoveryMaxBackoff bound the retries of a failed
	// recovery: the wait doubles from the first to the second (defaults
	// DefaultRecoveryBackoff, DefaultRecoveryMaxBackoff).
	RecoveryBackoff    time.Duration
	RecoveryMaxBackoff time.Duration
	// SweepInterval is how often the node scans its blobs for expired ones
	// to drop and certified ones to recover, besides reacting to events
	// (default DefaultSweepInterval).
	SweepInterval time.Duration
	// SymbolRequestLimit bounds concurrent recovery-symbol requests served;
	// beyond it the node answers 503, as Walrus (default
	// DefaultSymbolRequestLimit).
	SymbolRequestLimit int
	// MetadataCacheSize is how many blobs' decoded metadata are kept in
	// memory for checking slivers (default DefaultMetadataCacheSize).
	MetadataCacheSize int
	// PeerClient talks to other nodes for recovery (default
	// nodeclient.NewHTTPClient, which trusts the system's roots: with peers
	// on self-signed certificates, give a client that trusts theirs).
	PeerClient *http.Client
	// Store tunes the sliver store.
	Store store.Options
	// Logger receives the node's structured logs (default slog.Default()).
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown of the servers when the
	// context of Serve or Run ends (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// TLSConfig configures HTTPS. Over TLS the node speaks HTTP/2 (ALPN h2), as
// Walrus's clients require, and HTTP/1.1; in plain text it speaks HTTP/1.1
// and HTTP/2 with prior knowledge (h2c).
type TLSConfig struct {
	// Enabled turns HTTPS on.
	Enabled bool
	// CertFile and KeyFile are a PEM certificate (chain) and key. Both
	// empty: the node generates a self-signed ECDSA P-256 certificate on
	// first start and keeps it in Dir/tls (cert.pem, key.pem), so that it
	// stays the same across restarts.
	CertFile, KeyFile string
	// Hosts are the DNS names and IP addresses of a generated certificate
	// (default: localhost, 127.0.0.1, ::1).
	Hosts []string
}

func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("Dir is required"))
	}
	if c.Ledger == nil {
		errs = append(errs, errors.New("Ledger is required"))
	}
	if c.NodeID.IsZero() {
		errs = append(errs, errors.New("NodeID is required"))
	}
	if c.Key == nil {
		errs = append(errs, errors.New("Key is required"))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("storagenode: config: %w", errors.Join(errs...))
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.RecoveryWorkers <= 0 {
		c.RecoveryWorkers = DefaultRecoveryWorkers
	}
	if c.RecoveryDelay == 0 {
		c.RecoveryDelay = DefaultRecoveryDelay
	} else if c.RecoveryDelay < 0 {
		c.RecoveryDelay = 0
	}
	if c.RecoveryBackoff <= 0 {
		c.RecoveryBackoff = DefaultRecoveryBackoff
	}
	if c.RecoveryMaxBackoff <= 0 {
		c.RecoveryMaxBackoff = DefaultRecoveryMaxBackoff
	}
	c.RecoveryMaxBackoff = max(c.RecoveryMaxBackoff, c.RecoveryBackoff)
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.SymbolRequestLimit <= 0 {
		c.SymbolRequestLimit = DefaultSymbolRequestLimit
	}
	if c.MetadataCacheSize <= 0 {
		c.MetadataCacheSize = DefaultMetadataCacheSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if len(c.TLS.Hosts) == 0 {
		c.TLS.Hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return c, errors.New("storagenode: config: TLS.CertFile and TLS.KeyFile go together")
	}
	return c, nil
}
