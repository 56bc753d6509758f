package repotrust

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// hasGitlinks reports whether the index file at path records a submodule
// (an entry of mode 160000): git enters each populated submodule through
// the .git in its directory of the work tree. hashLen is the repository's
// object ID size (20 for SHA-1, 32 for SHA-256). A missing index has none.
// An index can hold a million entries: the answer is remembered per state
// of the file.
func (v *view) hasGitlinks(path string, hashLen int) (bool, error) {
	st, err := v.stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	kind := fmt.Sprintf("gitlinks/%d", hashLen)
	if has, ok := v.files.get(kind, path, st); ok {
		return has.(bool), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	has, err := scanGitlinks(bufio.NewReaderSize(f, 64<<10), hashLen)
	if err != nil {
		return false, fmt.Errorf("index %s: %w", path, err)
	}
	v.files.put(kind, path, st, has)
	return has, nil
}

// scanGitlinks reads index format 2, 3 or 4 (git's index-format.txt) up to
// the first gitlink entry.
func scanGitlinks(r *bufio.Reader, hashLen int) (bool, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return false, err
	}
	if string(hdr[:4]) != "DIRC" {
		return false, errors.New("not an index file")
	}
	version := binary.BigEndian.Uint32(hdr[4:8])
	if version < 2 || version > 4 {
		return false, fmt.Errorf("unknown index version %d", version)
	}
	count := binary.BigEndian.Uint32(hdr[8:12])
	// ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each),
	// the object ID, flags (2).
	fixed := 40 + hashLen + 2
	entry := make([]byte, fixed+2)
	for range count {
		if _, err := io.ReadFull(r, entry[:fixed]); err != nil {
			return false, err
		}
		mode := binary.BigEndian.Uint32(entry[24:28])
		if mode&0o170000 == 0o160000 {
			return true, nil
		}
		flags := binary.BigEndian.Uint16(entry[fixed-2 : fixed])
		n := fixed
		if version >= 3 && flags&0x4000 != 0 { // extended flags
			if _, err := io.ReadFull(r, entry[fixed:fixed+2]); err != nil {
				return false, err
			}
			n += 2
		}
		if version == 4 {
			// A varint (how much of the previous name to drop), then the
			// rest of the name, NUL-terminated; no padding.
			for {
				b, err := r.ReadByte()
				if err != nil {
					return false, err
				}
				if b&0x80 == 0 {
					break
				}
			}
			if _, err := r.ReadSlice(0); err != nil {
				return false, err
			}
			continue
		}
		// The name, then 1 to 8 NULs padding the entry to a multiple of 8.
		name, err := r.ReadSlice(0)
		if errors.Is(err, bufio.ErrBufferFull) {
			return false, errors.New("entry name too long")
		}
		if err != nil {
			return false, err
		}
		size := n + len(name) // len counts the first NUL
		if pad := (8 - size%8) % 8; pad > 0 {
			if _, err := r.Discard(pad); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}
