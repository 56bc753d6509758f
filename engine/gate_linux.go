package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/sandbox"
)

// The kernel gate (the sandbox's half is sandbox/gate_linux.go): every
// execve and execveat in a call's sandbox stops until the server answers,
// so the rules hold for programs the shell never sees start (env, xargs,
// find -exec, interpreters, compiled programs). A forbidden program fails
// with EACCES and its process's stderr gets the shell's "Execution denied"
// line; a prompt rule asks; an allow rule lets it run, inside the sandbox:
// only the shell's own execs can be escalated. Execs no rule names
// continue after a lookup of their name, without more work.

// kernelGate answers the notifications of one call.
type kernelGate struct {
	d     *decider
	l     *notifListener
	asked *askedExecs
	log   *slog.Logger
	wg    sync.WaitGroup
	// shell is the call's Bash, whose own start is the gate's first
	// notification: the helper installs the gate on the one thread that
	// starts it, and nothing of the call runs before. It is the server's
	// command, not the agent's, and is not judged (with dangerous_commands
	// = "ask", `bash -c 'rm -f x'` would be asked about as a whole before
	// the shell asks about rm itself).
	shell string

	// told are the denials already recorded and shown, by process and
	// argv: execvp tries each $PATH directory in turn, and a denied
	// program found in two of them is one denial for the person reading.
	mu   sync.Mutex
	told map[string]bool
	// links caches resolved (see there).
	links map[string]string
}

// maxTold bounds kernelGate.told.
const maxTold = 1024

// viaKernel marks a decision the kernel gate made (Decision.Via).
const viaKernel = "kernel"

// serve answers notifications until every process under the gate is gone
// or ctx ends, then waits for the answers in progress and closes the
// listener (an exec still waiting then fails).
func (g *kernelGate) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, g.l.stop)
	defer stop()
	for {
		var n seccompNotif
		if err := g.l.receive(&n); err != nil {
			if ctx.Err() == nil && !errors.Is(err, errGateClosed) {
				g.log.Warn("kernel gate: receiving notifications failed; the call's program starts now fail", "error", err)
			}
			break
		}
		if g.shell != "" {
			first := g.shell
			g.shell = ""
			if c, err := readExecCall(&n); err == nil && c.path == first {
				g.reply(n.ID, 0)
				continue
			}
		}
		g.handle(ctx, &n)
	}
	g.wg.Wait()
	g.l.Close()
}

// handle answers one notification: at once when no rule can concern the
// program (the fast path, on this goroutine), else from a goroutine of its
// own, since a prompt may keep it waiting.
func (g *kernelGate) handle(ctx context.Context, n *seccompNotif) {
	// While a required audit log refuses records, every program start is
	// denied (decideKernel says why), those no rule names included.
	blocked := g.d.call.Decisions.Blocked() != nil
	p, _ := g.d.store.Policy(ctx) // a failed reload keeps the last good rules
	if !blocked && p.Len() == 0 && !g.d.dangers.askConfined {
		g.reply(n.ID, 0) // no rule at all: nothing to read
		return
	}
	// The fast path does not re-validate the notification after reading:
	// its only answer is "continue", which the kernel drops if the
	// process has died (and a pid read after that may name another).
	c, err := readExecCall(n)
	if !blocked && err == nil && !g.concerns(p, c) {
		g.reply(n.ID, 0)
		return
	}
	id := n.ID
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.decide(ctx, id, c, err)
	}()
}

// concerns says whether any rule (or the dangerous-command heuristic, when
// it asks inside the sandbox) might apply to c: a rule for its name, for
// its path, for the file a symbolic link leads to, or a program loader
// that runs another program without an exec.
func (g *kernelGate) concerns(p *policy.Policy, c execCall) bool {
	path := c.path
	if path == "" { // fexecve: the file behind the descriptor
		f, err := c.file()
		if err != nil {
			return true
		}
		path = f
	}
	base := filepath.Base(path)
	if p.HasRules(base) || isLoader(base) || g.d.dangers.askConfined && dangerousName(base) {
		return true
	}
	if !filepath.IsAbs(path) {
		f, err := c.file()
		if err != nil {
			return true
		}
		path = f
	}
	if p.HasRules(filepath.Clean(path)) {
		return true
	}
	if r := g.resolved(c, path); r != "" {
		return p.HasRules(filepath.Base(r)) || p.HasRules(r)
	}
	return false
}

// resolved is c.resolved, remembered for the call for an absolute path
// whose directory lies outside every writable root: there the sandbox can
// neither add nor re-point a symbolic link, and the lstat through the
// process's root is the fast path's largest cost. A program in a writable
// root is looked at every time.
func (g *kernelGate) resolved(c execCall, path string) string {
	if !filepath.IsAbs(c.path) {
		return c.resolved()
	}
	g.mu.Lock()
	r, ok := g.links[path]
	g.mu.Unlock()
	if ok {
		return r
	}
	r = c.resolved()
	dir, err := filepath.EvalSymlinks("/proc/" + strconv.Itoa(c.pid) + "/root" + filepath.Dir(path))
	if err != nil {
		return r
	}
	for _, root := range g.d.roots {
		if underDir(dir, root) || underDir(root, dir) {
			return r
		}
	}
	g.mu.Lock()
	if g.links == nil || len(g.links) >= maxLinks {
		g.links = map[string]string{}
	}
	g.links[path] = r
	g.mu.Unlock()
	return r
}

// maxLinks bounds kernelGate.links.
const maxLinks = 4096

// decide reads the whole exec, checks the process is still the one that
// stopped, and answers as the rules say.
func (g *kernelGate) decide(ctx context.Context, id uint64, c execCall, readErr error) {
	var argv []string
	var file string
	err := readErr
	if err == nil {
		argv, err = readArgv(c.pid, c.argv)
	}
	if err == nil {
		file, err = c.file()
	}
	workdir := c.workdir()
	// A notification names the thread that execs (a Go program execs
	// from any of its threads); the shell's client and the records know
	// its process.
	if tgid := threadGroup(c.pid); tgid > 0 {
		c.pid = tgid
	}
	// What was read came from the stopped process only if it is still
	// stopped there: a pid read after its process died may be another's.
	if !g.l.valid(id) {
		return
	}
	if err != nil {
		g.deny(id, c.pid, Record{Program: c.path, Argv: argv, Via: viaKernel}, "the kernel gate could not read this program start: "+err.Error())
		return
	}
	if _, err := os.Stat(c.procPath()); err != nil {
		// No such program (execvp trying each $PATH directory): the
		// exec fails by itself, and there is nothing to decide.
		g.reply(id, 0)
		return
	}
	// The shell's client asked about this very exec and was told Run:
	// it is not asked about or recorded again (a forbidden rule is still
	// checked: the gate resolves names the shell does not).
	asked := g.asked.take(c.pid, file, argv)
	if len(argv) == 0 {
		argv = []string{file}
	}
	var (
		rec      Record
		recorded bool
	)
	for _, ex := range candidates(c, file, argv, workdir) {
		dec, record := g.d.decideKernel(ctx, ex, asked)
		if dec.Action == escalate.Deny {
			g.deny(id, c.pid, newRecord(ex, dec), dec.Reason)
			return
		}
		if record && !recorded {
			rec, recorded = newRecord(ex, dec), true
			rec.Via = viaKernel
		}
	}
	if recorded {
		g.d.call.Decisions.Record(rec)
	}
	g.reply(id, 0)
}

// candidates are the ways an exec can name the program that runs, each of
// which the rules must allow: the file as named, the file its symbolic
// links lead to (a link under another name), and for the dynamic loader
// the program it is asked to run.
func candidates(c execCall, file string, argv []string, workdir string) []escalate.Exec {
	out := []escalate.Exec{{File: file, Argv: argv, Workdir: workdir, Pid: c.pid}}
	if r := c.resolved(); r != "" && r != file {
		out = append(out, escalate.Exec{File: r, Argv: argv, Workdir: workdir, Pid: c.pid})
	}
	if isLoader(filepath.Base(file)) {
		if prog, rest, ok := loaderTarget(argv); ok {
			if !filepath.IsAbs(prog) {
				prog = filepath.Join(workdir, prog)
			}
			out = append(out, escalate.Exec{File: prog, Argv: append([]string{prog}, rest...), Workdir: workdir, Pid: c.pid})
		}
	}
	return out
}

// deny records rec as a denial for reason, tells the process on its
// stderr, as the shell would, and fails its exec with EACCES.
func (g *kernelGate) deny(id uint64, pid int, rec Record, reason string) {
	defer g.reply(id, syscall.EACCES)
	if !g.firstDenial(pid, rec.Argv) {
		return
	}
	rec.Decision, rec.Reason, rec.Via = escalate.Deny, reason, viaKernel
	g.d.call.Decisions.Record(rec)
	msg := "Execution denied"
	if reason != "" {
		msg += ": " + reason
	}
	if err := writeStderr(pid, msg+"\n"); err != nil {
		g.log.Debug("kernel gate: could not write the denial on the program's stderr", "pid", pid, "error", err)
	}
}

// firstDenial says whether process pid has not been denied argv before.
func (g *kernelGate) firstDenial(pid int, argv []string) bool {
	k := askedKey(pid, "", argv)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.told[k] {
		return false
	}
	if g.told == nil || len(g.told) >= maxTold {
		g.told = map[string]bool{}
	}
	g.told[k] = true
	return true
}

func (g *kernelGate) reply(id uint64, errno syscall.Errno) {
	if err := g.l.answer(id, errno); err != nil {
		g.log.Warn("kernel gate: answering a notification failed", "error", err)
	}
}

// decideKernel decides an exec only the kernel gate saw. It can run in
// place or fail; it cannot be escalated (the process that asked is not a
// wrapper the server can hand a result to): the answer is Run or Deny.
// record is false when there is nothing to record: no rule applied.
// With asked (the shell's client was answered Run for this exec), only a
// forbidden rule can change the answer, and nothing else is recorded.
func (d *decider) decideKernel(ctx context.Context, ex escalate.Exec, asked bool) (dec escalate.Decision, record bool) {
	if err := d.call.Decisions.Blocked(); err != nil {
		return answer(dec, escalate.Deny, err.Error()), true
	}
	args := ex.Argv[1:]
	v := d.evaluate(ctx, ex, args)
	dec.Rule = ruleName(v.Rule)
	cmd := append([]string{ex.File}, args...)
	const inside = "; started by a program other than the shell, so it ran inside the sandbox (only the shell's own program starts can be escalated)"
	switch {
	case v.Decision == policy.Forbidden:
		reason := v.Justification()
		if reason == "" {
			reason = v.Reason(ex.Argv)
		}
		return answer(dec, escalate.Deny, reason), true

	case asked:
		return escalate.Decision{Action: escalate.Run}, false

	case v.Decision == policy.Allow:
		return answer(dec, escalate.Run, "allowed by rule"+inside), true

	case v.Decision == policy.Prompt && v.Source == policy.FromRule:
		if d.approvals.has(cmd) {
			return answer(dec, escalate.Run, "approved earlier (always allow)"+inside), true
		}
		ans, ok := d.call.Ask(ctx, PromptRequest{Command: cmd, Workdir: ex.Workdir, Rule: dec.Rule,
			Justification: joinSentences(v.Justification(), "Started by a program other than the shell: allowed, it runs inside the sandbox.")})
		if !ok {
			return answer(dec, escalate.Deny, ans.Reason), true
		}
		if ans.Answer == AlwaysAllow {
			d.approvals.add(cmd)
		}
		return answer(dec, escalate.Run, "user approved: "+ans.Answer.String()+inside), true

	case v.Decision == policy.Prompt && d.dangers.askConfined:
		dec = d.dangerous(ctx, dec, ex, args)
		if dec.Action == escalate.Deny {
			return dec, true
		}
		return answer(dec, escalate.Run, dec.Reason+inside), true
	}
	return escalate.Decision{Action: escalate.Run}, false
}

// isLoader says whether name is the dynamic loader, which runs the program
// named in its arguments without another exec.
func isLoader(name string) bool {
	// glibc's ld-linux-*.so.N (ld-2.31.so before 2.34), musl's
	// ld-musl-*.so.1, ld64.so.N on powerpc and s390.
	return name == "ld.so" || strings.HasPrefix(name, "ld-") && strings.Contains(name, ".so") ||
		strings.HasPrefix(name, "ld64.so")
}

// loaderOptionsWithValue are the loader's options that take the next
// argument (glibc's ld.so).
var loaderOptionsWithValue = map[string]bool{
	"--library-path": true, "--inhibit-rpath": true, "--audit": true, "--preload": true,
	"--argv0": true, "--glibc-hwcaps-prefix": true, "--glibc-hwcaps-mask": true,
}

// loaderTarget is the program a loader command line runs, and its
// arguments.
func loaderTarget(argv []string) (prog string, rest []string, ok bool) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			if i+1 < len(argv) {
				return argv[i+1], argv[i+2:], true
			}
			return "", nil, false
		case loaderOptionsWithValue[a]:
			i++
		case strings.HasPrefix(a, "--"):
		default:
			return a, argv[i+1:], true
		}
	}
	return "", nil, false
}

// dangerousName says whether the heuristic could call a program of this
// name dangerous (see policy.IsDangerous).
func dangerousName(name string) bool {
	switch name {
	case "git", "rm", "sudo", "bash", "sh", "zsh":
		return true
	}
	return strings.HasSuffix(name, "git")
}

// gateRunner starts a call's kernel gate when the sandbox helper reports
// one, and ends it with the call.
type gateRunner struct {
	d      *decider
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	shell  string // the call's Bash (kernelGate.shell)

	// reported is closed once the helper's report is in (start);
	// expected says a report is coming (expectReport).
	reported     chan struct{}
	reportedOnce sync.Once

	mu       sync.Mutex
	why      string // why the call has no gate ("" with one, or before the report)
	on       bool
	expected bool
}

func (e *Engine) newGateRunner(d *decider, log *slog.Logger) *gateRunner {
	ctx, cancel := context.WithCancel(context.Background())
	d.asked = newAskedExecs()
	return &gateRunner{d: d, log: log, ctx: ctx, cancel: cancel, shell: e.bash.Path, reported: make(chan struct{})}
}

// startSandboxed starts argv with p under spec (sandbox.Launcher.Start),
// with gate taking the helper's kernel gate report.
func (e *Engine) startSandboxed(ctx context.Context, spec sandbox.Spec, argv []string, gate *gateRunner, p sandbox.Proc) (*exec.Cmd, error) {
	p.OnGate = gate.start
	cmd, err := e.launcher.Start(ctx, spec, argv, p)
	if err == nil && spec.KernelGate {
		gate.expectReport()
	}
	return cmd, err
}

// expectReport says that a helper was started with this runner's start as
// its Proc.OnGate (sandbox.Launcher.Start succeeded with a kernel gate
// asked): end, note and active wait for its report, which comes at the
// latest when the helper ends.
func (r *gateRunner) expectReport() {
	r.mu.Lock()
	r.expected = true
	r.mu.Unlock()
}

// awaitReport waits for the report, if one is coming.
func (r *gateRunner) awaitReport() {
	r.mu.Lock()
	expected := r.expected
	r.mu.Unlock()
	if expected {
		<-r.reported
	}
}

// start is the call's sandbox.Proc.OnGate.
func (r *gateRunner) start(g sandbox.Gate) {
	defer r.reportedOnce.Do(func() { close(r.reported) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if g.Listener == nil {
		r.why = g.Why
		r.log.Debug("no kernel gate in this call", "why", g.Why)
		return
	}
	l, err := newNotifListener(g.Listener)
	if err != nil {
		// The helper's execs now fail (nobody answers): the call fails
		// closed, and says why.
		r.why = err.Error()
		r.log.Error("kernel gate", "error", err)
		return
	}
	r.on = true
	r.done = make(chan struct{})
	kg := &kernelGate{d: r.d, l: l, asked: r.d.asked, log: r.log, shell: r.shell}
	go func() {
		defer close(r.done)
		kg.serve(r.ctx)
	}()
}

// end stops the gate once the call is over and waits for it.
func (r *gateRunner) end() {
	r.awaitReport()
	r.cancel()
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}

// active says whether the call's programs started under the gate.
func (r *gateRunner) active() bool {
	r.awaitReport()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.on
}

// note is what the call's result says about the gate: nothing when it was
// on; otherwise that the rules held for the shell's own program starts
// only, and why (danger-full-access included: the helper reports it has
// no sandbox to hold a gate, and its programs are no less unchecked).
func (r *gateRunner) note(spec sandbox.Spec) string {
	r.awaitReport()
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.on:
		return ""
	case !spec.KernelGate:
		return noteNoKernelGate + " (the kernel gate is turned off: --no-kernel-gate or kernel_gate = false)"
	case r.why != "":
		return noteNoKernelGate + " (the kernel gate is unavailable: " + r.why + ")"
	}
	return noteNoKernelGate
}

// noteNoKernelGate is a call's note when its sandbox had no kernel gate.
const noteNoKernelGate = "rules were checked for the shell's own program starts only, not for programs started by other programs"
