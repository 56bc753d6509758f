// Package parked waits for a child process to exit, or for a descriptor to
// become readable, with the waiting goroutine parked in the Go netpoller
// rather than an OS thread blocked in a system call (waitid, poll).
//
// Why it matters for the server: while any thread is blocked in a system
// call the Go runtime's monitor thread (sysmon) cannot go to sleep, and
// polls every 20 µs to see whether it should take that thread's processor
// back. Each of those wake-ups is a context switch; measured on a 2-core VM
// they were about a third of the server's own CPU per trivial shell call,
// because every call waited for its sandbox helper in waitid(2) and for the
// next spare helper in poll(2). Parked in the netpoller, an idle server has
// no thread in a system call and the monitor sleeps.
package parked
