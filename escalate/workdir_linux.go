package escalate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// workdir is an escalated command's working directory, checked and pinned:
// the sandbox can write where the path points, so the directory is opened
// once (O_PATH) and the child changes into that very directory through
// /proc/self/fd, whatever happens to the path afterwards.
type workdir struct {
	f     *os.File
	chdir string // what the child passes to chdir
}

func openWorkdir(dir string) (*workdir, error) {
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workdir %s does not exist", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("workdir %s: %w", dir, err)
	}
	fd, err := unix.Open(real, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	switch {
	case err == unix.ENOTDIR:
		return nil, fmt.Errorf("workdir %s is not a directory", dir)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("workdir %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("workdir %s: open %s: %w", dir, real, err)
	}
	w := &workdir{f: os.NewFile(uintptr(fd), real), chdir: real}
	// The child runs chdir before exec, while it still holds a copy of fd.
	// Without /proc (unusual outside a sandbox) the checked path is used.
	if link := "/proc/self/fd/" + strconv.Itoa(fd); unix.Access(link, unix.X_OK) == nil {
		w.chdir = link
	}
	return w, nil
}

func (w *workdir) Close() error { return w.f.Close() }
