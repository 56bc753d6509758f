//go:build !linux

package repotrust

import (
	"io/fs"
	"os"
	"syscall"
)

// lstatStamp is lstat(2) of p.
func lstatStamp(p string) (stamp, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return stamp{}, err
	}
	return toStamp(fi), nil
}

// statStamp is stat(2) of p.
func statStamp(p string) (stamp, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return stamp{}, err
	}
	return toStamp(fi), nil
}

func toStamp(fi fs.FileInfo) stamp {
	s := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: uint32(fi.Mode().Perm())}
	switch {
	case fi.IsDir():
		s.mode |= modeDir
	case fi.Mode()&fs.ModeSymlink != 0:
		s.mode |= modeSymlink
	case fi.Mode().IsRegular():
		s.mode |= modeRegular
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.id = fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
		s.uid = st.Uid
	}
	return s
}
