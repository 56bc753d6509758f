package loginenv

import (
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// ProfileFiles are the files a non-interactive login Bash started with env
// may read before its command, in its order: /etc/profile and what it
// sources on Debian-like systems (/etc/bash.bashrc, /etc/profile.d), the
// first of ~/.bash_profile, ~/.bash_login and ~/.profile (all three are
// listed: creating an earlier one changes which is read), ~/.bashrc (which
// those commonly source), and $BASH_ENV. A file they source from elsewhere
// (nvm.sh, ~/.cargo/env) is not followed: changing only such a file needs
// a touch of one of these, or a restart, to be seen.
func ProfileFiles(env []string) []string {
	get := func(name string) string {
		for _, kv := range env {
			if n, v, ok := strings.Cut(kv, "="); ok && n == name {
				return v
			}
		}
		return ""
	}
	files := []string{"/etc/profile", "/etc/bash.bashrc", "/etc/profile.d"}
	if home := get("HOME"); filepath.IsAbs(home) {
		for _, f := range []string{".bash_profile", ".bash_login", ".profile", ".bashrc"} {
			files = append(files, filepath.Join(home, f))
		}
	}
	if be := get("BASH_ENV"); filepath.IsAbs(be) {
		files = append(files, be)
	}
	return files
}

// A Stamp identifies the content of a set of files as far as stat can:
// creating, removing, replacing or writing one changes it. A directory
// stands for itself and its entries.
type Stamp string

// StampOf stats files (following symbolic links) and, for a directory,
// each of its entries. It costs a stat per file and a directory read per
// directory: cheap enough to check before every call.
func StampOf(files []string) Stamp {
	var b []byte
	var add func(path string, depth int)
	add = func(path string, depth int) {
		b = append(b, path...)
		b = append(b, 0)
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			b = append(b, "missing"...)
			b = append(b, 0)
			return
		}
		for _, v := range []int64{int64(st.Dev), int64(st.Ino), int64(st.Mode), st.Size, int64(st.Mtim.Sec), int64(st.Mtim.Nsec), int64(st.Ctim.Sec), int64(st.Ctim.Nsec)} {
			b = appendInt(b, v)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || depth > 0 {
			return
		}
		names := dirNames(path)
		slices.Sort(names)
		for _, n := range names {
			add(filepath.Join(path, n), depth+1)
		}
	}
	for _, f := range files {
		add(f, 0)
	}
	return Stamp(b)
}

// dirNames lists dir with raw system calls: os.Open would register the
// descriptor with the runtime's poller, which costs more than the read.
func dirNames(dir string) []string {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil || n <= 0 {
			return names
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

func appendInt(b []byte, v int64) []byte {
	for i := range 8 {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}
