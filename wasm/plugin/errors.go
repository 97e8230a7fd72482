package plugin

import "fmt"

// Kinds of failure; an *Error wraps one of them (errors.Is finds it).
var (
	ErrLoad     = kind("cannot be loaded")
	ErrArgs     = kind("was called with invalid arguments")
	ErrTrap     = kind("trapped")
	ErrTimeout  = kind("ran out of time")
	ErrCanceled = kind("was canceled")
	ErrMemory   = kind("ran out of memory")
	ErrABI      = kind("broke the plugin ABI")
	ErrFailed   = kind("failed")
)

type kindError string

func kind(s string) error         { return kindError(s) }
func (k kindError) Error() string { return string(k) }

// Error is a plugin that could not be loaded or whose run did not complete.
type Error struct {
	Plugin string // the plugin's name (Options.Name)
	Kind   error  // one of the Err* kinds above
	Detail string // what happened, e.g. "wasm error: unreachable"
	Stderr string // the first 8 KiB the plugin wrote to stderr
	cause  error  // the underlying error: a wazero error, the context's, an ABI violation
}

func (e *Error) Error() string {
	return fmt.Sprintf("plugin %q %v: %s", e.Plugin, e.Kind, e.Detail)
}

// Unwrap gives errors.Is and errors.As both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}
