package repotrust

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
)

// fileID identifies a file by device and inode, whatever its name.
type fileID struct{ dev, ino uint64 }

// stamp identifies one state of a file: its identity, type and
// permissions, owner, size and times. git replaces the files it rewrites (a new
// inode); anything else that changes a file changes its times.
type stamp struct {
	id           fileID
	mode         uint32 // S_IFMT and permission bits
	uid          uint32 // the owner
	size         int64
	mtime, ctime int64
}

const (
	modeType    = 0o170000
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
)

func (s stamp) isDir() bool     { return s.mode&modeType == modeDir }
func (s stamp) isRegular() bool { return s.mode&modeType == modeRegular }
func (s stamp) isSymlink() bool { return s.mode&modeType == modeSymlink }

// within reports whether p is dir or lies below it (both clean, absolute).
func within(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// parent is the directory containing p ("/" for "/").
func parent(p string) string { return filepath.Dir(p) }

// errLoop is returned for a path with too many symlinks.
var errLoop = errors.New("too many levels of symbolic links")

// fileCache keeps what was read from files, by path and stamp, across
// checks: every escalated git reads the same configuration, HEAD, hooks
// directory and index, and a changed file has a changed stamp.
type fileCache struct {
	mu sync.Mutex
	m  map[cacheKey]cached
}

type cacheKey struct{ kind, path string }

type cached struct {
	stamp stamp
	value any
}

// maxCached bounds the cache; reaching it empties it.
const maxCached = 512

func (c *fileCache) get(kind, path string, st stamp) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[cacheKey{kind, path}]
	if !ok || e.stamp != st {
		return nil, false
	}
	return e.value, true
}

func (c *fileCache) put(kind, path string, st stamp, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = map[cacheKey]cached{}
	}
	c.m[cacheKey{kind, path}] = cached{st, v}
}
