// Package abi is version 1 of haulout's plugin ABI, the contract between a
// plugin (a WASI command module) and the host that runs it (package
// wasm/plugin). A plugin transforms the bytes of a blob on the way to
// storage (forward) and back on read (reverse), and may return key/value
// attributes that are stored with the blob.
//
// # The contract
//
// A plugin is a WebAssembly module that imports only from
// wasi_snapshot_preview1 and exports _start and memory: a WASI command,
// what GOOS=wasip1 go build makes. One run transforms one blob:
//
//	argv    [0] the plugin's name as the host knows it; [1] "forward" or
//	        "reverse"; [2:] the user's arguments, "key=value", sorted by key
//	environ HAULOUT_PLUGIN_ABI=1
//	stdin   the input bytes, until end of file
//	stdout  records, below
//	stderr  free text; the host shows its first line when the run fails
//	exit    0 after an end record; anything else is a failure
//
// A record is a kind byte, a u32 little-endian payload length and the
// payload:
//
//	'H' hello, first and once: "haulout-plugin/1 NAME VERSION", the ABI
//	    version and what the plugin calls itself (NAME matches
//	    [a-z0-9][a-z0-9._-]{0,63}; VERSION is 1 to 64 printable ASCII
//	    characters without spaces)
//	'D' data: the next bytes of the output, at most MaxChunk of them
//	'A' attribute: "key=value", the key as NAME above but not "plugin"
//	    or "plugin.version", the value at most 1024 bytes of UTF-8; each
//	    key once, at most 64 attributes
//	'E' end, empty, last: the output is complete
//
// The host sets the attributes "plugin" and "plugin.version" from the hello
// record. It stops a plugin (and reports which rule it broke) as soon as its
// output breaks a rule, or exceeds the host's output limit.
//
// Why a command with streams rather than exported functions: a WASI command
// is what every toolchain that targets WASI produces without extra glue
// (Go's wasip1 port cannot yet export functions that do I/O), the input and
// output stream through bounded buffers however large the blob, and the
// host needs nothing beyond WASI; records add only what a byte stream
// lacks: the version handshake, attributes, and a positive end marker, so
// that output cut short is never mistaken for a result.
//
// Plugins in Go use Serve; the host side uses Decoder.
package abi
