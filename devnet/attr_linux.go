package devnet

import "syscall"

// childAttr puts a service in its own process group, so that Ctrl-C on
// the terminal reaches only the devnet, which stops the services in order;
// and makes it die with the devnet even if the devnet itself is killed, so
// no orphans outlive it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
