package server

import "syscall"

// setParentDeathSignal makes the kernel kill the call if the server dies.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
