package server

import "syscall"

// setParentDeathSignal makes the kernel kill the call if the server dies.
// Strictly it fires when the OS thread that forked exits; the Go runtime
// keeps its threads unless a locked goroutine ends, so this is a backstop
// for a crashed server, not how calls normally end.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
