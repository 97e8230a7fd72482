// Package httpserve runs an http.Server for as long as a context lives and
// then shuts it down gracefully, the one way every haulout service serves.
//
// It is not a framework: services build their own handlers and servers; this
// package only owns the serve/shutdown lifecycle so that it is written once.
package httpserve
