package sandbox

import (
	"reflect"
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
	want := []string{"/", "/mnt/a b\tc\\d", "/proc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mountPoints = %q, want %q", got, want)
	}
	for _, bad := range []string{"1 2 3 4\n", `1 2 3 / /x\04 rw - t t rw` + "\n", `1 2 3 / /x\9zz rw - t t rw` + "\n"} {
		if _, err := mountPoints([]byte(bad)); err == nil {
			t.Errorf("mountPoints(%q): no error", bad)
		}
	}
}
