package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Where this process's pids cgroup is, and what the kernel offers, for
// the bound on a call's processes (pids_linux.go).

// ownPidsCgroup is the directory of this process's pids cgroup: the v1
// pids hierarchy's, else the unified (v2) one's.
func ownPidsCgroup() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var v1, v2 string
	haveV1, haveV2 := false, false
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2, haveV2 = parts[2], true
		case hasField(parts[1], "pids"):
			v1, haveV1 = parts[2], true
		}
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return "", err
	}
	switch {
	case haveV1 && mounts.v1 != "":
		return mountedPath(mounts.v1, mounts.v1Root, v1)
	case haveV2 && mounts.v2 != "":
		return mountedPath(mounts.v2, mounts.v2Root, v2)
	}
	return "", errors.New("no pids controller is mounted")
}

func hasField(list, name string) bool {
	for _, f := range strings.Split(list, ",") {
		if f == name {
			return true
		}
	}
	return false
}

// mountedPath is the directory of cgroup path under a hierarchy mounted at
// mnt whose root is root (a container may see a subtree only).
func mountedPath(mnt, root, path string) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("our cgroup %s is outside the mounted hierarchy %s", path, root)
	}
	return filepath.Join(mnt, rel), nil
}

type cgroupMountInfo struct {
	v1, v1Root, v2, v2Root string
}

// cgroupMounts finds the v1 pids hierarchy and the v2 one in mountinfo.
func cgroupMounts() (cgroupMountInfo, error) {
	var m cgroupMountInfo
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		root, err := unescapeMountPath(pf[3])
		if err != nil {
			continue
		}
		mnt, err := unescapeMountPath(pf[4])
		if err != nil {
			continue
		}
		switch {
		case qf[0] == "cgroup" && hasField(qf[2], "pids") && m.v1 == "":
			m.v1, m.v1Root = mnt, root
		case qf[0] == "cgroup2" && m.v2 == "":
			m.v2, m.v2Root = mnt, root
		}
	}
	return m, sc.Err()
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
