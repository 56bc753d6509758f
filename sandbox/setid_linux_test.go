package sandbox

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestNoNamespacesRefusesSetid: without namespaces nothing is mounted
// read-only, so the seccomp filter keeps chmod from setting the setuid or
// setgid bit on a file outside the writable roots (and in them), while a
// plain chmod +x in the workspace works.
func TestNoNamespacesRefusesSetid(t *testing.T) {
	for _, uid := range []int{0, 65534} {
		t.Run(fmt.Sprint(uid), func(t *testing.T) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to run as both users")
			}
			e := newTestEnv(t, uid)
			victim, script := e.home+"/victim", e.ws+"/s.sh"
			for _, p := range []string{victim, script} {
				mustWrite(t, p, "echo ran\n")
				if err := os.Chown(p, uid, uid); err != nil {
					t.Fatal(err)
				}
			}
			cmd := fmt.Sprintf("chmod u+s %[1]s; echo suid=$?; chmod g+s %[1]s; echo sgid=$?; "+
				"/usr/bin/python3 -c 'import os,sys; os.chmod(sys.argv[1], 0o4755)' %[1]s 2>/dev/null; echo py=$?; "+
				"chmod +x %[2]s; echo x=$?", victim, script)
			out, code := e.launch(t, launchRequest{Policy: Policy{Mode: WorkspaceWrite}, NoNamespaces: true,
				Argv: []string{"/bin/sh", "-c", cmd}})
			for _, want := range []string{"suid=1", "sgid=1", "py=1", "x=0"} {
				if !strings.Contains(out, want) {
					t.Errorf("exit %d: want %s in:\n%s", code, want, out)
				}
			}
			if fi, err := os.Stat(victim); err != nil || fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 {
				t.Errorf("victim mode %v (%v): a setid bit was set", fi.Mode(), err)
			}
			if fi, err := os.Stat(script); err != nil || fi.Mode()&0o100 == 0 {
				t.Errorf("script mode %v (%v): chmod +x did not work", fi.Mode(), err)
			}
		})
	}
}
