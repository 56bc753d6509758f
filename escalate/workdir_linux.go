package escalate

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/execgate/execgate/internal/resolve"
	"golang.org/x/sys/unix"
)

// workdir is an escalated command's working directory, checked and pinned:
// the request names it, the sandbox can write where the path points, so the
// directory is resolved and opened once (internal/resolve) and the command
// starts in that very directory, whatever happens to the path afterwards.
//
// Which directories are accepted: any the sandboxed shell could have made
// its own working directory. The sandbox reads (and searches) everywhere
// the user can and cannot mount anything, so its view of the filesystem is
// the server's except under /proc; a request's workdir must therefore
// resolve without /proc and without a symbolic link inside a writable root,
// be a directory, and be searchable by the user. A forged request thus gains
// no directory the script could not `cd` to itself.
type workdir struct {
	*resolve.File
}

func openWorkdir(dir string, roots []string) (*workdir, error) {
	f, err := resolve.Open(dir, roots)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("workdir %s does not exist", dir)
	case err != nil:
		return nil, fmt.Errorf("workdir %w", err)
	case !f.IsDir():
		f.Close()
		return nil, fmt.Errorf("workdir %s is not a directory", dir)
	}
	// The path was just resolved: a swap here only makes the command fail
	// to start (it changes into the descriptor, see ReaperMain).
	if err := unix.Access(f.Path, unix.X_OK); err != nil {
		f.Close()
		return nil, fmt.Errorf("workdir %s: %s is not searchable by this user: %w", dir, f.Path, err)
	}
	return &workdir{f}, nil
}
