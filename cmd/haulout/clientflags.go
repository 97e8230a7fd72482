package main

import (
	"encoding/json"
	"errors"
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

	"github.com/haulout/haulout/chain"
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
// as the ledger allows. set records that some source set it.
type epochsValue struct {
	n   uint32
	max bool
	set bool
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
		e.n, e.max, e.set = 0, true, true
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("want a positive whole number or max")
	}
	e.n, e.max, e.set = uint32(n), false, true
	return nil
}

// endEpochValue is Walrus's --end-epoch: the first epoch in which the blob
// is no longer stored.
type endEpochValue struct {
	epoch chain.Epoch
	set   bool
}

func (e *endEpochValue) String() string {
	if e == nil || !e.set {
		return ""
	}
	return strconv.FormatUint(uint64(e.epoch), 10)
}

func (e *endEpochValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("want a positive whole number (an epoch)")
	}
	e.epoch, e.set = chain.Epoch(n), true
	return nil
}

// expiryTimeValue is Walrus's --earliest-expiry-time: RFC 3339, the same
// with a space for the T or without a zone (UTC), as Walrus's relaxed form,
// or Unix seconds.
type expiryTimeValue struct {
	t   time.Time
	set bool
}

func (e *expiryTimeValue) String() string {
	if e == nil || !e.set {
		return ""
	}
	return e.t.Format(time.RFC3339)
}

func (e *expiryTimeValue) Set(s string) error {
	t, err := parseExpiryTime(s)
	if err != nil {
		return err
	}
	e.t, e.set = t, true
	return nil
}

func parseExpiryTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1<<40 {
			return time.Time{}, fmt.Errorf("%s Unix seconds is out of range", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want an RFC 3339 time (e.g. 2026-03-20T15:00:00Z) or Unix seconds")
}

// lifetimeFlags are Walrus's three ways to say how long a new blob lives:
// --epochs N|max, --end-epoch N or --earliest-expiry-time TIME. Walrus
// wants exactly one; haulout takes --epochs's default when none is given.
// A flag on the command line wins over another one from the environment or
// the config file, so that a config file's epochs = max does not stand in
// the way of --end-epoch.
type lifetimeFlags struct {
	fs       *flag.FlagSet
	Epochs   epochsValue
	EndEpoch endEpochValue
	Expiry   expiryTimeValue
}

// The lifetime flags' names, as chosen returns them.
const (
	flagEpochs   = "epochs"
	flagEndEpoch = "end-epoch"
	flagExpiry   = "earliest-expiry-time"
)

func (l *lifetimeFlags) register(fs *flag.FlagSet, defEpochs uint32) {
	l.fs = fs
	l.Epochs = epochsValue{n: defEpochs}
	fs.Var(&l.Epochs, flagEpochs, "store for `N` epochs from now, or max")
	fs.Var(&l.EndEpoch, flagEndEpoch, "store until epoch `N` (exclusive) instead")
	fs.Var(&l.Expiry, flagExpiry, "store at least until `TIME` (RFC 3339 or Unix seconds) instead")
}

// chosen returns the name of the flag that says how long to store.
func (l *lifetimeFlags) chosen() (string, error) {
	onLine := map[string]bool{}
	if l.fs != nil {
		// The settings from the environment and the config file are set
		// past the flag set, so Visit sees the command line's only.
		l.fs.Visit(func(f *flag.Flag) { onLine[f.Name] = true })
	}
	set := map[string]bool{flagEpochs: l.Epochs.set, flagEndEpoch: l.EndEpoch.set, flagExpiry: l.Expiry.set}
	var given, settings []string
	for _, name := range []string{flagEpochs, flagEndEpoch, flagExpiry} {
		switch {
		case onLine[name]:
			given = append(given, "--"+name)
		case set[name]:
			settings = append(settings, name)
		}
	}
	switch {
	case len(given) > 1:
		return "", usagef("give only one of --epochs, --end-epoch and --earliest-expiry-time, not %s", strings.Join(given, " and "))
	case len(given) == 1:
		return given[0][2:], nil
	case len(settings) > 1:
		return "", fmt.Errorf("the settings (HAULOUT_* variables or config file) set %s: keep only one of epochs, end-epoch and earliest-expiry-time, or give one on the command line", strings.Join(settings, " and "))
	case len(settings) == 1:
		return settings[0], nil
	}
	return flagEpochs, nil
}

// needsLedger reports whether the chosen flag needs the ledger's epoch
// state to become a number of epochs.
func (l *lifetimeFlags) needsLedger(name string) bool {
	return name != flagEpochs || l.Epochs.max
}

// epochsAhead turns the flag called name into a number of epochs from the
// ledger's current epoch, as Walrus does: max is the ledger's limit, an
// end epoch is counted from the current one, and an expiry time rounds up
// to the end of the epoch it falls in, counted from the current epoch's
// start. info may be nil for a plain --epochs N.
func (l *lifetimeFlags) epochsAhead(name string, info *client.Info, now time.Time) (uint32, error) {
	var n uint64
	switch {
	case name == flagEpochs && !l.Epochs.max && info == nil:
		return l.Epochs.n, nil // the publisher checks it
	case name == flagEpochs && !l.Epochs.max:
		n = uint64(l.Epochs.n)
	case name == flagEpochs:
		return info.MaxEpochsAhead, nil
	case name == flagEndEpoch:
		if l.EndEpoch.epoch <= info.Epoch {
			return 0, fmt.Errorf("--end-epoch %d is not after the current epoch %d", l.EndEpoch.epoch, info.Epoch)
		}
		n = uint64(l.EndEpoch.epoch - info.Epoch)
	case name == flagExpiry:
		t := l.Expiry.t
		if info.EpochDuration <= 0 {
			return 0, errors.New("--earliest-expiry-time: the ledger's epochs have no set duration (they advance on demand), so a time cannot be turned into epochs: use --epochs or --end-epoch")
		}
		if !t.After(now) || !t.After(info.EpochStart) {
			return 0, fmt.Errorf("--earliest-expiry-time %s is not in the future", t.Format(time.RFC3339))
		}
		n = uint64(t.Sub(info.EpochStart)/info.EpochDuration) + 1
	default:
		return 0, fmt.Errorf("no lifetime flag %q", name)
	}
	if n > uint64(info.MaxEpochsAhead) {
		return 0, fmt.Errorf("blobs can be stored for at most %d epochs ahead (until epoch %d); --%s asks for %d", info.MaxEpochsAhead,
			uint64(info.Epoch)+uint64(info.MaxEpochsAhead), name, n)
	}
	return uint32(n), nil
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
