//go:build !linux

package devnet

import "syscall"

func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
