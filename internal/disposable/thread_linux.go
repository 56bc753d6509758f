// Package disposable runs a function on an OS thread of its own that ends
// afterwards: what the function does to its thread (a seccomp filter,
// no_new_privs, a namespace) goes with it, and no other goroutine ever
// runs there, nor does a thread the Go runtime starts inherit it (the
// runtime starts no thread from a locked one).
package disposable

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Thread runs f on a fresh OS thread that ends when f returns, and returns
// f's error. A process started by f (forked from that thread) inherits
// the thread's state.
func Thread(f func() error) error {
	done := make(chan error, 1)
	var run func(held chan<- struct{})
	run = func(held chan<- struct{}) {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if held != nil {
			close(held)
		}
		if unix.Gettid() == unix.Getpid() {
			// The main thread is not ended but parked when its goroutine
			// exits locked: its state would stay, and show in
			// /proc/PID/status. Another goroutine takes another thread
			// while this one is held, then this one is let go.
			next := make(chan struct{})
			go run(next)
			<-next
			runtime.UnlockOSThread()
			return
		}
		done <- f()
	}
	go run(nil)
	return <-done
}
