package sandbox

import (
	"bytes"
	"os"

	"golang.org/x/sys/unix"
)

// mountWatch tells whether the process's mount table has changed since an
// earlier moment: a spare helper with namespaces carries a copy of the
// table from when it started, and must not run a call after the table has
// changed (it would not see a disk mounted since).
//
// Cheap in the common case: the kernel flags /proc/self/mountinfo for poll
// after every change, and only then is the table read and compared, so that
// a flag without a difference (a mount made and undone since, or a flag
// raised by activity that changed nothing visible) keeps the spares.
type mountWatch struct {
	fd    int    // /proc/self/mountinfo, for poll
	table []byte // the table as last read
	gen   uint64 // bumped on every change seen in the table
}

const mountInfoPath = "/proc/self/mountinfo"

// openMountWatch starts watching; nil if the table cannot be read.
func openMountWatch() *mountWatch {
	fd, err := unix.Open(mountInfoPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	// Read after open: a change in between raises the flag, and costs
	// at most one needless comparison.
	table, err := os.ReadFile(mountInfoPath)
	if err != nil {
		unix.Close(fd)
		return nil
	}
	return &mountWatch{fd: fd, table: table}
}

// generation is a number that changes whenever the mount table does. ok is
// false when that can no longer be told; the caller must then assume a
// change.
func (w *mountWatch) generation() (gen uint64, ok bool) {
	revents, err := pollNow(w.fd, unix.POLLPRI)
	if err != nil {
		return 0, false
	}
	if revents&(unix.POLLPRI|unix.POLLERR) == 0 {
		return w.gen, true
	}
	table, err := os.ReadFile(mountInfoPath)
	if err != nil {
		return 0, false
	}
	if !bytes.Equal(table, w.table) {
		w.table = table
		w.gen++
	}
	return w.gen, true
}

func (w *mountWatch) close() { unix.Close(w.fd) }
