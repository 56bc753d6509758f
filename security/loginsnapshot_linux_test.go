package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A login call starts from a file the server wrote (the login environment
// its profile set up, sourced through BASH_ENV). A sandboxed call must not
// be able to change what later calls source: not by writing, replacing or
// removing that file, nor by planting one where the server would look.

// genuineProfile is the profile of these tests; LOGIN_MARK shows which
// environment a call started from.
const genuineProfile = "export LOGIN_MARK=genuine\n"

func profileSetup(u user) setup {
	return setup{Prepare: func(t *testing.T, w *world) {
		writeOwned(t, u, filepath.Join(w.Home, ".profile"), genuineProfile)
	}}
}

// tamper is the attacker's script: it finds the login environment files
// (in the runtime directory, next to the execve wrapper) and tries every
// way to change them, saying which it found. (Its chmod succeeds: Landlock
// does not govern file attributes. The server then finds the file changed
// and writes it again, see TestLoginSnapshotRewrittenAfterUnconfinedCall;
// the content is what must never change.)
func tamper(w *world, name string) string {
	evil := "echo PWNED; " + w.payload(name)
	return `d=$(dirname "$EXEC_WRAPPER")
for f in "$d"/login-*.rc; do
  [ -e "$f" ] || continue
  echo "found $f"
  echo ` + shq(evil) + ` >> "$f"
  chmod 666 "$f"; echo ` + shq(evil) + ` > "$f"
  mv -f "$f" "$f.moved"; rm -f "$f"
  ln -sf /dev/null "$f"
done
for n in login-0.rc login-planted.rc; do echo ` + shq(evil) + ` > "$d/$n"; done
exit 0`
}

func TestLoginSnapshotCannotBeTamperedWith(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, profileSetup(u))
		if r := w.shellLogin(t, `echo "$LOGIN_MARK"`); r.Output != "genuine\n" {
			t.Fatalf("first login call: %q (note %q)", r.Output, r.Note)
		}
		r := w.shellLogin(t, tamper(w, "login-rc"))
		_, found, ok := strings.Cut(r.Output, "found ")
		if !ok {
			t.Fatalf("the attack did not find the login environment file: %q", r.Output)
		}
		found, _, _ = strings.Cut(found, "\n")
		if b, err := os.ReadFile(found); err != nil || strings.Contains(string(b), "PWNED") || !strings.Contains(string(b), "genuine") {
			t.Errorf("ATTACK SUCCEEDED as %s: the login environment file %s now holds %q (%v)", u.name, found, b, err)
		}
		if planted, _ := filepath.Glob(filepath.Join(filepath.Dir(found), "login-planted.rc")); len(planted) != 0 {
			t.Errorf("ATTACK SUCCEEDED as %s: planted %s", u.name, planted)
		}
		for range 2 {
			after := w.shellLogin(t, `echo "$LOGIN_MARK"`)
			if after.Output != "genuine\n" || after.Note != "" {
				t.Errorf("ATTACK SUCCEEDED as %s: a later login call saw %q (note %q) after\n%s", u.name, after.Output, after.Note, r.Output)
			}
		}
		w.assertConfined(t, "login-rc", r)
	})
}

// TestLoginSnapshotRewrittenAfterUnconfinedCall: a call without sandbox
// (danger-full-access) can change the file, as it can change anything of
// the user's; the next call notices, and sources the server's own copy.
func TestLoginSnapshotRewrittenAfterUnconfinedCall(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, profileSetup(u))
		if r := w.shellLogin(t, `echo "$LOGIN_MARK"`); r.Output != "genuine\n" {
			t.Fatalf("first login call: %q (note %q)", r.Output, r.Note)
		}
		full := mcp.Meta{"codex/sandbox-state-meta": map[string]any{"sandboxPolicy": map[string]any{"type": "danger-full-access"}, "sandboxCwd": w.WS}}
		r, toolErr := w.callLogin(t, w.WS, `d=$(dirname "$EXEC_WRAPPER"); for f in "$d"/login-*.rc; do echo "found $f"; chmod 600 "$f"; echo 'export LOGIN_MARK=rewritten' >> "$f"; done`, full, false)
		if toolErr != "" || !strings.Contains(r.Output, "found /") {
			t.Fatalf("the unconfined call did not reach the file: %q %s", r.Output, toolErr)
		}
		if after := w.shellLogin(t, `echo "$LOGIN_MARK"`); after.Output != "genuine\n" {
			t.Errorf("a login call after the file was rewritten saw %q (note %q)", after.Output, after.Note)
		}
		if !strings.Contains(w.Stderr.String(), "written again") {
			t.Errorf("no warning that the file was written again:\n%s", w.Stderr)
		}
	})
}

// TestLoginSnapshotNotKeptInWritableRoot: with the runtime directory in
// the workspace, a call could rewrite whatever file is kept there, so no
// snapshot is used: login calls run the profile each time, and files
// planted there are never sourced.
func TestLoginSnapshotNotKeptInWritableRoot(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		s := profileSetup(u)
		prepare := s.Prepare
		s.Prepare = func(t *testing.T, w *world) {
			prepare(t, w)
			w.run = userDir(t, u, w.WS, "run")
		}
		w := start(t, u, s)
		r := w.shellLogin(t, tamper(w, "login-writable"))
		if strings.Contains(r.Output, "found") {
			t.Errorf("a login environment file was kept in a writable root: %q", r.Output)
		}
		if entries, _ := filepath.Glob(filepath.Join(w.run, "*", "login-planted.rc")); len(entries) == 0 {
			t.Fatalf("the attack did not plant its file (the test proves nothing): %q", r.Output)
		}
		after := w.shellLogin(t, `echo "$LOGIN_MARK"`)
		if after.Output != "genuine\n" {
			t.Errorf("ATTACK SUCCEEDED as %s: the login call saw %q (note %q)", u.name, after.Output, after.Note)
		}
		w.assertConfined(t, "login-writable", r)
		if !strings.Contains(w.Stderr.String(), "run the profile each time") {
			t.Errorf("no warning that the snapshot is off:\n%s", w.Stderr)
		}
	})
}
