package security

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A path through /proc names different files for the server and for the
// kernel running the escalated command: /proc/self is the server when it
// checks and the new process when it execs; /proc/PID/root of a sandboxed
// process leads into the sandbox's own /proc. The file checked must be the
// file that runs.

// The rules allow cat: the attacks need a program no other check (such as
// repository trust for git) keeps in the sandbox.
const catRules = `prefix_rule(pattern=["cat"], decision="allow")` + "\n"

// plantFakeCat is a script that makes fake/usr/bin/cat, a program writing
// the payload, in the current directory.
func plantFakeCat(w *world, name string) string {
	return "mkdir -p fake/usr/bin && printf '#!/bin/sh\\n%s\\n' " + shq(w.payload(name)) +
		" > fake/usr/bin/cat && chmod +x fake/usr/bin/cat"
}

// TestProcSelfCwdRunsSandboxFile: with the server started in / (as MCP
// clients often do), /proc/self/cwd/usr/bin/cat is /usr/bin/cat for the
// server, but the escalated process has changed into the script's
// directory by the time it execs the path.
func TestProcSelfCwdRunsSandboxFile(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: catRules, ServerDir: "/"})
		res := w.shell(t, plantFakeCat(w, "procself")+" && cd fake && /proc/self/cwd/usr/bin/cat /dev/null; echo rc=$?")
		w.assertConfined(t, "procself", res)
		for _, d := range res.Decisions {
			if d.Decision == "escalate" {
				t.Errorf("a path through /proc was escalated: %+v", d)
			}
		}
	})
}

// TestProcPidRootRunsSandboxFile: a forged request for
// /proc/HELPER/root/proc/N/cwd/usr/bin/cat, where HELPER is the call's
// sandbox helper and N the sandboxed shell's pid in its namespace. The
// server reads /proc/N as the host's process N (a kernel thread in /); the
// kernel follows the helper's root into the sandbox's /proc, to the
// shell's directory. (The sandboxed script could find HELPER by trying
// pids; the test tells it, to stay fast.)
func TestProcPidRootRunsSandboxFile(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: catRules})
		pidFile := filepath.Join(w.WS, "helper.pid")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go announceHelper(ctx, w.serverPid, pidFile)
		req := `"{\"file\":\"/proc/$(cat ../helper.pid)/root/proc/$$/cwd/usr/bin/cat\",\"argv\":[\"cat\",\"/dev/null\"],\"workdir\":\"$PWD\",\"env\":{}}"`
		res := w.shell(t, plantFakeCat(w, "procpid")+" && cd fake && "+
			"while [ ! -s ../helper.pid ]; do sleep 0.05; done; "+forge(t, "request")+" "+req+"; echo rc=$?")
		w.assertConfined(t, "procpid", res)
		if !strings.Contains(res.Output, "answer:") {
			t.Errorf("the forged request got no answer: %q", res.Output)
		}
	})
}

// announceHelper writes the pid of the server's child that has children
// of its own (the sandbox helper running the call's shell) to file.
func announceHelper(ctx context.Context, server int, file string) {
	for ctx.Err() == nil {
		for _, pid := range childrenOf(server) {
			if len(childrenOf(pid)) > 0 {
				os.WriteFile(file+".tmp", []byte(strconv.Itoa(pid)), 0o644)
				os.Chmod(file+".tmp", 0o666)
				os.Rename(file+".tmp", file)
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childrenOf lists pid's children.
func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
