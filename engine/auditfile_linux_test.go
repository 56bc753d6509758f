package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
)

// Only a regular file on a disk filesystem is an audit log; the error
// names the path and what is wrong with it.
func TestAuditFileRefusesWhatKeepsNothing(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/full":     "not a regular file",
		"/dev/null":     "not a regular file",
		"/proc/version": "proc filesystem",
		fifo:            "not a regular file",
		t.TempDir():     "a directory",
	} {
		a, err := OpenAuditFile(path)
		if err == nil {
			a.Close()
			t.Errorf("%s accepted as audit log", path)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it named and %q", path, err, want)
		}
	}
}

// After logrotate renames the file, or someone deletes it, records go to a
// new file at the path.
func TestAuditFileFollowsThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAuditFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	write := func(s string) {
		t.Helper()
		if err := a.WriteRecord([]byte(`{"r":"` + s + `"}`)); err != nil {
			t.Fatal(err)
		}
	}
	write("1")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	write("2")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	write("3")
	for file, want := range map[string]string{path + ".1": `{"r":"1"}` + "\n", path: `{"r":"3"}` + "\n"} {
		if got, err := os.ReadFile(file); err != nil || string(got) != want {
			t.Errorf("%s holds %q (%v), want %q", file, got, err, want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("recreated audit log: %v %v, want mode 0600", fi, err)
	}
}

// A disk that fills up mid-record (RLIMIT_FSIZE here, in a child process)
// tears at most that record: the records after it are whole lines, each
// failure is counted and returned.
func TestAuditFileFullDisk(t *testing.T) {
	path := os.Getenv("EXECGATE_TEST_AUDIT_FULL")
	if path == "" {
		path = filepath.Join(t.TempDir(), "audit.jsonl")
		cmd := exec.Command(os.Args[0], "-test.run=^TestAuditFileFullDisk$", "-test.v")
		cmd.Env = append(os.Environ(), "EXECGATE_TEST_AUDIT_FULL="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		data, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		var whole []string
		for _, l := range lines {
			var r struct{ Argv []string }
			if json.Unmarshal([]byte(l), &r) == nil {
				whole = append(whole, r.Argv[1])
			}
		}
		// Records 0-5 fit under the limit, 6 is cut short, 7 finds the
		// file at the limit, 8 is written once there is room again.
		if got := strings.Join(whole, " "); got != "0 1 2 3 4 5 8" || len(lines) != 8 {
			t.Errorf("whole records %q in %d lines, want 0-5 and 8 in 8 lines:\n%s", got, len(lines), data)
		}
		if !strings.Contains(string(out), "lost 2") {
			t.Errorf("child did not report 2 lost records:\n%s", out)
		}
		return
	}
	record := func(i int) Record {
		return Record{Program: "/bin/echo", Argv: []string{"echo", fmt.Sprint(i), strings.Repeat("x", 100)}, Decision: escalate.Run}
	}
	line, _ := json.Marshal(auditRecord{Time: "2026-01-02T03:04:05Z", Call: "c1", Record: record(0)})
	var saved syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved)
	limit := syscall.Rlimit{Cur: uint64(6*(len(line)+1) + len(line)/2), Max: saved.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	a, err := OpenAuditFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dl := NewDecisionLog(slog.New(slog.DiscardHandler), a)
	dl.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	lost := 0
	for i := range 8 {
		if err := dl.Record("c1", record(i)); err != nil {
			lost++
		}
	}
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved)
	if err := dl.Record("c1", record(8)); err != nil {
		t.Fatalf("record after the disk has room: %v", err)
	}
	fmt.Printf("lost %d\n", lost)
}

// A decision the audit log does not take is reported in its call's note;
// with --audit-required it also stops the call, and every program start
// is denied until a record can be written again.
// auditedEngine is an engine without rules, a workspace, and a decision
// log writing to an audit file at path.
func auditedEngine(t *testing.T) (te *testEngine, ws, path string, dl *DecisionLog) {
	t.Helper()
	te = newTestEngine(t, "", nil)
	ws = t.TempDir()
	path = filepath.Join(testhelp.PrivateDir(t), "audit.jsonl")
	a, err := OpenAuditFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return te, ws, path, NewDecisionLog(testhelp.Logger(nil), a)
}

func TestEngineAuditFailures(t *testing.T) {
	te, ws, path, dl := auditedEngine(t)
	call := func(script string) *Result {
		t.Helper()
		res, err := Execute(context.Background(), te, te.opts, dl, Request{ID: "c", Command: script, Workdir: ws, Mode: ModeWorkspaceWrite, Workspace: []string{ws}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	breakPath := func() {
		t.Helper()
		os.Remove(path)
		if err := os.Mkdir(path, 0o700); err != nil { // no file can be opened there now
			t.Fatal(err)
		}
	}
	breakPath()
	if r := call("/bin/true; echo done"); r.Output != "done\n" || !strings.Contains(r.Note, "1 of this call's decisions are missing from the audit log") || !strings.Contains(r.Note, path) {
		t.Errorf("not required: output %q, note %q", r.Output, r.Note)
	}

	dl.Required = true
	// The failed record of /bin/true's denial stops the call, but the stop
	// (ending the helper and its processes) lands a moment after Bash has
	// its answer. Bash must therefore be kept busy until then by itself:
	// a program (sleep) is denied at once while the audit log is blocked,
	// and Bash would race on to the echo. A read from a pipe that never
	// gets data (opened read-write, Bash holds its writer) waits without
	// starting a program; only the call's stop ends it before 5 s, well
	// within the call's timeout.
	r := call("/bin/true; read -t 5 <> <(:); echo not-reached")
	if strings.Contains(r.Output, "not-reached") || r.TimedOut || !strings.Contains(r.Note, "--audit-required stopped the call") {
		t.Errorf("required: output %q, timed out %v, note %q", r.Output, r.TimedOut, r.Note)
	}
	// The denial's own record fails too, which stops this call as well.
	r = call("/bin/true; echo after")
	if len(r.Decisions) != 1 || r.Decisions[0].Decision != escalate.Deny || !strings.HasPrefix(r.Decisions[0].Reason, "the audit log "+path+" cannot be written") {
		t.Errorf("while the audit log is broken: output %q, decisions %+v", r.Output, r.Decisions)
	}

	os.Remove(path)
	r = call("/bin/true; /bin/echo works")
	// The first exec is still denied; its record, written, clears the way.
	if !strings.HasSuffix(r.Output, "works\n") || r.Note != "" {
		t.Errorf("once the audit log works: output %q, note %q", r.Output, r.Note)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("audit log has %d records, want the denial and the echo:\n%s", n, data)
	}
}

// TestAuditRequiredDeniesKernelGateStarts: once a required audit log
// refuses a record, a program another program starts is denied too (the
// kernel gate's fast path, for starts no rule names, does not let it
// through), in a call that was already running.
func TestAuditRequiredDeniesKernelGateStarts(t *testing.T) {
	te, ws, path, dl := auditedEngine(t)
	dl.Required = true
	run := func(id, script string) *Result {
		res, err := Execute(context.Background(), te, te.opts, dl, Request{ID: id, Command: script, Workdir: ws, Mode: ModeWorkspaceWrite, Workspace: []string{ws}, Timeout: time.Minute})
		if err != nil {
			t.Error(err)
			return &Result{}
		}
		return res
	}
	// The system sh (not the patched Bash) starts /bin/true over and over:
	// starts only the kernel gate sees, and no rule names.
	loop := filepath.Join(ws, "started")
	done := make(chan *Result, 1)
	go func() {
		done <- run("loop", `/bin/sh -c 'touch `+loop+`; i=0; while [ $i -lt 2000 ]; do /bin/true || exit 3; i=$((i+1)); done'`)
	}()
	for !testhelp.Exists(loop) {
		time.Sleep(10 * time.Millisecond)
	}
	os.Remove(path)
	if err := os.Mkdir(path, 0o700); err != nil { // the audit log cannot be opened now
		t.Fatal(err)
	}
	run("breaker", "/bin/true") // its record fails: the log is blocked
	r := <-done
	denied := false
	for _, d := range r.Decisions {
		if d.Via == viaKernel && d.Decision == escalate.Deny && strings.Contains(d.Reason, "--audit-required") && strings.HasSuffix(d.Program, "true") {
			denied = true
		}
	}
	if !denied {
		t.Errorf("no kernel-gate denial of /bin/true while the audit log was blocked: exit %d, output %q, decisions %+v", r.ExitCode, r.Output, r.Decisions)
	}
}
