package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/haulout/haulout/codec"
)

func blobIDCommand() command {
	return command{
		name:    "blob-id",
		args:    "FILE|-",
		summary: "print the Walrus blob ID of a file",
		help: `Prints the blob ID that Walrus gives FILE (standard input for -) when it is
encoded for N shards, and nothing else: 43 characters of URL-safe base64, then
a newline. Nothing is sent anywhere.

Example:
  printf 'hello world' | haulout blob-id -
  vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ`,
		new: newBlobIDConfig,
	}
}

// blobIDConfig is the configuration of `haulout blob-id`.
type blobIDConfig struct {
	// NShards is the number of shards of the committee the blob is encoded
	// for, 1 to 65535. The blob ID depends on it.
	NShards int
}

func newBlobIDConfig(fs *flag.FlagSet) runner {
	cfg := &blobIDConfig{}
	intRangeVar(fs, &cfg.NShards, "n-shards", 1000, 1, 65535,
		"encode for `N` shards, 1 to 65535")
	return cfg
}

func (cfg *blobIDConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) != 1 {
		return usagef("want one FILE, or - for standard input; got %d arguments", len(args))
	}
	data, err := readInput(args[0], c.stdin)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	id, err := codec.ComputeBlobID(data, cfg.NShards)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, id)
	return err
}

// readInput returns the contents of the file called name, or all of stdin
// when name is "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return data, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a file", name)
	}
	// Read into a buffer of the file's size, not a growing one: blobs may be
	// hundreds of megabytes.
	buf := bytes.NewBuffer(make([]byte, 0, info.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
