package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A command's configuration is a struct whose fields are bound to flags of a
// flag.FlagSet, with their defaults, by the command's constructor. loadSettings
// then fills the flag set from three sources, first one wins:
//
//  1. the command line: --name value or --name=value, before or after the
//     positional arguments ("--" ends the flags);
//  2. the environment: HAULOUT_NAME, the flag name in upper case with '-'
//     as '_' (an empty variable counts as unset);
//  3. the config file named by --config FILE or HAULOUT_CONFIG.
//
// Every value goes through the flag's own flag.Value.Set, so it is parsed and
// checked the same way whatever its source.

const (
	envPrefix  = "HAULOUT_"
	configFlag = "config"
)

// envName returns the environment variable that sets the flag called name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// addConfigFlag defines --config on fs if the command has any setting, and
// reports whether it did.
func addConfigFlag(fs *flag.FlagSet, path *string) bool {
	hasSettings := false
	fs.VisitAll(func(*flag.Flag) { hasSettings = true })
	if hasSettings {
		fs.StringVar(path, configFlag, "", "read settings from `FILE` (see Settings)")
	}
	return hasSettings
}

// loadSettings parses args into fs, then fills every flag not given on the
// command line from the environment and the config file. It returns the
// positional arguments. known reports whether any command has a setting of
// that name, to tell a config-file typo from another command's setting.
func loadSettings(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool), known func(string) bool) ([]string, error) {
	var configPath string
	hasSettings := addConfigFlag(fs, &configPath)

	// The flag package folds a value that its Set refused into the same error
	// as an unknown flag; record it to report it as a bad value, not a bad
	// command line.
	var badValue error
	fs.VisitAll(func(f *flag.Flag) {
		f.Value = &recordingValue{Value: f.Value, name: f.Name, err: &badValue}
	})
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		if badValue != nil {
			return nil, badValue
		}
		return nil, &usageError{msg: err.Error()}
	}

	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !hasSettings {
		return positional, nil
	}

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if envErr != nil || given[f.Name] {
			return
		}
		key := envName(f.Name)
		v, ok := lookupEnv(key)
		if !ok || v == "" {
			return
		}
		if err := f.Value.(*recordingValue).Value.Set(v); err != nil {
			envErr = fmt.Errorf("invalid %s %q: %w", key, v, err)
			return
		}
		given[f.Name] = true
	})
	if envErr != nil {
		return nil, envErr
	}

	if configPath == "" {
		return positional, nil
	}
	if err := applyConfigFile(fs, configPath, given, known); err != nil {
		return nil, err
	}
	return positional, nil
}

// parseInterspersed parses fs from args, letting flags follow positional
// arguments too, and returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// Parse stops at the first non-flag argument, or just after "--",
		// and everything after "--" is positional.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// applyConfigFile sets, from the config file at path, every flag of fs that
// is not yet in given.
//
// The file has one `name = value` per line, name being a flag name without
// dashes. Blank lines and lines starting with '#' are ignored; a value may be
// wrapped in double quotes, which are removed (so simple TOML files of
// strings, numbers and booleans read the same). Names that belong to other
// commands are skipped; names that no command knows are an error.
func applyConfigFile(fs *flag.FlagSet, path string, given map[string]bool, known func(string) bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return fmt.Errorf("%s:%d: want name = value, got %q", path, line, text)
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			unquoted, err := strconv.Unquote(value)
			if err != nil {
				return fmt.Errorf("%s:%d: bad quoted value %s", path, line, value)
			}
			value = unquoted
		}
		if name == configFlag {
			return fmt.Errorf("%s:%d: a config file cannot name another config file", path, line)
		}
		f := fs.Lookup(name)
		if f == nil {
			if !known(name) {
				return fmt.Errorf("%s:%d: unknown setting %q", path, line, name)
			}
			continue
		}
		if given[name] {
			continue
		}
		if err := f.Value.(*recordingValue).Value.Set(value); err != nil {
			return fmt.Errorf("%s:%d: invalid %s %q: %w", path, line, name, value, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// recordingValue wraps a flag's value and keeps the first error its Set
// returns while the command line is parsed.
type recordingValue struct {
	flag.Value
	name string
	err  *error
}

func (v *recordingValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.err == nil {
		*v.err = fmt.Errorf("invalid --%s %q: %w", v.name, s, err)
	}
	return err
}

// IsBoolFlag lets the flag package keep treating a wrapped boolean flag as
// one that needs no value.
func (v *recordingValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// intRange is an integer flag value that accepts only min..max, so that the
// check holds for every source of the setting.
type intRange struct {
	p        *int
	min, max int
}

// intRangeVar defines an integer flag whose values must lie in [min, max].
func intRangeVar(fs *flag.FlagSet, p *int, name string, value, min, max int, usage string) {
	*p = value
	fs.Var(&intRange{p: p, min: min, max: max}, name, usage)
}

func (r *intRange) String() string {
	if r == nil || r.p == nil {
		return "0"
	}
	return strconv.Itoa(*r.p)
}

func (r *intRange) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < int64(r.min) || n > int64(r.max) {
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("not a whole number")
		}
		return fmt.Errorf("must be from %d to %d", r.min, r.max)
	}
	*r.p = int(n)
	return nil
}
