package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The server opens the audit log's path again after logrotate renames the
// file or someone deletes it. An agent that could reach the path would
// delete the records or, replacing the file with a symlink, have the server
// append to any file of the user's outside the sandbox (a JSON line holding
// `$(…)` in ~/.bashrc runs at the next login). So an audit log inside a
// writable root is refused: the server does not start, or the call fails
// before anything runs. Where the server carries on, the attack runs and
// the test checks the user's file.
func TestAuditLogRedirectedByTheAgent(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		victim := filepath.Join(w.Out, "bashrc")
		writeOwned(t, u, victim, "# the user's file\n")
		audit := filepath.Join(w.WS, "audit.jsonl")
		s := setup{Args: []string{"--audit-log", audit}}
		attack := "ln -sf " + shq(victim) + " " + shq(audit) + "; /bin/echo '$(touch pwned)'"
		if err := w.serve(t, s); err != nil {
			wantRefused(t, "the startup error", err.Error(), audit, "writable root")
			return
		}
		res, toolErr := w.call(t, w.WS, attack, nil)
		if data, _ := os.ReadFile(victim); string(data) != "# the user's file\n" {
			t.Errorf("the server wrote audit records into %s through the agent's symlink:\n%s", victim, data)
		}
		if toolErr == "" {
			t.Fatalf("the call ran: exit %d output %q", res.ExitCode, res.Output)
		}
		wantRefused(t, "the tool error", toolErr, audit, "writable root")
	})
}

// An audit log outside every writable root that is replaced by a symlink
// (by anything but the agent, which cannot reach it) is not followed when
// the server opens the path again: the record is lost and reported, the
// file the symlink names is left alone.
func TestAuditLogReopenedNotThroughASymlink(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := newWorld(t, u, setup{})
		victim := filepath.Join(w.Out, "bashrc")
		writeOwned(t, u, victim, "# the user's file\n")
		audit := filepath.Join(w.Home, "audit.jsonl")
		w.serve(t, setup{Args: []string{"--audit-log", audit}})
		if res, toolErr := w.call(t, w.WS, "/bin/true", nil); toolErr != "" || res.ExitCode != 0 {
			t.Fatalf("first call: %q %+v", toolErr, res)
		}
		os.Remove(audit)
		if err := os.Symlink(victim, audit); err != nil {
			t.Fatal(err)
		}
		res, toolErr := w.call(t, w.WS, "/bin/true", nil)
		if toolErr != "" || !strings.Contains(res.Note, "missing from the audit log") {
			t.Errorf("call after the symlink: %q, note %q", toolErr, res.Note)
		}
		if data, _ := os.ReadFile(victim); string(data) != "# the user's file\n" {
			t.Errorf("the server followed the symlink into %s:\n%s", victim, data)
		}
	})
}
