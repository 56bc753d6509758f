package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// attributeAttacks change a file's attributes, which Landlock does not
// confine: only a read-only mount keeps them from files outside the
// writable roots. %[1]s is the quoted file, %[2]d the user's uid.
var attributeAttacks = []struct{ name, command string }{
	{"chmod", "chmod 4777 %[1]s"},
	{"chmod u+s", "chmod u+s %[1]s"},
	{"chown to self", "chown %[2]d:%[2]d %[1]s"},
	{"utimes", "touch -d 2001-02-03 %[1]s"},
	{"setxattr", `/usr/bin/python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.execgate", b"evil")' %[1]s`},
}

// attrs is what the attacks try to change.
type attrs struct {
	mode       os.FileMode
	uid, gid   uint32
	mtime      time.Time
	ctime      unix.Timespec
	xattrValue string
}

func readAttrs(t *testing.T, p string) attrs {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	buf := make([]byte, 64)
	n, err := unix.Getxattr(p, "user.execgate", buf)
	if err != nil {
		t.Fatalf("getxattr %s: %v", p, err)
	}
	return attrs{mode: fi.Mode(), uid: st.Uid, gid: st.Gid, mtime: fi.ModTime(),
		ctime: unix.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec}, xattrValue: string(buf[:n])}
}

// victim makes a file owned by w's user in dir, mode 0644, an old mtime
// and the xattr user.execgate=orig.
func victim(t *testing.T, w *world, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	writeOwned(t, w.User, p, "data\n")
	if err := unix.Setxattr(p, "user.execgate", []byte("orig"), 0); err != nil {
		t.Fatalf("setxattr %s: %v", p, err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAttributesOutsideWritableRootsAreReadOnly: chmod (setuid included),
// chown, utimes and setxattr on a file the user owns outside every
// writable root fail, in workspace-write and read-only, and leave the file
// as it was.
func TestAttributesOutsideWritableRootsAreReadOnly(t *testing.T) {
	for _, mode := range []string{"workspace-write", "read-only"} {
		t.Run(mode, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				w := start(t, u, setup{Args: []string{"--sandbox", mode}})
				attributesStayReadOnly(t, w, w.Out)
			})
		})
	}
}

// attributesStayReadOnly runs the attribute attacks in w on files in dir,
// outside every writable root: each must fail with EROFS and change
// nothing.
func attributesStayReadOnly(t *testing.T, w *world, dir string) {
	t.Helper()
	u := w.User
	uid := ownerUID(u)
	for i, a := range attributeAttacks {
		p := victim(t, w, dir, fmt.Sprintf("victim%d", i))
		before := readAttrs(t, p)
		res := w.shell(t, fmt.Sprintf(a.command, shq(p), uid)+"; echo status=$?")
		after := readAttrs(t, p)
		if after != before {
			t.Errorf("ATTACK %s SUCCEEDED as %s: %s changed from %+v to %+v\noutput: %s",
				a.name, u.name, p, before, after, res.Output)
		}
		// Refused by the read-only mount, not by some other accident of
		// the call.
		if strings.Contains(res.Output, "status=0") || !strings.Contains(res.Output, "Read-only file system") {
			t.Errorf("%s on %s as %s: want a failure with EROFS; output: %s", a.name, p, u.name, res.Output)
		}
	}
}

// TestAttributesInsideWritableRootsStayWritable: the same changes in the
// workspace work, and so do writes to /dev/null and making a script
// executable and running it.
func TestAttributesInsideWritableRootsStayWritable(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{})
		attributesStayWritable(t, w)
	})
}

// attributesStayWritable runs the attribute changes in w's workspace,
// where each must work, and makes a script executable there and runs it,
// and writes /dev/null.
func attributesStayWritable(t *testing.T, w *world) {
	t.Helper()
	u := w.User
	uid := ownerUID(u)
	for i, a := range attributeAttacks {
		p := victim(t, w, w.WS, fmt.Sprintf("file%d", i))
		before := readAttrs(t, p)
		res := w.shell(t, fmt.Sprintf(a.command, shq(p), uid)+"; echo status=$?")
		if !strings.Contains(res.Output, "status=0") {
			t.Errorf("%s in the workspace failed as %s; output: %s", a.name, u.name, res.Output)
			continue
		}
		// Every one of them changes the inode's ctime.
		if after := readAttrs(t, p); after.ctime == before.ctime {
			t.Errorf("%s in the workspace changed nothing: %+v", a.name, after)
		}
	}
	res := w.shell(t, "printf 'echo ran-script\\n' > s.sh && chmod +x s.sh && ./s.sh && echo hi > /dev/null && echo devnull-ok")
	if !strings.Contains(res.Output, "ran-script") || !strings.Contains(res.Output, "devnull-ok") {
		t.Errorf("chmod +x and run a script, write /dev/null, as %s: exit %d, output %q", u.name, res.ExitCode, res.Output)
	}
	if fi, err := os.Stat(filepath.Join(w.WS, "s.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("s.sh not executable: %v %v", fi, err)
	}
}

// ownerUID is the uid the attacks chown files to: the user's own, which for
// root is the test's effective uid.
func ownerUID(u user) int {
	if u.uid == 0 {
		return os.Geteuid()
	}
	return u.uid
}
