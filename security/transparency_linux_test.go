package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The patched Bash asks the server itself before each program start (the
// in-shell client, execgate.c in scripts/bash-exec-wrapper.patch). Scripts
// must not be able to tell, except by the decisions: each case is a script
// whose output and status are the ones plain Bash gives, run through the
// real server, Bash and sandbox. The forbidden rule shows that the cases
// that used to leave the shell (exec of a script without #!) are decided.

func TestInShellTransparency(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["touch"], decision="forbidden", justification="no touching")` + "\n" +
			`prefix_rule(pattern=["false"], decision="allow")` + "\n"})
		made := filepath.Join(w.WS, "made")
		script := filepath.Join(w.WS, "noshebang")
		writeOwned(t, u, script, "/bin/echo \"in script $1\"\ntouch "+shq(made)+"\necho \"after: $?\"\n")
		if err := os.Chmod(script, 0o755); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, command string
			want          []string // substrings of the output, in order
			status        int
			program       string // a decision that must be recorded, if set
		}{
			// The escalate socket is not on fd 3 (nor any fd a script uses).
			{name: "fd 3 is free", command: "if [ -e /dev/fd/3 ]; then echo busy; else echo free; fi; exec 3>&2; /bin/echo ok",
				want: []string{"free\n", "ok\n"}, program: "/bin/echo"},
			// Used to hang until the timeout: the handshake talked to itself.
			{name: "cmd 3>&-", command: "/bin/echo x 3>&-", want: []string{"x\n"}},
			{name: "fd 3 redirected", command: "exec 3</dev/null; /usr/bin/test -r /dev/fd/3 && /bin/echo readable",
				want: []string{"readable\n"}},
			// A redirection onto the socket's own descriptor moves it.
			{name: "redirect onto the socket", command: `eval "exec $CODEX_ESCALATE_SOCKET>/dev/null"; /bin/echo still`,
				want: []string{"still\n"}},
			{name: "execfail", command: "shopt -s execfail; exec /no/such; echo continued $?",
				want: []string{"/no/such: No such file or directory", "continued 127\n"}},
			{name: "exec -c", command: "(exec -c /bin/echo clean)", want: []string{"clean\n"}, program: "/bin/echo"},
			{name: "closed stdout", command: "/bin/echo x >&-; echo status $?", want: []string{"status 1\n"}},
			{name: "failed start keeps the line", command: ":\n/no/such/prog", want: []string{"bash: line 2: /no/such/prog: No such file or directory"}, status: 127},
			{name: "deleted workdir", command: "mkdir gone && cd gone && rmdir ../gone && /bin/echo ok", want: []string{"ok\n"}, program: "/bin/echo"},
			// An escalation there is refused, and says why.
			{name: "deleted workdir, escalation", command: "mkdir gone2 && cd gone2 && rmdir ../gone2 && /usr/bin/false; echo $?",
				want: []string{"Execution denied: workdir ", "does not exist\n", "1\n"}},
			{name: "deny", command: "touch " + shq(made) + "; echo $?", want: []string{"Execution denied: no touching\n", "1\n"}},
			{name: "escalated status", command: "/usr/bin/false; echo $?", want: []string{"1\n"}, program: "/usr/bin/false"},
			// A nested patched Bash finds the socket through the variable,
			// also when another program starts it.
			{name: "nested Bash", command: `/usr/bin/env "$BASH" -c 'touch ` + shq(made) + `; echo nested $?'`,
				want: []string{"Execution denied: no touching\n", "nested 1\n"}},
			// A script without #! runs in a copy of this shell, so its
			// programs are decided too, also after `exec`.
			{name: "script without #!", command: "./noshebang a",
				want: []string{"in script a\n", "Execution denied: no touching\n", "after: 1\n"}},
			{name: "exec script without #!", command: "exec ./noshebang b",
				want: []string{"in script b\n", "Execution denied: no touching\n", "after: 1\n"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := w.shell(t, tt.command)
				if res.TimedOut || res.ExitCode != tt.status {
					t.Errorf("%q: status %d (timed out %v), want %d; output %q", tt.command, res.ExitCode, res.TimedOut, tt.status, res.Output)
				}
				rest := res.Output
				for _, s := range tt.want {
					i := strings.Index(rest, s)
					if i < 0 {
						t.Errorf("%q: output %q lacks %q (in order)", tt.command, res.Output, s)
						break
					}
					rest = rest[i+len(s):]
				}
				if tt.program != "" && !decided(res, tt.program) {
					t.Errorf("%q: no decision for %s: %+v", tt.command, tt.program, res.Decisions)
				}
				if _, err := os.Stat(made); err == nil {
					t.Fatalf("%q: the forbidden touch ran", tt.command)
				}
			})
		}
	})
}

func decided(res shellResult, program string) bool {
	for _, d := range res.Decisions {
		if d.Program == program || d.Executable == program {
			return true
		}
	}
	return false
}
