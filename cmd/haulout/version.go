package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
	"strings"
)

func versionCommand() command {
	return command{
		name:    "version",
		summary: "print the version and source revision of this binary",
		help: `Prints the module version of this binary, the source revision it was built
from (with "modified" when the work tree had uncommitted changes), and the Go
version and platform it was built with, all read from the build information
that the Go toolchain embeds.`,
		new: func(*flag.FlagSet) runner { return versionRunner{} },
	}
}

type versionRunner struct{}

func (versionRunner) run(_ context.Context, c *cli, args []string) error {
	if len(args) != 0 {
		return usagef("takes no arguments; got %d", len(args))
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	_, err := fmt.Fprint(c.stdout, versionText(bi))
	return err
}

// versionText renders the build information of a haulout binary.
func versionText(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "haulout %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "revision: %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(", modified")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("revision: unknown (built outside a git work tree, or with -buildvcs=false)\n")
	}
	fmt.Fprintf(&b, "go: %s", bi.GoVersion)
	if goos, goarch := settings["GOOS"], settings["GOARCH"]; goos != "" && goarch != "" {
		fmt.Fprintf(&b, " %s/%s", goos, goarch)
	}
	b.WriteString("\n")
	return b.String()
}
