package repotrust

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// fileID identifies a file by device and inode, whatever its name.
type fileID struct{ dev, ino uint64 }

// lstatID identifies p itself (a symlink is not followed); ok is false when
// p does not exist or cannot be examined.
func lstatID(p string) (fileID, bool) {
	fi, err := os.Lstat(p)
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}

// within reports whether p is dir or lies below it (both clean, absolute).
func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// parent is the directory containing p ("/" for "/").
func parent(p string) string { return filepath.Dir(p) }
