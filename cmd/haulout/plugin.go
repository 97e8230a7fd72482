package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tetratelabs/wazero"

	"github.com/haulout/haulout/wasm/plugin"
)

// pluginFlags are --plugin and --plugin-arg, shared by store and read.
type pluginFlags struct {
	Path string
	Args kvList
}

func (p *pluginFlags) register(fs *flag.FlagSet, direction string) {
	p.Args = kvList{}
	fs.StringVar(&p.Path, "plugin", "", "run the plugin `FILE.wasm` over each blob "+direction)
	fs.Var(p.Args, "plugin-arg", "pass `KEY=VALUE` to the plugin (repeatable)")
}

// load compiles the plugin, keeping compiled code under the user's cache
// directory so that the next run starts at once; nil without --plugin.
func (p *pluginFlags) load(ctx context.Context) (*plugin.Plugin, error) {
	if p.Path == "" {
		if len(p.Args) > 0 {
			return nil, fmt.Errorf("--plugin-arg without --plugin")
		}
		return nil, nil
	}
	wasm, err := os.ReadFile(p.Path)
	if err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	opts := plugin.Options{Name: strings.TrimSuffix(filepath.Base(p.Path), ".wasm")}
	if dir, err := os.UserCacheDir(); err == nil {
		if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "haulout", "wazero")); err == nil {
			opts.Cache = cache
		}
	}
	pl, err := plugin.Load(ctx, wasm, opts)
	if err != nil {
		return nil, err
	}
	return pl, nil
}
