// Package host runs haulout's codec as a WASI module (wasm/wasip1, built as
// haulout-wasip1.wasm) under wazero, from Go: the same codec the services
// link natively, in a sandbox with a memory cap and the caller's deadline.
// It exists so that the WASI build is exercised and measured against the
// native codec (see host_test.go), and for hosts that prefer to run the
// codec isolated.
//
// New compiles the module once; every call instantiates it afresh (the
// module is a command: one operation per run), so calls share no state and
// may run concurrently. Results are the module's bytes, unparsed: BCS
// metadata and slivers exactly as it wrote them. The protocol is in the
// wasip1 command's doc comment and in wasm/README.md.
package host
