package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// AuditFile is the audit log: JSON lines appended to a regular file.
//
//   - Each record goes to the file in one write(2) on an O_APPEND
//     descriptor, so records of concurrent calls (and of other servers
//     appending to the same file) never interleave. A write the disk cut
//     short leaves a torn line: the next record starts on a new line, so
//     every record after it still parses.
//   - The path is checked before each record: when logrotate renamed the
//     file or someone deleted it, the file is opened (created) again, so
//     records never go to an inode nobody reads.
//   - Only a regular file on a disk filesystem is accepted (not /dev/full,
//     a FIFO, nor /proc/version), at startup and on every reopen.
type AuditFile struct {
	path string

	mu   sync.Mutex
	f    *os.File
	fi   os.FileInfo // of f, to tell when the path names another file
	torn bool        // the last write was cut short
}

// OpenAuditFile opens path for appending records, created 0600 (argv may
// hold secrets).
func OpenAuditFile(path string) (*AuditFile, error) {
	a := &AuditFile{path: path}
	if err := a.open(0); err != nil {
		return nil, err
	}
	return a, nil
}

// Path is the audit log's path.
func (a *AuditFile) Path() string { return a.path }

// open (re)opens a.path with the extra open flags; a.mu is held or a is
// not shared yet.
func (a *AuditFile) open(flags int) error {
	if fi, err := os.Stat(a.path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("audit log %s: not a regular file (%s)", a.path, kindOf(fi.Mode()))
	}
	// O_NONBLOCK: should the path become a FIFO now, opening it for
	// writing would wait for a reader; it is refused below anyway. It
	// means nothing for a regular file.
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK|flags, 0o600)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%s)", kindOf(fi.Mode()))
	}
	if err == nil {
		err = onDiskFilesystem(f)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	if a.f != nil {
		a.f.Close()
	}
	a.f, a.fi, a.torn = f, fi, false
	return nil
}

// WriteRecord appends line (one JSON record, no newline) in one write.
func (a *AuditFile) WriteRecord(line []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if fi, err := os.Stat(a.path); err != nil || !os.SameFile(fi, a.fi) {
		// Rotated, deleted or replaced: records go where readers look. Not
		// through a symlink: logrotate makes none, and one put there
		// would send the records into another file.
		if err := a.open(syscall.O_NOFOLLOW); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, len(line)+2)
	if a.torn {
		buf = append(buf, '\n')
	}
	buf = append(append(buf, line...), '\n')
	n, err := writeOnce(a.f, buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		a.torn = a.torn || n > 0
		return fmt.Errorf("audit log %s: writing a record (%d of %d bytes written): %w", a.path, n, len(buf), err)
	}
	a.torn = false
	return nil
}

// Close closes the file.
func (a *AuditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// writeOnce is a single write(2) of buf to f: unlike f.Write it does not
// go on after a short write, which would tear the record in two.
func writeOnce(f *os.File, buf []byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), buf)
			if !errors.Is(werr, syscall.EINTR) {
				return true
			}
		}
	}); err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	return n, werr
}

// kindOf names a file type for an error message.
func kindOf(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// CheckAuditFile reports, for `execgate doctor`, whether path would be
// accepted as the audit log, without creating it.
func CheckAuditFile(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		dir, derr := os.Stat(filepath.Dir(path))
		if derr != nil {
			return "", fmt.Errorf("audit log %s: %w", path, derr)
		}
		if !dir.IsDir() {
			return "", fmt.Errorf("audit log %s: %s is not a directory", path, filepath.Dir(path))
		}
		return "not present yet; the server creates it (mode 0600)", nil
	case err != nil:
		return "", fmt.Errorf("audit log %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("audit log %s: not a regular file (%s)", path, kindOf(fi.Mode()))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", fmt.Errorf("audit log %s: %w", path, err)
	}
	defer f.Close()
	if err := onDiskFilesystem(f); err != nil {
		return "", fmt.Errorf("audit log %s: %w", path, err)
	}
	return fmt.Sprintf("writable, %d bytes", fi.Size()), nil
}
