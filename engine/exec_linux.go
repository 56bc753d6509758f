package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/sandbox"
)

// Exec implements Engine: `execgate sandbox SPEC -- BASH -c COMMAND`
// (BASH_ENV the login environment for a login call, or -lc where there is
// none; see login_linux.go)
// with the call's escalate session as fd 3, every exec decided by the
// policy.
func (e *Engine) Exec(ctx context.Context, call *Call) (Outcome, error) {
	if err := unchanged("patched Bash", e.bash.Path, e.bashID); err != nil {
		return Outcome{}, err
	}
	log := e.callLog(call)
	if err := e.checkHelpers(log); err != nil {
		return Outcome{}, err
	}
	spec, notes := e.spec(call, log)
	// Said first in the note once the call is over: what it says depends
	// on whether the call's kernel gate came up.
	nestedUnpatched := spec.Policy.Sandboxed() && !e.launcher.Capabilities().Namespaces
	defer e.prepareSpare(spec)
	var lay *sandbox.Layout
	if spec.Policy.Profile != nil {
		// What the profile asks for that does not exist, for the note (a
		// layout error fails the call when the sandbox starts).
		if l, err := e.launcher.Layout(spec); err == nil {
			lay = &l
			notes = append(notes, l.Notes...)
		}
	}
	trust, err := trustRootsWith(spec, lay)
	if err != nil {
		return Outcome{}, err
	}
	for _, p := range []string{e.wrapper, e.bash.Path} {
		for _, r := range trust {
			if underDir(p, r) && e.warned.first("writable:"+p) {
				// Replacing it is noticed before the next call (unchanged),
				// but not during this one.
				log.Warn("the sandboxed script can write this program; "+e.relocateHint(p), "program", p, "writable_root", r)
			}
		}
	}
	// Before anything of the call runs: no policy file may be writable by
	// this call's sandbox, nor by an earlier one's (selfapproval_linux.go).
	written := e.roots.with(trust)
	if err := e.checkPolicyFiles(written); err != nil {
		return Outcome{}, err
	}
	if err := e.checkAuditLog(written); err != nil {
		return Outcome{}, err
	}
	e.roots.add(trust)
	store, err := e.projectStore(ctx, call.Workdir, written)
	if err != nil {
		return Outcome{}, err
	}
	// What changed in the rules since the last call shows first.
	notes = append(e.rules.changes(ctx, store, log), notes...)
	e.rules.forget(2*maxProjectStores, e.stores.isLoaded)
	amend := func(tokens []string) error {
		if err := e.checkAmendTarget(); err != nil {
			return err
		}
		return e.stores.amend(store, tokens)
	}
	// A session deciding the execs of c (the call, or the login shell
	// that captures the login environment) under this call's policy, with
	// its own kernel gate when the sandbox has one (the gate's end is
	// deferred past the end of the session's processes).
	newSession := func(c *Call) (sess *escalate.Session, gate *gateRunner, err error) {
		d := newDecider(c, store, amend, &e.approvals, &e.warned, trust, e.opts.PreserveProgramPaths, log)
		d.repos = repoTrust{reg: e.repos, confined: spec.Policy.Sandboxed(), ask: e.askUntrusted, env: e.escEnv.Environ}
		d.dangers = dangerPolicy{confined: spec.Policy.Sandboxed(), askConfined: e.askDangerous}
		sessLog := log
		if c != call {
			sessLog = c.Log
		}
		gate = e.newGateRunner(d, sessLog)
		sopts := escalate.Options{Logger: sessLog, Env: e.escEnv, OnDecision: d.record,
			WritableRoots: trust, Reaper: e.reaper, Limits: &e.limits}
		sess, err = escalate.NewSession(auditGate{d, c.Decisions}, sopts)
		if err != nil {
			gate.end()
			return nil, nil, err
		}
		return sess, gate, nil
	}
	flag, bashEnv := "-c", ""
	if call.Login {
		var dlog *DecisionLog // where the profile's execs are logged and audited
		if call.Decisions != nil {
			dlog = call.Decisions.log
		}
		ls := e.logins.start(ctx, spec, written, func(ctx context.Context) (captured, error) {
			return e.captureLogin(ctx, spec, call.ID+"/login", newSession, dlog)
		})
		switch {
		case ls.BashEnv != "":
			bashEnv = ls.BashEnv
			// Readable under a permission profile that grants nothing
			// around it (like Bash and the wrapper).
			spec.Programs = append(slices.Clip(spec.Programs), bashEnv)
		case ls.Profile:
			flag = "-lc"
		default:
			notes = append(notes, ls.Note)
		}
	}
	sess, gate, err := newSession(call)
	if err != nil {
		return Outcome{}, err
	}
	defer gate.end()
	// helperCtx ends the helper (SIGTERM: it kills every process of the
	// call at once); runCall cancels it on timeout and cancellation.
	helperCtx, stopHelper := context.WithCancel(context.Background())
	defer stopHelper()
	args, stdin, err := bashArgs(flag, call.Command)
	if err != nil {
		sess.Close()
		return Outcome{}, err
	}
	if stdin != nil {
		// Closed when the call is over, its processes gone: a writer still
		// blocked (Bash never read the script) then ends.
		defer stdin.Close()
	}
	argv := append([]string{e.bash.Path}, args...)
	var helper *exec.Cmd
	start := func(out *os.File) (cmd *exec.Cmd, err error) {
		defer func() { helper = cmd }()
		return e.startSandboxed(helperCtx, spec, argv, gate, sandbox.Proc{
			Dir:    call.Workdir,
			Env:    e.callEnv(bashEnv),
			Stdin:  stdin,
			Stdout: out,
			Stderr: out,
			Extra:  sess.ChildFile(),
		})
	}
	oc, err := runCall(ctx, call, start, sess, stopHelper)
	if helper != nil {
		if n := e.launcher.ProcessStartsRefused(helper); n > 0 {
			notes = append(notes, fmt.Sprintf("the call reached its limit of %d processes (max_processes): %d process starts were refused", e.opts.MaxProcesses, n))
		}
	}
	if err == nil {
		if nestedUnpatched {
			notes = append([]string{nestedBashNote(gate.active())}, notes...)
		}
		oc.Note = joinNotes(append(append(notes, gate.note(spec)), oc.Note)...)
	}
	return oc, err
}

// callEnv is the environment of a call's Bash: the server's, the escalate
// wiring, and BASH_ENV naming the login environment to start from when
// bashEnv is set (the user's own BASH_ENV is restored by that file).
func (e *Engine) callEnv(bashEnv string) []string {
	env := append(slices.Clip(e.env), escalate.ShellEnv(3, e.wrapper)...)
	if bashEnv == "" {
		return env
	}
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "BASH_ENV=") })
	return append(env, "BASH_ENV="+bashEnv)
}

// prepareSpare has the next call's sandbox helper started as soon as this
// call's processes have ended, while its result is on the way. Started
// later (10 ms, as before December 2026), the spare came up during the
// next call, and on the 2-core test VM work done beside a call costs about
// a quarter more CPU than the same work done alone (8 clients against back
// to back, measured). Against that 10 ms delay, at once made calls with a
// 5 ms pause between them 0.76x the latency and 0.82x the CPU, calls back
// to back 0.91x the CPU with the same p50 (sidebyside -vs-execgate, 3
// rounds).
func (e *Engine) prepareSpare(spec sandbox.Spec) {
	e.launcher.Prepare(spec)
}

// callLog is the call's logger, else the engine's.
func (e *Engine) callLog(call *Call) *slog.Logger {
	if call.Log != nil {
		return call.Log
	}
	return e.log
}

// spec is the sandbox of a call: Codex's sandbox state when the client sent
// one (a permission profile or a sandbox policy), else the mode and roots
// from flags and config. notes tell the agent what of the client's request
// could not be honoured, and what ran instead.
func (e *Engine) spec(call *Call, log *slog.Logger) (spec sandbox.Spec, notes []string) {
	ws := call.Workspace
	if len(ws) == 0 {
		ws = []string{call.Workdir}
	}
	var pol sandbox.Policy
	if raw, field := codexPolicy(call.Sandbox); raw != nil {
		if err := json.Unmarshal(raw, &pol); err != nil {
			// The most restrictive mode, never none (sandbox.ErrUnknownMode,
			// sandbox.ErrUnknownProfile), and the agent is told.
			log.Warn("cannot use Codex's sandbox policy; running read-only", "policy", string(raw), "error", err)
			pol = sandbox.ReadOnlyPolicy()
			notes = append(notes, fmt.Sprintf("the client's %s could not be used (%v); this call ran read-only, without network", field, err))
		}
	} else {
		mode := call.Mode
		if mode == "" {
			mode = e.opts.Sandbox
		}
		m, err := sandbox.ParseMode(mode)
		if err != nil {
			log.Warn("unknown sandbox mode; running read-only", "mode", mode, "error", err)
			m = sandbox.ReadOnly
		}
		pol = sandbox.Policy{Mode: m, NetworkAccess: e.opts.Network}
		if m == sandbox.WorkspaceWrite {
			pol.WritableRoots = slices.Clone(e.opts.WritableRoots)
			pol.ExcludeSlashTmp = e.cfg.SandboxWorkspaceWrite.ExcludeSlashTmp
			pol.ExcludeTmpdirEnvVar = e.cfg.SandboxWorkspaceWrite.ExcludeTmpdirEnvVar
		}
	}
	if pol.Mode == sandbox.WorkspaceWrite && pol.Profile == nil {
		// Every workspace root is writable; the sandbox takes one as
		// "the" workspace and the others as extra roots. (A permission
		// profile names every writable path itself.)
		pol.WritableRoots = append(pol.WritableRoots, ws[1:]...)
		pol.WritableRoots = usableDirs(pol.WritableRoots, func(dir string, err error) {
			log.Warn("ignoring writable root", "root", dir, "error", err)
		})
	}
	spec = sandbox.Spec{Policy: pol, Workspace: ws[0], TmpDir: os.Getenv("TMPDIR"), Programs: []string{e.bash.Path, e.wrapper},
		Shell: e.bash.Path, KernelGate: !e.opts.NoKernelGate}
	return spec, notes
}

// defaultSpec is the sandbox of a call in the server's directory that
// brings no sandbox state: for startup checks, doctor and spare helpers.
func (e *Engine) defaultSpec(log *slog.Logger) sandbox.Spec {
	spec, _ := e.spec(&Call{Workdir: e.cwd}, log)
	return spec
}

// usableDirs keeps the absolute paths naming existing directories, cleaned
// and without duplicates, reporting the others.
func usableDirs(dirs []string, bad func(string, error)) []string {
	out := dirs[:0:0]
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			bad(d, fmt.Errorf("not an absolute path"))
			continue
		}
		d = filepath.Clean(d)
		if fi, err := os.Stat(d); err != nil {
			bad(d, err)
			continue
		} else if !fi.IsDir() {
			bad(d, fmt.Errorf("not a directory"))
			continue
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// trustRoots are the paths the program-trust rule treats as writable by
// the agent: the workspace-write roots of the call whatever its mode, since
// an earlier call (or this one, in danger-full-access) may have written
// there, and whatever a permission profile makes writable but the whole
// filesystem (which, like danger-full-access, would leave no program to
// trust). Resolved, as the policy compares resolved program paths.
func trustRoots(spec sandbox.Spec) ([]string, error) {
	return trustRootsWith(spec, nil)
}

// trustRootsWith is trustRoots with the layout of spec when the caller has
// it already (nil: computed here when needed).
func trustRootsWith(spec sandbox.Spec, lay *sandbox.Layout) ([]string, error) {
	ww := spec
	ww.Policy.Mode, ww.Policy.Profile = sandbox.WorkspaceWrite, nil
	roots, err := ww.Roots()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(roots))
	for _, r := range roots {
		out = append(out, r.Path)
	}
	if spec.Policy.Profile == nil || !spec.Policy.Sandboxed() {
		return out, nil
	}
	if lay == nil {
		l, err := spec.Layout()
		if err != nil {
			return nil, err
		}
		lay = &l
	}
	for _, r := range lay.Roots {
		if r.Path != "/" && !slices.Contains(out, r.Path) {
			out = append(out, r.Path)
		}
	}
	for _, f := range lay.WriteFiles {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// auditGate denies every exec while a required audit log cannot be
// written (DecisionLog.Blocked). The denial is recorded like any decision,
// and that record is what finds out when the audit log works again.
type auditGate struct {
	escalate.Decider
	decisions *Decisions
}

// Decide implements escalate.Decider.
func (g auditGate) Decide(ctx context.Context, ex escalate.Exec) escalate.Decision {
	if err := g.decisions.Blocked(); err != nil {
		return escalate.Decision{Action: escalate.Deny, Reason: err.Error()}
	}
	return g.Decider.Decide(ctx, ex)
}
