// Command haulout is the one binary of haulout: the client commands that
// talk to a Walrus-style network (and compute blob IDs locally), and, as
// they arrive, the services themselves.
//
// main.go holds the command table and the dispatch; each subcommand lives in
// its own file, settings.go fills a command's configuration from flags,
// HAULOUT_* environment variables and a config file, and help.go renders
// `haulout help`.
//
// Exit status: 0 on success, 1 when a command fails (a bad flag value
// included), 2 when the command line itself is wrong (no or an unknown
// command, an unknown flag, a missing flag value, wrong arguments).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one `haulout` subcommand.
type command struct {
	name    string
	args    string // synopsis of the positional arguments, e.g. "FILE|-"
	summary string // one line, lower case, no period
	help    string // what the command does, in full sentences; may hold several lines
	// new returns a runner whose configuration fields are bound to flags
	// registered on fs, with their defaults already in place.
	new func(fs *flag.FlagSet) runner
}

// runner runs a subcommand once its configuration is filled and its
// positional arguments are known.
type runner interface {
	run(ctx context.Context, c *cli, args []string) error
}

// commands returns every subcommand, in the order `haulout help` lists them.
func commands() []command {
	return []command{devnetCommand(), storeCommand(), readCommand(), blobStatusCommand(), statusCommand(), deleteCommand(), extendCommand(), infoCommand(), listBlobsCommand(), blobIDCommand(), ledgerCommand(), nodeCommand(), publisherCommand(), aggregatorCommand(), siteCommand(), storeQuiltCommand(), readQuiltCommand(), listPatchesCommand(), versionCommand(), helpCommand()}
}

func lookupCommand(name string) (command, bool) {
	for _, cmd := range commands() {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// cli is what a command may touch of the outside world. Commands reach the
// process's streams and environment only through it, so tests can run them
// in-process.
type cli struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(key string) (string, bool)
}

// usageError reports a command line that haulout cannot make sense of.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// run runs haulout with args (without the program name) and returns the
// process's exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: os.LookupEnv}
	if len(args) == 0 {
		writeOverview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "haulout: unknown command %q (run 'haulout help' for the list)\n", name)
		return exitUsage
	}
	err := c.runCommand(ctx, cmd, args[1:])
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		writeCommandHelp(stdout, cmd)
		return exitOK
	case errors.As(err, &usage):
		hint := "haulout help " + cmd.name
		if cmd.name == "help" {
			hint = "haulout help"
		}
		fmt.Fprintf(stderr, "haulout: %s: %v (run '%s')\n", cmd.name, err, hint)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "haulout: %s: %v\n", cmd.name, err)
		return exitFailure
	}
}

// runCommand fills cmd's configuration from args, the environment and the
// config file, then runs it.
func (c *cli) runCommand(ctx context.Context, cmd command, args []string) error {
	fs := newFlagSet(cmd.name)
	r := cmd.new(fs)
	positional, err := loadSettings(fs, args, c.lookupEnv, isKnownSetting)
	if err != nil {
		return err
	}
	return r.run(ctx, c, positional)
}

// newFlagSet returns an empty flag set that reports errors to its caller
// and prints nothing itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// isKnownSetting reports whether any command has a flag called name; a config
// file is shared by all commands, so it may hold settings for other ones.
func isKnownSetting(name string) bool {
	for _, cmd := range commands() {
		fs := newFlagSet(cmd.name)
		cmd.new(fs)
		if fs.Lookup(name) != nil {
			return true
		}
	}
	return false
}
