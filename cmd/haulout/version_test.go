package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	linux := []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{
			name: "release",
			bi: debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "github.com/haulout/haulout", Version: "v0.3.0"},
				Settings: append([]debug.BuildSetting{
					{Key: "vcs.revision", Value: "934ab6a0c0ffee"},
					{Key: "vcs.time", Value: "2026-11-25T19:16:00Z"},
					{Key: "vcs.modified", Value: "false"},
				}, linux...),
			},
			want: "haulout v0.3.0\nrevision: 934ab6a0c0ffee (2026-11-25T19:16:00Z)\ngo: go1.26.8 linux/amd64\n",
		},
		{
			name: "modified work tree",
			bi: debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "github.com/haulout/haulout", Version: "v0.0.0-20261125191600-934ab6a0c0ff+dirty"},
				Settings: append([]debug.BuildSetting{
					{Key: "vcs.revision", Value: "934ab6a0c0ffee"},
					{Key: "vcs.modified", Value: "true"},
				}, linux...),
			},
			want: "haulout v0.0.0-20261125191600-934ab6a0c0ff+dirty\nrevision: 934ab6a0c0ffee, modified\ngo: go1.26.8 linux/amd64\n",
		},
		{
			name: "no vcs information",
			bi:   debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/haulout/haulout"}},
			want: "haulout (devel)\nrevision: unknown (built outside a git work tree, or with -buildvcs=false)\ngo: go1.26.8\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionText(&tc.bi); got != tc.want {
				t.Errorf("versionText() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestVersionCommand runs the real command; what it prints depends on how
// the test binary was built, so only its shape is checked.
func TestVersionCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"version"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK || stderr.Len() != 0 {
		t.Fatalf("haulout version: exit %d, stderr %q", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "haulout ") || !strings.HasPrefix(lines[1], "revision: ") ||
		!strings.HasPrefix(lines[2], "go: "+runtime.Version()) {
		t.Errorf("haulout version printed %q", stdout.String())
	}
}

func TestVersionUsage(t *testing.T) {
	runGolden(t, "version", []cliCase{
		{name: "extra-argument", args: []string{"version", "--short"}},
	})
}
