package devnet

import "syscall"

// childAttr makes a service die with the devnet even if the devnet itself
// is killed, so no orphans outlive it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
