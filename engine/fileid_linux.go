package engine

import (
	"fmt"
	"os"
	"syscall"
)

// fileID identifies a file's content as far as a stat can: replacing or
// rewriting the file changes it.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime syscall.Timespec
}

func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, nil
}

// unchanged fails when path no longer is the file probed at startup: a
// replaced Bash might not intercept execs, a replaced wrapper might not ask.
func unchanged(what, path string, want fileID) error {
	got, err := statID(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != want {
		return fmt.Errorf("%s %s changed since the server started; restart the server to probe it again", what, path)
	}
	return nil
}
