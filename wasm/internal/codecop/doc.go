// Package codecop is what the JavaScript (wasm/js) and WASI (wasm/wasip1)
// entry points of the codec share: the memory an operation needs before it
// starts, the choice of axis when decoding from mixed slivers, metadata in
// either of its BCS forms, and stable error codes for codec errors.
//
// It is not a second codec: every byte comes from package codec. Its
// estimates are upper bounds on the Go heap an operation allocates (its tests
// measure the allocations of real runs against them), so an entry point can
// refuse work it cannot hold before it allocates anything.
package codecop
