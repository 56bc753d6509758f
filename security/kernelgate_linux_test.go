package security

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The kernel gate: a rule holds for every program start in the sandbox,
// not only for those the agent's shell makes itself.

const (
	printfForbidden = `prefix_rule(pattern=["printf"], decision="forbidden", justification="printf is forbidden here")` + "\n"
	printfDenied    = "Execution denied: printf is forbidden here"
	// ranMarker is what each route prints if the forbidden printf ran.
	ranMarker = "GATE-RAN"
)

// execveC is a program that execs /usr/bin/printf itself, as any compiled
// program may.
const execveC = `#include <unistd.h>
int main(void) {
	char *argv[] = {"printf", "GATE-RAN", 0};
	char *envp[] = {0};
	execve("/usr/bin/printf", argv, envp);
	return 126;
}
`

// compileExecve builds execveC where the sandbox can run it but not write.
func compileExecve(t *testing.T, w *world) string {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	dir := filepath.Join(w.Out, "..", "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "execve.c")
	bin := filepath.Join(dir, "execve-printf")
	if err := os.WriteFile(src, []byte(execveC), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cc", "-O1", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	return bin
}

// forbiddenRoutes are the ways to reach printf without the agent's shell
// starting it; "EXECVE_PRINTF" stands for compileExecve's program.
var forbiddenRoutes = []struct{ name, script string }{
	{"env", "env printf GATE-RAN"},
	{"/usr/bin/env", "/usr/bin/env printf GATE-RAN"},
	{"env -i", "env -i printf GATE-RAN"},
	{"xargs", "echo GATE-RAN | xargs printf"},
	{"find -exec", "find /etc/hostname -exec printf GATE-RAN \\;"},
	{"timeout", "timeout 5 printf GATE-RAN"},
	{"nohup", "nohup printf GATE-RAN"},
	{"python os.execv", `python3 -c 'import os; os.execv("/usr/bin/printf", ["printf", "GATE-RAN"])'`},
	{"perl exec", `perl -e 'exec "printf", "GATE-RAN"'`},
	{"perl system", `perl -e 'system("printf", "GATE-RAN")'`},
	{"dynamic loader", "/lib64/ld-linux-x86-64.so.2 /usr/bin/printf GATE-RAN"},
	{"symlink", "ln -s /usr/bin/printf ./pf && ./pf GATE-RAN"},
	{"symlink via env", "ln -s /usr/bin/printf ./pf && env ./pf GATE-RAN"},
	{"compiled execve", "EXECVE_PRINTF"},
	{"/bin/bash -c", "/bin/bash -c 'exec printf GATE-RAN'"},
	{"bash -c", "bash -c 'exec printf GATE-RAN'"},
	{"sh -c", "sh -c 'exec printf GATE-RAN'"},
	{"shebang", "printf '#!/bin/sh\\nexec printf GATE-RAN\\n' > s.sh && chmod +x s.sh && ./s.sh"},
	{"exported function", "f() { exec printf GATE-RAN; }; export -f f; /bin/bash -c f"},
	{"BASH_ENV", "echo 'exec printf GATE-RAN' > env.sh && BASH_ENV=./env.sh /bin/bash -c true"},
	{"EXEC_WRAPPER", "EXEC_WRAPPER=/usr/bin/env bash -c '/usr/bin/printf GATE-RAN'"},
}

// TestKernelGateForbiddenRoutes: with printf forbidden, every route to it
// is denied, recorded and told on the program's stderr, as root and as an
// unprivileged user.
func TestKernelGateForbiddenRoutes(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		assertRoutesDenied(t, start(t, u, setup{Rules: printfForbidden}))
	})
}

// assertRoutesDenied runs each of forbiddenRoutes on w, whose rules forbid
// printf, and fails for each one by which printf ran, or whose denial is
// missing from the program's stderr or from the call's record.
func assertRoutesDenied(t *testing.T, w *world) {
	t.Helper()
	execve := compileExecve(t, w)
	for _, r := range forbiddenRoutes {
		t.Run(r.name, func(t *testing.T) {
			dir := filepath.Join(w.WS, strings.NewReplacer(" ", "_", "/", "_").Replace(r.name))
			script := "mkdir -p " + shq(dir) + " && cd " + shq(dir) + " && " +
				strings.ReplaceAll(r.script, "EXECVE_PRINTF", shq(execve))
			res := w.shell(t, script)
			if strings.Contains(res.Output, ranMarker) {
				t.Errorf("the forbidden printf ran: %q\ndecisions: %+v", res.Output, res.Decisions)
			}
			if !strings.Contains(res.Output, printfDenied) {
				t.Errorf("no %q on stderr: %q", printfDenied, res.Output)
			}
			if !deniedPrintf(res.Decisions) {
				t.Errorf("no printf denial recorded: %+v", res.Decisions)
			}
			if strings.Contains(res.Note, "shell's own program starts only") {
				t.Errorf("the note says the kernel gate is off: %q", res.Note)
			}
		})
	}
}

// TestKernelGateWithoutNamespaces: where user namespaces cannot be made
// (a container's seccomp profile, a distribution that turns them off), the
// helper runs in two stages, Landlock and seccomp only; the kernel gate
// must hold there too, as root and as an unprivileged user.
func TestKernelGateWithoutNamespaces(t *testing.T) {
	ownNS, err := os.Readlink("/proc/self/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: printfForbidden, NoUserNamespaces: true})
		// The layout under test: the call shares the test's user and pid
		// namespaces, and is confined all the same.
		res := w.shell(t, "readlink /proc/self/ns/user; grep -c '^Seccomp:.2' /proc/self/status; grep '^NSpid:' /proc/self/status")
		lines := strings.Split(strings.TrimSpace(res.Output), "\n")
		if len(lines) != 3 || lines[0] != ownNS || lines[1] != "1" || len(strings.Fields(lines[2])) != 2 {
			t.Fatalf("the call did not run confined without namespaces (want user namespace %s, seccomp on, one pid namespace): %q\nserver stderr:\n%s",
				ownNS, res.Output, w.Stderr)
		}
		// The note on the nested Bash (the system's here) says what holds:
		// the gate checks what it starts, only escalation is lost.
		if !strings.Contains(res.Note, "the kernel gate applies the rules to the programs it starts") || strings.Contains(res.Note, "do not decide") {
			t.Errorf("the note misstates what the rules do to a nested Bash's programs: %q", res.Note)
		}
		assertRoutesDenied(t, w)
		// doctor, in the same container, says the same.
		out, err := w.doctor(t, container{noUserNS: true})
		if want := "sandboxed modes:    the system's Bash, UNPATCHED: the kernel gate applies the rules to the programs a nested bash -c starts"; !strings.Contains(out, want) {
			t.Errorf("doctor (%v) lacks %q:\n%s", err, want, out)
		}
	})
}
func deniedPrintf(ds []decision) bool {
	for _, d := range ds {
		if d.Decision == "deny" && filepath.Base(d.Program) == "printf" {
			return true
		}
	}
	return false
}

// TestKernelGatePromptAsksOnce: a prompt rule reached through env asks
// once; accepted, the program runs (inside the sandbox), and the record
// says the kernel gate let it.
func TestKernelGatePromptAsksOnce(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		var asked atomic.Int32
		w := start(t, u, setup{
			Rules: `prefix_rule(pattern=["printf"], decision="prompt")` + "\n",
			Elicit: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				asked.Add(1)
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "allow_once"}}, nil
			},
		})
		res := w.shell(t, "env printf 'ran:%s\\n' \"$(grep -c Seccomp:.2 /proc/self/status)\"")
		if n := asked.Load(); n != 1 {
			t.Errorf("asked %d times, want once", n)
		}
		if !strings.Contains(res.Output, "ran:") {
			t.Errorf("the accepted program did not run: %q", res.Output)
		}
		if !ranWithReason(res, "printf", "inside the sandbox") {
			t.Errorf("no record of printf run inside the sandbox: %+v", res.Decisions)
		}
	})
}

// TestKernelGateAllowRunsConfined: an allow rule lets a program another
// program starts run, inside the sandbox, and the record says why it was
// not escalated.
func TestKernelGateAllowRunsConfined(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["printf"], decision="allow")` + "\n"})
		res := w.shell(t, "env printf 'ran\\n' && env printf '%s\\n' "+shq(w.payload("gateallow"))+" | env -i /bin/sh")
		w.assertConfined(t, "gateallow", res)
		if !strings.Contains(res.Output, "ran") {
			t.Errorf("the allowed program did not run: %q", res.Output)
		}
		if !ranWithReason(res, "printf", "only the shell's own program starts can be escalated") {
			t.Errorf("no record of printf run confined: %+v", res.Decisions)
		}
	})
}

// TestKernelGateOffSaysSo: without the gate (the flag, or the config key),
// a call's result says the rules held for the shell's own program starts
// only, and a program another program starts is no longer checked.
func TestKernelGateOffSaysSo(t *testing.T) {
	for _, off := range []setup{
		{Rules: printfForbidden, Args: []string{"--no-kernel-gate"}},
		{Rules: printfForbidden, Config: "[execgate]\nkernel_gate = false\n"},
	} {
		eachUser(t, func(t *testing.T, u user) {
			w := start(t, u, off)
			res := w.shell(t, "/usr/bin/env printf unchecked")
			if !strings.Contains(res.Note, "shell's own program starts only") {
				t.Errorf("note %q does not say the rules held for the shell's program starts only", res.Note)
			}
			if !strings.Contains(res.Output, "unchecked") {
				t.Errorf("with the gate off, env's printf was stopped: %q", res.Output)
			}
		})
	}
}

// listenerC tries to make a seccomp listener of its own for execve, which
// would answer its own execs ahead of the kernel gate (a newer filter's
// notification takes precedence).
const listenerC = `#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog prog = {1, f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0) { printf("listener refused: errno %d\n", errno); return 0; }
	printf("LISTENER MADE\n");
	return 0;
}
`

// TestKernelGateNoOwnListener: sandboxed code cannot make a seccomp
// listener, so it cannot take its own execs away from the gate.
func TestKernelGateNoOwnListener(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: printfForbidden})
		dir := filepath.Join(w.Out, "..", "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		src, bin := filepath.Join(dir, "listener.c"), filepath.Join(dir, "listener")
		if err := os.WriteFile(src, []byte(listenerC), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cc", "-o", bin, src).CombinedOutput(); err != nil {
			t.Fatalf("cc: %v\n%s", err, out)
		}
		res := w.shell(t, shq(bin))
		if !strings.Contains(res.Output, "listener refused") {
			t.Errorf("sandboxed code made a seccomp listener: %q", res.Output)
		}
	})
}

// ranWithReason says whether res records program (by base name) as run
// with a reason containing why.
func ranWithReason(res shellResult, program, why string) bool {
	for _, d := range res.Decisions {
		if filepath.Base(d.Program) == program && d.Decision == "run" && strings.Contains(d.Reason, why) {
			return true
		}
	}
	return false
}

// TestKernelGateUnavailableSaysSo: where the gate cannot be installed (a
// container that refuses seccomp listeners), with user namespaces and
// without, the call still runs, the shell's own program starts still obey
// the rules, and the result says that they alone did.
func TestKernelGateUnavailableSaysSo(t *testing.T) {
	for _, layout := range []struct {
		name   string
		noNS   bool
		wantNS bool
	}{{"namespaces", false, true}, {"no namespaces", true, false}} {
		t.Run(layout.name, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				w := start(t, u, setup{Rules: printfForbidden, NoUserNamespaces: layout.noNS, NoSeccompListener: true})
				res := w.shell(t, "/usr/bin/printf SHELL-RAN; /usr/bin/env printf unchecked; readlink /proc/self/ns/user")
				own, err := os.Readlink("/proc/self/ns/user")
				if err != nil {
					t.Fatal(err)
				}
				if gotNS := !strings.Contains(res.Output, own); gotNS != layout.wantNS {
					t.Fatalf("the call ran with user namespace %v, want %v: %q", gotNS, layout.wantNS, res.Output)
				}
				if !strings.Contains(res.Note, "shell's own program starts only") || !strings.Contains(res.Note, "NEW_LISTENER") {
					t.Errorf("note %q does not say the rules held for the shell's program starts only, nor why", res.Note)
				}
				if !strings.Contains(res.Output, "unchecked") {
					t.Errorf("without the gate, env's printf was stopped: %q", res.Output)
				}
				if nested := strings.Contains(res.Note, "the rules do not decide the programs it starts"); nested != layout.noNS {
					t.Errorf("the note says a nested Bash's programs are undecided: %v, want %v: %q", nested, layout.noNS, res.Note)
				}
				if strings.Contains(res.Output, "SHELL-RAN") || !strings.Contains(res.Output, printfDenied) || !deniedPrintf(res.Decisions) {
					t.Errorf("the shell's own printf was not denied: %q\ndecisions: %+v", res.Output, res.Decisions)
				}
				// doctor, in the same container, says so before any call.
				out, err := w.doctor(t, container{noUserNS: layout.noNS, noListener: true})
				if want := "kernel exec gate:   no (seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER): operation not permitted): rules hold for the shell's own program starts only"; !strings.Contains(out, want) {
					t.Errorf("doctor (%v) lacks %q:\n%s", err, want, out)
				}
			})
		})
	}
}

// TestKernelGateDangerFullAccessSaysSo: a danger-full-access call has no
// sandbox to hold the gate, with user namespaces and without: a program
// another program starts is not checked, and the result says the rules
// held for the shell's own program starts only.
func TestKernelGateDangerFullAccessSaysSo(t *testing.T) {
	for _, layout := range []struct {
		name string
		noNS bool
	}{{"namespaces", false}, {"no namespaces", true}} {
		t.Run(layout.name, func(t *testing.T) {
			eachUser(t, func(t *testing.T, u user) {
				w := start(t, u, setup{Rules: printfForbidden, NoUserNamespaces: layout.noNS})
				full := mcp.Meta{"codex/sandbox-state-meta": map[string]any{"sandboxPolicy": map[string]any{"type": "danger-full-access"}, "sandboxCwd": w.WS}}
				res, toolErr := w.call(t, w.WS, "/usr/bin/printf SHELL-RAN; /usr/bin/env printf unchecked", full)
				if toolErr != "" {
					t.Fatalf("tool error: %s", toolErr)
				}
				if !strings.Contains(res.Note, "shell's own program starts only") || !strings.Contains(res.Note, "danger-full-access") {
					t.Errorf("note %q does not say the rules held for the shell's program starts only, nor why", res.Note)
				}
				if !strings.Contains(res.Output, "unchecked") {
					t.Errorf("env's printf did not run: %q", res.Output)
				}
				if strings.Contains(res.Output, "SHELL-RAN") || !deniedPrintf(res.Decisions) {
					t.Errorf("the shell's own printf was not denied: %q\ndecisions: %+v", res.Output, res.Decisions)
				}
				out, err := w.doctor(t, container{noUserNS: layout.noNS})
				if want := "no kernel gate (rules hold for the shell's own program starts only)"; !strings.Contains(out, want) {
					t.Errorf("doctor (%v) lacks %q:\n%s", err, want, out)
				}
			})
		})
	}
}
