package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/codec"
)

// What the client commands share: the services' URLs (the same settings as
// `haulout site`, so one config file serves every client command), --json,
// and progress bars on a terminal.

const (
	defaultPublisherURL  = "http://127.0.0.1:31416"
	defaultAggregatorURL = "http://127.0.0.1:31415"
	defaultLedgerURL     = "http://127.0.0.1:31400"
)

func publisherVar(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "publisher", defaultPublisherURL, "the publisher at `URL`")
}

func aggregatorVar(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "aggregator", defaultAggregatorURL, "the aggregator at `URL`")
}

func ledgerVar(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "ledger", defaultLedgerURL, "the ledger at `URL`")
}

func jsonVar(fs *flag.FlagSet, p *bool) {
	fs.BoolVar(p, "json", false, "print JSON (Walrus's JSON mode shapes) instead of text")
}

// httpTimeout bounds the short calls to a service (status, info, ...);
// transfers are bounded by the caller's context only.
const httpTimeout = 30 * time.Second

// writeJSON prints v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// parseBlobID reads a blob ID argument, with a message that says what one
// looks like.
func parseBlobID(s string) (codec.BlobID, error) {
	id, err := codec.ParseBlobID(s)
	if err != nil {
		return id, fmt.Errorf("%w (a blob ID is 43 characters of URL-safe base64, as 'haulout blob-id' prints)", err)
	}
	return id, nil
}

// epochsValue is Walrus's --epochs: a positive number, or max for as many
// as the ledger allows.
type epochsValue struct {
	n   uint32
	max bool
}

func (e *epochsValue) String() string {
	if e == nil {
		return "1"
	}
	if e.max {
		return "max"
	}
	return strconv.FormatUint(uint64(e.n), 10)
}

func (e *epochsValue) Set(s string) error {
	if s == "max" {
		e.n, e.max = 0, true
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("want a positive whole number or max")
	}
	e.n, e.max = uint32(n), false
	return nil
}

// kvList is a repeatable key=value flag.
type kvList map[string]string

func (l kvList) String() string {
	keys := make([]string, 0, len(l))
	for k, v := range l {
		keys = append(keys, k+"="+v)
	}
	return strings.Join(keys, ",")
}

func (l kvList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE")
	}
	l[k] = v
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f.Fd() <= math.MaxInt && term.IsTerminal(int(f.Fd()))
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && f.Fd() <= math.MaxInt && term.IsTerminal(int(f.Fd()))
}

// progress is a progress bar on stderr when it is a terminal, else
// nothing. size < 0 shows a spinner with the byte count.
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(c *cli, size int64, what string) *progress {
	if !isTerminal(c.stderr) || size == 0 {
		return &progress{}
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(c.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)
	return &progress{bar: bar}
}

// set moves the bar to n bytes done; safe to call on a nil bar.
func (p *progress) set(n int64) {
	if p.bar != nil {
		_ = p.bar.Set64(n)
	}
}

// done removes the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}

// writer counts bytes written through it on the bar.
func (p *progress) writer(w io.Writer) io.Writer {
	if p.bar == nil {
		return w
	}
	return io.MultiWriter(w, p.bar)
}

// newLedger is the ledger client of the commands.
func newLedger(url string) *client.Ledger {
	return client.NewLedger(url, nil)
}
