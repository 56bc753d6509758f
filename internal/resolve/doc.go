// Package resolve turns a path a sandboxed program named into the file the
// server may act on outside the sandbox: every symbolic link followed in the
// server's own view, once, and the result opened, so that what the policy
// checks and what runs are the same file.
//
// Paths the sandbox could make mean something else are refused rather than
// resolved: anything through /proc (its magic links lead into other
// processes' roots, working directories and file descriptors, whose view
// differs from the server's) and any symbolic link inside a writable root
// (the sandbox can re-point it at any moment).
package resolve

import "io/fs"

// A File is a resolved, opened path.
type File struct {
	// Path is absolute and clean, with no symbolic link left in it.
	Path string
	// Type is fs.ModeDir for a directory, 0 for a regular file and
	// fs.ModeIrregular for anything else, as the file was when opened.
	Type fs.FileMode
	fd   int
}

// Fd is the file's O_PATH descriptor (close-on-exec), valid until Close.
func (f *File) Fd() int { return f.fd }

// IsDir reports whether the file is a directory.
func (f *File) IsDir() bool { return f.Type == fs.ModeDir }

// IsRegular reports whether the file is a regular file.
func (f *File) IsRegular() bool { return f.Type == 0 }

// Error says why a path was refused or could not be resolved.
type Error struct {
	Path string // the path asked for
	Why  string // what is wrong with it, for a person
	Err  error  // the underlying errno, if any
}

func (e *Error) Error() string { return e.Path + ": " + e.Why }

func (e *Error) Unwrap() error { return e.Err }
