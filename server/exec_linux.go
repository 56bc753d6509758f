package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/sandbox"
)

// Exec implements Engine: `execgate sandbox SPEC -- BASH -c|-lc COMMAND`
// with the call's escalate session as fd 3, every exec decided by the
// policy.
func (e *engine) Exec(ctx context.Context, call *Call) (Outcome, error) {
	if err := unchanged("patched Bash", e.bash.Path, e.bashID); err != nil {
		return Outcome{}, err
	}
	if err := unchanged("execve wrapper", e.wrapper, e.wrapID); err != nil {
		return Outcome{}, err
	}
	log := e.callLog(call)
	spec := e.spec(call, log)
	defer e.prepareSpare(spec)
	trust, err := trustRoots(spec)
	if err != nil {
		return Outcome{}, err
	}
	for _, p := range []string{e.wrapper, e.bash.Path} {
		for _, r := range trust {
			if underDir(p, r) && e.warned.first("writable:"+p) {
				// Replacing it is noticed before the next call (unchanged),
				// but not during this one.
				log.Warn("the sandboxed script can write this program; set XDG_RUNTIME_DIR, --execve or --bash outside the workspace", "program", p, "writable_root", r)
			}
		}
	}
	// Before anything of the call runs: no policy file may be writable by
	// this call's sandbox, nor by an earlier one's (selfapproval_linux.go).
	written := e.roots.with(trust)
	if err := e.checkPolicyFiles(written); err != nil {
		return Outcome{}, err
	}
	e.roots.add(trust)
	store, err := e.projectStore(ctx, call.Workdir, written)
	if err != nil {
		return Outcome{}, err
	}
	amend := func(tokens []string) error {
		if err := e.checkAmendTarget(); err != nil {
			return err
		}
		return e.stores.amend(store, tokens)
	}
	d := newDecider(call, store, amend, &e.approvals, &e.warned, trust, e.opts.PreserveProgramPaths, log)
	d.repos = repoTrust{reg: e.repos, confined: spec.Policy.Sandboxed(), ask: e.askUntrusted, env: e.escEnv.Environ}
	sess, err := escalate.NewSession(d, escalate.Options{Logger: log, Env: e.escEnv, OnDecision: d.record})
	if err != nil {
		return Outcome{}, err
	}
	flag := "-c"
	if call.Login {
		flag = "-lc"
	}
	// helperCtx ends the helper (SIGTERM: it kills every process of the
	// call at once); runCall cancels it on timeout and cancellation.
	helperCtx, stopHelper := context.WithCancel(context.Background())
	defer stopHelper()
	argv := []string{e.bash.Path, flag, call.Command}
	start := func(out *os.File) (*exec.Cmd, error) {
		return e.launcher.Start(helperCtx, spec, argv, sandbox.Proc{
			Dir:    call.Workdir,
			Env:    append(slices.Clip(e.env), escalate.ShellEnv(3, e.wrapper)...),
			Stdout: out,
			Stderr: out,
			Extra:  sess.ChildFile(),
		})
	}
	return runCall(ctx, call, start, sess, stopHelper)
}

// prepareSpare has the next call's sandbox helper started a moment after
// this call ends, once its result is on the way, rather than at once, when
// it would slow down sending the result. Measured (whole process, trivial
// calls, 2 cores): a 10 ms delay beats no delay both for calls back to back
// (p50 4.2 against 4.6 ms) and with a pause between them (3.8 against 4.1).
func (e *engine) prepareSpare(spec sandbox.Spec) {
	time.AfterFunc(spareDelay, func() { e.launcher.Prepare(spec) })
}

// spareDelay is how long after a call the next spare helper starts.
const spareDelay = 10 * time.Millisecond

// callLog is the call's logger, else the engine's.
func (e *engine) callLog(call *Call) *slog.Logger {
	if call.Log != nil {
		return call.Log
	}
	return e.log
}

// spec is the sandbox of a call: Codex's sandbox state when the client sent
// one, else the mode and roots from flags and config.
func (e *engine) spec(call *Call, log *slog.Logger) sandbox.Spec {
	ws := call.Workspace
	if len(ws) == 0 {
		ws = []string{call.Workdir}
	}
	var pol sandbox.Policy
	if raw := codexPolicy(call.Sandbox); raw != nil {
		if err := json.Unmarshal(raw, &pol); err != nil {
			// The most restrictive mode, never none (sandbox.ErrUnknownMode).
			log.Warn("cannot use Codex's sandbox policy; running read-only", "policy", string(raw), "error", err)
			pol = sandbox.ReadOnlyPolicy()
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
	if pol.Mode == sandbox.WorkspaceWrite {
		// Every workspace root is writable; the sandbox takes one as
		// "the" workspace and the others as extra roots.
		pol.WritableRoots = append(pol.WritableRoots, ws[1:]...)
		pol.WritableRoots = usableDirs(pol.WritableRoots, func(dir string, err error) {
			log.Warn("ignoring writable root", "root", dir, "error", err)
		})
	}
	return sandbox.Spec{Policy: pol, Workspace: ws[0], TmpDir: os.Getenv("TMPDIR")}
}

// codexPolicy is the sandbox policy in Codex's state, nil when none.
func codexPolicy(st *SandboxState) json.RawMessage {
	switch {
	case st == nil:
		return nil
	case st.Policy != nil:
		return st.Policy
	default:
		return st.PermissionProfile
	}
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
// there. Resolved, as the policy compares resolved program paths.
func trustRoots(spec sandbox.Spec) ([]string, error) {
	spec.Policy.Mode = sandbox.WorkspaceWrite
	roots, err := spec.Roots()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(roots))
	for i, r := range roots {
		out[i] = r.Path
	}
	return out, nil
}
