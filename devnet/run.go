package devnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Config configures a devnet. Zero values get the defaults of DESIGN.md.
type Config struct {
	// Dir holds all data (default "devnet-data").
	Dir string
	// Nodes and Shards shape a new devnet (defaults 7 and 1000); an existing
	// one keeps its own (0 means "whatever it has").
	Nodes, Shards int
	// PublisherAddr and AggregatorAddr are the HTTP addresses of the two
	// services (defaults 127.0.0.1:31416 and 127.0.0.1:31415).
	PublisherAddr, AggregatorAddr string
	// LedgerAddr is the ledger's HTTP address; empty: the one the devnet
	// chose when it was made (a free port). The client commands look for
	// the ledger at 127.0.0.1:31400, which `haulout devnet` passes.
	LedgerAddr string
	// DatabaseURL, if set, keeps the publisher's jobs in that Postgres
	// instead of its embedded store.
	DatabaseURL string
	// EpochDuration is the ledger's epoch length (default 1h).
	EpochDuration time.Duration
	// Binary is the haulout executable to run the services with (default:
	// this process's own executable).
	Binary string
	// Out receives the banner: URLs and an example (default os.Stdout).
	Out io.Writer
	// Logger receives the devnet's own events (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Dir == "" {
		c.Dir = "devnet-data"
	}
	if c.PublisherAddr == "" {
		c.PublisherAddr = "127.0.0.1:31416"
	}
	if c.AggregatorAddr == "" {
		c.AggregatorAddr = "127.0.0.1:31415"
	}
	if c.EpochDuration == 0 {
		c.EpochDuration = time.Hour
	}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the haulout executable: %w", err)
		}
		c.Binary = exe
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// process is one child service.
type process struct {
	name  string
	args  []string
	ready string // URL that answers 2xx once the service is up
	cmd   *exec.Cmd
	done  chan error
}

// Run starts the devnet and blocks until ctx is cancelled, then stops every
// service (SIGTERM, then SIGKILL after a grace period) before returning.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return err
	}
	nodes, shards := cfg.Nodes, cfg.Shards
	if _, err := os.Stat(filepath.Join(cfg.Dir, stateFile)); errors.Is(err, os.ErrNotExist) {
		nodes, shards = orDefault(nodes, 7), orDefault(shards, 1000)
	}
	st, err := LoadOrCreate(cfg.Dir, nodes, shards, cfg.PublisherAddr, cfg.AggregatorAddr, cfg.LedgerAddr)
	if err != nil {
		return err
	}
	logDir := filepath.Join(cfg.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return err
	}
	if cfg.LedgerAddr != "" {
		st.Ledger = cfg.LedgerAddr
	}
	ledgerURL := "http://" + st.Ledger

	var procs []*process
	procs = append(procs, &process{name: "ledger", ready: ledgerURL + "/v1/epoch", args: []string{
		"ledger", "--dir", filepath.Join(cfg.Dir, "ledger"), "--listen", st.Ledger,
		"--genesis", filepath.Join(cfg.Dir, genesisFile), "--epoch-duration", cfg.EpochDuration.String(),
	}})
	for i, n := range st.Nodes {
		procs = append(procs, &process{name: n.Name, ready: n.URL() + "/v1/health", args: NodeArgs(cfg.Dir, i, n, ledgerURL)})
	}
	pub := PublisherArgs(cfg.Dir, cfg.PublisherAddr, ledgerURL, cfg.DatabaseURL)
	procs = append(procs,
		&process{name: "publisher", ready: "http://" + cfg.PublisherAddr + "/status", args: pub},
		&process{name: "aggregator", ready: "http://" + cfg.AggregatorAddr + "/status", args: []string{
			"aggregator", "--listen", cfg.AggregatorAddr, "--ledger-url", ledgerURL,
			"--cache-dir", filepath.Join(cfg.Dir, "aggregator-cache"),
			"--publisher-url", "http://" + cfg.PublisherAddr, // for the web pages
		}},
	)

	var wg sync.WaitGroup
	defer func() {
		stopAll(procs, cfg.Logger)
		wg.Wait()
	}()
	for _, p := range procs {
		if err := start(p, cfg.Binary, logDir); err != nil {
			return err
		}
		wg.Go(func() {
			err := <-p.done
			switch {
			case ctx.Err() != nil:
			case err != nil:
				cfg.Logger.Warn("service failed", "service", p.name, "err", err, "log", filepath.Join(logDir, p.name+".log"))
			default:
				cfg.Logger.Info("service stopped", "service", p.name)
			}
		})
		if err := waitReady(ctx, p); err != nil {
			return fmt.Errorf("%s did not start (see %s): %w", p.name, filepath.Join(logDir, p.name+".log"), err)
		}
	}
	banner(cfg.Out, cfg, st)
	<-ctx.Done()
	return nil
}

// NodeArgs is the command line that runs node i of the devnet in dir; a
// test that kills a node restarts it with the same.
func NodeArgs(dir string, i int, n NodeState, ledgerURL string) []string {
	return []string{"node", "--dir", NodeDir(dir, i), "--listen", n.Listen, "--metrics-listen", n.Metrics,
		"--ledger-url", ledgerURL, "--key-seed-file", KeyFile(dir, i), "--node-id", n.ID.String()}
}

// PublisherArgs is the command line that runs the devnet's publisher; a
// test that kills it restarts it with the same, and the restarted
// publisher takes its unfinished jobs back.
func PublisherArgs(dir, addr, ledgerURL, databaseURL string) []string {
	args := []string{"publisher", "--listen", addr, "--ledger-url", ledgerURL, "--dir", filepath.Join(dir, "publisher")}
	if databaseURL != "" {
		args = append(args, "--database-url", databaseURL)
	}
	return args
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func start(p *process, binary, logDir string) error {
	logf, err := os.OpenFile(filepath.Join(logDir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(binary, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.done = make(chan error, 1)
	// The pid file lets a person or a test find (and kill) one service.
	pidFile := filepath.Join(logDir, p.name+".pid")
	_ = os.WriteFile(pidFile, []byte(fmt.Sprintln(p.cmd.Process.Pid)), 0o600)
	go func() {
		err := p.cmd.Wait()
		_ = os.Remove(pidFile)
		logf.Close()
		p.done <- err
		close(p.done)
	}()
	return nil
}

// waitReady polls the process's readiness URL until it answers 2xx, the
// process exits, or 60 s pass.
func waitReady(ctx context.Context, p *process) error {
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case err, ok := <-p.done:
			if ok {
				return fmt.Errorf("exited: %v", err)
			}
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(p.ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
	}
	return errors.New("not ready after 60s")
}

// stopAll stops the services in reverse order of start.
func stopAll(procs []*process, log *slog.Logger) {
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.cmd == nil || p.cmd.Process == nil {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			log.Warn("service did not stop in time; killing it", "service", p.name)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func banner(w io.Writer, cfg Config, st *State) {
	fmt.Fprintf(w, `haulout devnet is running: %d storage nodes, %d shards, data in %s

  web pages   http://%s/   (upload and browse in a browser)
  aggregator  http://%s   (GET /v1/blobs/{blob_id})
  publisher   http://%s   (PUT /v1/blobs)
  ledger      http://%s

Store a file and read it back:
  BLOB_ID=$(curl -sX PUT --data-binary @README.md "http://%s/v1/blobs?epochs=5" | sed -n 's/.*"blobId":"\([^"]*\)".*/\1/p')
  curl "http://%s/v1/blobs/$BLOB_ID"
or with the client (it finds these addresses when they are the defaults):
  haulout store README.md
  haulout read BLOB_ID

Logs (and pid files) are in %s. Press Ctrl-C to stop.
`, len(st.Nodes), st.Shards, cfg.Dir, cfg.AggregatorAddr, cfg.AggregatorAddr, cfg.PublisherAddr, st.Ledger,
		cfg.PublisherAddr, cfg.AggregatorAddr, filepath.Join(cfg.Dir, "logs"))
}
