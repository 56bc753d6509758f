package sandbox

// Reading the mount table: the server sends a helper the mount points
// outside the writable roots where the helper must make them read-only one
// by one (see Capabilities.MountAPIError), and finds cgroup mounts
// (cgroupfind_linux.go).

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// mountPointsOutside lists this process's mount points, parents first,
// that lie in none of keep. The helper's namespace starts as a copy of
// this table (a spare's is discarded when it changes: mountWatch).
func mountPointsOutside(keep []pathID) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("sandbox: list mounts: %w", err)
	}
	points, err := mountPoints(b)
	if err != nil {
		return nil, fmt.Errorf("sandbox: /proc/self/mountinfo: %w", err)
	}
	dirs := make([]string, len(keep))
	for i, k := range keep {
		dirs[i] = k.Path
	}
	var out []string
	for _, mp := range points {
		if !coveredBy(mp.path, dirs) {
			out = append(out, mp.path)
		}
	}
	return out, nil
}

// mountPoint is one line of mountinfo.
type mountPoint struct{ path, fstype string }

// mountPoints lists the mount points of a /proc/self/mountinfo table, in
// its order (parents before children).
func mountPoints(table []byte) ([]mountPoint, error) {
	var out []mountPoint
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			return nil, fmt.Errorf("mountinfo line %q: too few fields", sc.Text())
		}
		p, err := unescapeMountPath(f[4])
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %q: %w", sc.Text(), err)
		}
		// The filesystem type follows the " - " separator.
		fstype := ""
		if i := slices.Index(f, "-"); i > 0 && i+1 < len(f) {
			fstype = f[i+1]
		}
		out = append(out, mountPoint{p, fstype})
	}
	return out, sc.Err()
}

// unescapeMountPath undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in a mountinfo path.
func unescapeMountPath(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		n, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape in %q: %w", s, err)
		}
		b.WriteByte(byte(n))
		i += 3
	}
	return b.String(), nil
}

// coveredBy reports whether p lies in one of dirs.
func coveredBy(p string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return within(p, d) })
}
