package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

func helpCommand() command {
	return command{
		name:    "help",
		args:    "[COMMAND]",
		summary: "show help for every command, or for one",
		help: `With no COMMAND, describes every command, its flags, their environment
variables and the config file. With COMMAND, describes that one.
"haulout COMMAND --help" does the same.`,
		new: func(*flag.FlagSet) runner { return helpRunner{} },
	}
}

type helpRunner struct{}

func (helpRunner) run(_ context.Context, c *cli, args []string) error {
	switch len(args) {
	case 0:
		writeOverview(c.stdout)
		return nil
	case 1:
		cmd, ok := lookupCommand(args[0])
		if !ok {
			return usagef("unknown command %q", args[0])
		}
		writeCommandHelp(c.stdout, cmd)
		return nil
	default:
		return usagef("takes at most one COMMAND; got %d arguments", len(args))
	}
}

const helpIntro = `haulout stores blobs on a committee of storage nodes, erasure-coded with
RedStuff exactly as Walrus does, so blob IDs and slivers match Walrus's.

Usage:
  haulout COMMAND [FLAGS] [ARGUMENTS]
  haulout help [COMMAND]
`

const helpSettings = `Settings:
  Flags may come before or after the arguments; "--" ends the flags.
  Every flag can also be set in the environment as HAULOUT_ and its name in
  upper case with '-' as '_' (an empty variable counts as unset), or in a
  config file named by --config FILE or HAULOUT_CONFIG, with one "name = value"
  per line (name as the flag's, without dashes; '#' starts a comment line; a
  value may be in double quotes). One file serves every command: each skips the
  settings it does not have, but a name that no command has is an error.
  The command line wins over the environment, which wins over the config file,
  which wins over the default. An example config file:

      # haulout settings
      n-shards = 100
`

const helpExitStatus = `Exit status:
  0 success; 1 the command failed (a bad flag value included); 2 the command
  line is wrong (no or an unknown command, an unknown flag, wrong arguments).
`

// writeOverview writes the help for every command.
func writeOverview(w io.Writer) {
	var b strings.Builder
	b.WriteString(helpIntro)
	b.WriteString("\nCommands:\n")
	cmds := commands()
	width := 0
	for _, cmd := range cmds {
		width = max(width, len(cmd.name))
	}
	for _, cmd := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, cmd.name, cmd.summary)
	}
	for _, cmd := range cmds {
		b.WriteString("\n")
		writeCommandSection(&b, cmd)
	}
	b.WriteString("\n")
	b.WriteString(helpSettings)
	b.WriteString("\n")
	b.WriteString(helpExitStatus)
	io.WriteString(w, b.String())
}

// writeCommandHelp writes the help for one command.
func writeCommandHelp(w io.Writer, cmd command) {
	var b strings.Builder
	writeCommandSection(&b, cmd)
	if len(commandFlags(cmd)) > 0 {
		b.WriteString("\n")
		b.WriteString(helpSettings)
	}
	b.WriteString("\n")
	b.WriteString(helpExitStatus)
	io.WriteString(w, b.String())
}

// writeCommandSection writes a command's synopsis, description and flags.
func writeCommandSection(b *strings.Builder, cmd command) {
	flags := commandFlags(cmd)
	b.WriteString("haulout " + cmd.name)
	if len(flags) > 0 {
		b.WriteString(" [FLAGS]")
	}
	if cmd.args != "" {
		b.WriteString(" " + cmd.args)
	}
	b.WriteString("\n")
	for _, line := range strings.Split(cmd.help, "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + line + "\n")
	}
	if len(flags) == 0 {
		return
	}
	b.WriteString("\n  Flags:\n")
	width := 0
	for _, f := range flags {
		width = max(width, len(f.synopsis))
	}
	for _, f := range flags {
		fmt.Fprintf(b, "    %-*s  %s\n", width, f.synopsis, f.usage)
		fmt.Fprintf(b, "    %-*s  environment: %s\n", width, "", envName(f.name))
	}
}

// flagHelp is one flag as the help shows it.
type flagHelp struct {
	name     string
	synopsis string // "--n-shards N"
	usage    string // with its default, if it has one
}

// commandFlags returns cmd's flags as loadSettings sees them, --config last.
func commandFlags(cmd command) []flagHelp {
	fs := newFlagSet(cmd.name)
	cmd.new(fs)
	var configPath string
	if !addConfigFlag(fs, &configPath) {
		return nil
	}
	var out []flagHelp
	add := func(f *flag.Flag) {
		argName, usage := flag.UnquoteUsage(f)
		dashes := "--"
		if len(f.Name) == 1 {
			dashes = "-" // a one-letter alias such as -o, written as users type it
		}
		h := flagHelp{name: f.Name, synopsis: dashes + f.Name, usage: usage}
		if argName != "" {
			h.synopsis += " " + argName
		}
		if f.DefValue != "" && f.DefValue != "false" {
			h.usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		out = append(out, h)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != configFlag {
			add(f)
		}
	})
	add(fs.Lookup(configFlag))
	return out
}
