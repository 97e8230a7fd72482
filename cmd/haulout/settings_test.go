package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testSettings is a configuration with one flag of each kind that the
// settings mechanism must carry.
type testSettings struct {
	Name    string
	Verbose bool
	Count   int
}

func newTestSettings(fs *flag.FlagSet) *testSettings {
	s := &testSettings{}
	fs.StringVar(&s.Name, "name", "default-name", "a `NAME`")
	fs.BoolVar(&s.Verbose, "verbose", false, "talk more")
	intRangeVar(fs, &s.Count, "max-count", 3, 1, 10, "a `COUNT`")
	return s
}

func knownTestSetting(name string) bool {
	return slices.Contains([]string{"name", "verbose", "max-count", "other-command-setting"}, name)
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haulout.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSettings(t *testing.T) {
	config := writeConfig(t, `
# comment
name = "from file"
verbose = true
max-count = 7
other-command-setting = whatever
`)
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		want           testSettings
		wantPositional []string
	}{
		{name: "defaults", args: []string{"a"},
			want: testSettings{Name: "default-name", Count: 3}, wantPositional: []string{"a"}},
		{name: "flags before and after arguments", args: []string{"--name", "x", "a", "--verbose", "b", "--max-count=9"},
			want: testSettings{Name: "x", Verbose: true, Count: 9}, wantPositional: []string{"a", "b"}},
		{name: "double dash ends flags", args: []string{"a", "--", "--name", "-"},
			want: testSettings{Name: "default-name", Count: 3}, wantPositional: []string{"a", "--name", "-"}},
		{name: "environment", env: map[string]string{"HAULOUT_NAME": "env", "HAULOUT_VERBOSE": "true", "HAULOUT_MAX_COUNT": "4"},
			want: testSettings{Name: "env", Verbose: true, Count: 4}},
		{name: "config file from flag", args: []string{"--config", config},
			want: testSettings{Name: "from file", Verbose: true, Count: 7}},
		{name: "config file from environment", env: map[string]string{"HAULOUT_CONFIG": config},
			want: testSettings{Name: "from file", Verbose: true, Count: 7}},
		{name: "flag beats environment beats file", args: []string{"--name=flag", "--config", config},
			env:  map[string]string{"HAULOUT_NAME": "env", "HAULOUT_MAX_COUNT": "5"},
			want: testSettings{Name: "flag", Verbose: true, Count: 5}},
		{name: "explicit false flag beats file", args: []string{"--verbose=false", "--config", config},
			want: testSettings{Name: "from file", Verbose: false, Count: 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet("test")
			got := newTestSettings(fs)
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			positional, err := loadSettings(fs, tc.args, lookup, knownTestSetting)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("settings = %+v, want %+v", *got, tc.want)
			}
			if !slices.Equal(positional, tc.wantPositional) {
				t.Errorf("positional = %q, want %q", positional, tc.wantPositional)
			}
		})
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		config    string
		wantUsage bool   // a usageError, which exits 2
		wantErr   string // substring of the message
	}{
		{name: "unknown flag", args: []string{"--nmae", "x"}, wantUsage: true, wantErr: "not defined: -nmae"},
		{name: "flag without value", args: []string{"--name"}, wantUsage: true, wantErr: "needs an argument"},
		{name: "bad flag value", args: []string{"--max-count", "11"}, wantErr: `invalid --max-count "11": must be from 1 to 10`},
		{name: "bad boolean", args: []string{"--verbose=maybe"}, wantErr: `invalid --verbose "maybe"`},
		{name: "bad environment value", env: map[string]string{"HAULOUT_MAX_COUNT": "many"},
			wantErr: `invalid HAULOUT_MAX_COUNT "many": not a whole number`},
		{name: "bad config value", config: "max-count = 0\n", wantErr: `:1: invalid max-count "0": must be from 1 to 10`},
		{name: "unknown config setting", config: "\nnmae = x\n", wantErr: `:2: unknown setting "nmae"`},
		{name: "config line without equals", config: "verbose\n", wantErr: `:1: want name = value`},
		{name: "config names config", config: "config = other.conf\n", wantErr: `cannot name another config file`},
		{name: "config bad quotes", config: `name = "a"b"` + "\n", wantErr: `bad quoted value`},
		{name: "missing config file", args: []string{"--config", "/nonexistent/haulout.conf"}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.config != "" {
				args = append(args, "--config", writeConfig(t, tc.config))
			}
			fs := newFlagSet("test")
			newTestSettings(fs)
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			_, err := loadSettings(fs, args, lookup, knownTestSetting)
			if err == nil {
				t.Fatal("no error")
			}
			var usage *usageError
			if errors.As(err, &usage) != tc.wantUsage {
				t.Errorf("usage error = %v, want %v (%v)", !tc.wantUsage, tc.wantUsage, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadSettingsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		fs := newFlagSet("test")
		newTestSettings(fs)
		_, err := loadSettings(fs, []string{"a", arg}, func(string) (string, bool) { return "", false }, knownTestSetting)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: err = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"n-shards":       "HAULOUT_N_SHARDS",
		"config":         "HAULOUT_CONFIG",
		"publisher-addr": "HAULOUT_PUBLISHER_ADDR",
	} {
		if got := envName(name); got != want {
			t.Errorf("envName(%q) = %q, want %q", name, got, want)
		}
	}
}
