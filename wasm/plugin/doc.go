// Package plugin runs haulout plugins: WASI command modules that transform
// a blob's bytes on the client (compression, encryption, ...) and return
// attributes to store with it, under the ABI of package wasm/plugin/abi.
//
// Load compiles a module once; Run instantiates it afresh for each blob, so
// runs share nothing and may run concurrently. Every run is sandboxed: no
// filesystem unless Options.Mounts grants directories, no network (the ABI
// gives plugins no sockets), a cap on linear memory, a cap on output, and
// the caller's context (plus Options.Timeout) as a time limit that stops
// even a plugin that never yields. Random bytes and clocks come from the
// host. A run that traps, runs out of time or memory, fails or breaks the
// ABI returns an *Error that names the plugin and says which; Run returns
// output only from a run that completed, never part of one, and a
// misbehaving plugin cannot crash the host.
package plugin
