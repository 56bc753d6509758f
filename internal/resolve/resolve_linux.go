package resolve

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symbolic links one resolution follows, as the kernel's
// ELOOP limit does.
const maxLinks = 40

// Open resolves path (absolute; cleaned lexically first, as rules see it)
// and opens the file it names with O_PATH. roots are the resolved
// directories the sandbox can write: a symbolic link inside one of them is
// refused. The caller owns the returned File.
func Open(path string, roots []string) (*File, error) {
	if !filepath.IsAbs(path) {
		return nil, &Error{Path: path, Why: "not an absolute path"}
	}
	path = filepath.Clean(path)
	if inProc(path) {
		return nil, refusedProc(path)
	}
	// Most programs and directories are reached without any symbolic
	// link: one openat2 that refuses every link settles them. ELOOP means
	// there is a link to examine; other failures are a kernel (before
	// 5.6) or a seccomp filter without openat2.
	fd, err := openNoLinks(unix.AT_FDCWD, path)
	switch {
	case err == nil:
		return opened(path, fd)
	case err == unix.ENOENT || err == unix.ENOTDIR || err == unix.EACCES:
		return nil, &Error{Path: path, Why: err.Error(), Err: err}
	}
	return walk(path, roots, err == unix.ELOOP)
}

// openNoLinks opens path (relative to dir) with O_PATH if no component of
// it is a symbolic link: ELOOP if one is, ENOSYS (or EPERM from a seccomp
// filter) without openat2.
func openNoLinks(dir int, path string) (int, error) {
	return unix.Openat2(dir, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// walk resolves path one component at a time, each opened relative to the
// directory reached so far with O_NOFOLLOW: no step can be redirected by a
// concurrent rename above it, and every link met is examined before its
// text is followed. With openat2 (haveOpenat2), what is left after each
// link is first tried in one go, refusing links: usually the one link of a
// path (/bin -> usr/bin) is all there is.
func walk(path string, roots []string, haveOpenat2 bool) (*File, error) {
	dir, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Path: path, Why: "open /: " + err.Error(), Err: err}
	}
	real := "/"
	todo := strings.Split(path, "/")
	links := 0
	tryRest := false
	for len(todo) > 0 {
		if tryRest {
			tryRest = false
			if rest := strings.Trim(strings.Join(todo, "/"), "/"); rest != "" {
				fd, err := openNoLinks(dir, rest)
				if err == nil {
					unix.Close(dir)
					real = filepath.Join(real, rest)
					if inProc(real) {
						unix.Close(fd)
						return nil, refusedProc(path)
					}
					return opened(real, fd)
				}
				haveOpenat2 = err == unix.ELOOP || err == unix.ENOENT || err == unix.ENOTDIR || err == unix.EACCES
			}
		}
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			// Only link text can hold "..", and real has no link in
			// it, so its parent is the directory's parent.
			parent, err := unix.Openat(dir, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			unix.Close(dir)
			if err != nil {
				return nil, &Error{Path: path, Why: "open " + filepath.Dir(real) + ": " + err.Error(), Err: err}
			}
			dir, real = parent, filepath.Dir(real)
			continue
		}
		next := filepath.Join(real, comp)
		fd, err := unix.Openat(dir, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(dir)
			why := err.Error()
			if next != path {
				why = next + ": " + why
			}
			return nil, &Error{Path: path, Why: why, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			unix.Close(dir)
			return nil, &Error{Path: path, Why: "stat " + next + ": " + err.Error(), Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			unix.Close(dir)
			dir, real = fd, next
			if inProc(real) {
				unix.Close(dir)
				return nil, refusedProc(path)
			}
			continue
		}
		target, why := followable(dir, fd, next, roots)
		unix.Close(fd)
		if why == "" {
			if links++; links > maxLinks {
				why = "too many levels of symbolic links"
			}
		}
		if why != "" {
			unix.Close(dir)
			return nil, &Error{Path: path, Why: why, Err: unix.ELOOP}
		}
		if filepath.IsAbs(target) {
			root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			unix.Close(dir)
			if err != nil {
				return nil, &Error{Path: path, Why: "open /: " + err.Error(), Err: err}
			}
			dir, real = root, "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
		tryRest = haveOpenat2
	}
	return opened(real, dir)
}

// followable reads the symbolic link fd, found at path link in directory
// dir, or says why it must not be followed.
func followable(dir, fd int, link string, roots []string) (target, why string) {
	for _, r := range roots {
		if within(link, r) {
			return "", fmt.Sprintf("reached through the symbolic link %s inside the writable root %s, which the sandbox can re-point", link, r)
		}
	}
	// A link on a procfs mounted elsewhere is as magic as one in /proc.
	var fs unix.Statfs_t
	if err := unix.Fstatfs(dir, &fs); err != nil || fs.Type == unix.PROC_SUPER_MAGIC {
		return "", "goes through the /proc link " + link + ", which leads into another process's view of the filesystem"
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", "read the symbolic link " + link + ": " + err.Error()
	}
	if n == len(buf) {
		return "", "the symbolic link " + link + " is too long"
	}
	return string(buf[:n]), ""
}

// opened wraps fd, the O_PATH descriptor of the file at the resolved path.
func opened(path string, fd int) (*File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &Error{Path: path, Why: "stat: " + err.Error(), Err: err}
	}
	f := &File{Path: path, fd: fd}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		f.Type = fs.ModeDir
	case unix.S_IFREG:
		f.Type = 0
	default:
		f.Type = fs.ModeIrregular
	}
	return f, nil
}

// Close releases the descriptor.
func (f *File) Close() error { return unix.Close(f.fd) }

func inProc(path string) bool { return within(path, "/proc") }

func refusedProc(path string) error {
	return &Error{Path: path, Why: "goes through /proc, whose links lead into other processes' views of the filesystem", Err: unix.EPERM}
}

// within reports whether path is dir or lies below it (both clean and
// absolute).
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
