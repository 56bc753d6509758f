package sandbox

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestMountPoints: the mount(2) fallback reads mount points from
// mountinfo, where the kernel escapes spaces, tabs, newlines and
// backslashes; a point read wrongly would be left writable.
func TestMountPoints(t *testing.T) {
	table := "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		`40 22 0:35 / /mnt/a\040b\011c\134d rw,nosuid - tmpfs tmpfs rw` + "\n" +
		"41 22 0:36 / /proc rw - proc proc rw\n"
	got, err := mountPoints([]byte(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []mountPoint{{"/", "ext4"}, {"/mnt/a b\tc\\d", "tmpfs"}, {"/proc", "proc"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mountPoints = %q, want %q", got, want)
	}
	for _, bad := range []string{"1 2 3 4\n", `1 2 3 / /x\04 rw - t t rw` + "\n", `1 2 3 / /x\9zz rw - t t rw` + "\n"} {
		if _, err := mountPoints([]byte(bad)); err == nil {
			t.Errorf("mountPoints(%q): no error", bad)
		}
	}
}

// TestProfileAttributesFollowWriteAccess: with a profile's nested entries,
// a file's attributes can be changed exactly where it can be written: in
// a writable root, in a writable path inside a read-only one inside it,
// and in a single writable file, but not in the read-only path nor
// elsewhere.
func TestProfileAttributesFollowWriteAccess(t *testing.T) {
	for _, uid := range []int{0, 65534} {
		t.Run(fmt.Sprint(uid), func(t *testing.T) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to run as both users")
			}
			e := newTestEnv(t, uid)
			mustMkdir(t, e.ws+"/a/sub")
			files := map[string]bool{ // path: attributes may change
				e.ws + "/f":       true,
				e.ws + "/a/g":     false,
				e.ws + "/a/sub/h": true,
				e.home + "/wf":    true,
				e.home + "/other": false,
			}
			var script []string
			for p := range files {
				mustWrite(t, p, "x\n")
				chownTree(t, p, uid)
				script = append(script, fmt.Sprintf("chmod 600 %[1]s 2>/dev/null && echo %[1]s=changed || echo %[1]s=refused", p))
			}
			chownTree(t, e.ws+"/a/sub", uid)
			pol := profileJSON(t, "read :root", "write "+e.ws, "read "+e.ws+"/a", "write "+e.ws+"/a/sub", "write "+e.home+"/wf")
			out, code := e.launch(t, launchRequest{Policy: pol, Argv: []string{"/bin/sh", "-c", strings.Join(script, "\n")}})
			for p, may := range files {
				want := p + "=refused"
				if may {
					want = p + "=changed"
				}
				if !strings.Contains(out, want) {
					t.Errorf("exit %d: want %s in:\n%s", code, want, out)
				}
			}
		})
	}
}
