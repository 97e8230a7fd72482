package publisher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/haulout/haulout/internal/apierr"
	"github.com/haulout/haulout/wasm/plugin"
)

// UploadPlugin is an operator's plugin (package wasm/plugin: a sandboxed
// WASI module) that transforms every blob uploaded through PUT /v1/blobs
// before it is encoded, run forward with Args. The attributes it returns
// are set on the blob's Blob object, beside the upload's own.
type UploadPlugin struct {
	Plugin *plugin.Plugin
	Args   map[string]string
}

const reasonPluginFailed = "UPLOAD_PLUGIN_FAILED"

// transform runs the upload plugins, in order, over the spooled body of job
// id at path, replacing the spool file with each one's output. It returns
// the final size and the plugins' attributes (a later plugin's win). A
// plugin's output is held in memory while it is spooled: it is bounded by
// the plugin's Options.MaxOutput.
func (p *Publisher) transform(ctx context.Context, id, path string) (int64, map[string]string, error) {
	attrs := map[string]string{}
	var size int64
	for _, up := range p.cfg.Plugins {
		f, err := os.Open(path)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: %v", errSpool, err)
		}
		out, a, err := up.Plugin.Run(ctx, plugin.Forward, up.Args, f)
		f.Close()
		if err != nil {
			if ctx.Err() != nil {
				return 0, nil, context.Cause(ctx)
			}
			var pe *plugin.Error
			if errors.As(err, &pe) {
				return 0, nil, apierr.Wrap(err, apierr.InvalidArgument, apierr.DomainDaemon, reasonPluginFailed,
					"the upload plugin %s refused the blob: %v", up.Plugin.Name(), err)
			}
			return 0, nil, fmt.Errorf("upload plugin %s: %w", up.Plugin.Name(), err)
		}
		// The output replaces the spool file (renamed over it).
		if path, err = p.spool.writeBytes(id, out); err != nil {
			return 0, nil, err
		}
		size = int64(len(out))
		maps.Copy(attrs, a)
	}
	return size, attrs, nil
}
