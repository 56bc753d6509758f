package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/execgate/execgate/internal/companion"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/repotrust"
	"github.com/execgate/execgate/sandbox"
)

// Report writes what the engine runs with, for `execgate doctor`.
func (e *Engine) Report(w io.Writer) {
	fmt.Fprintf(w, "patched Bash:       %s (found via %s; probe: execs intercepted", e.bash.Path, e.bashFrom)
	if e.bash.Sticky {
		fmt.Fprintf(w, ", even after `unset EXEC_WRAPPER`)\n")
	} else {
		fmt.Fprintf(w, "; WARNING: a script can switch this off with `unset EXEC_WRAPPER`: %s)\n", bashBuildHint)
	}
	kind := "symlink to this binary"
	if e.opts.Execve != "" {
		kind = "flag --execve"
	}
	fmt.Fprintf(w, "execve wrapper:     %s (%s)\n", e.wrapper, kind)
	if e.nsexec != "" {
		fmt.Fprintf(w, "sandbox launcher:   %s (next to the patched Bash or this binary)\n", e.nsexec)
	} else {
		fmt.Fprintf(w, "sandbox launcher:   MISSING: no call runs (scripts/build-bash.sh, run by `make bash`, builds %s next to the patched Bash)\n", companion.NSExec)
	}
	fmt.Fprintf(w, "escalate reaper:    %s (%s)\n", e.reaper, e.reaperWhy)
	if e.helpersFrom == helpersInstalled {
		fmt.Fprintf(w, "wrapper directory:  %s (installed beside execgate)\n", e.helperDir)
	} else if e.helpersFrom != "" {
		fmt.Fprintf(w, "wrapper directory:  %s (%s, made again if removed; none installed in %s: `make install` puts one there)\n",
			e.helperDir, e.helpersFrom, libexecDir(e.self))
	}
	fmt.Fprintf(w, "login calls:        %s\n", e.logins.describe())
	if cfgPath, err := e.opts.ConfigFile(); err == nil {
		state := "not present"
		if _, err := os.Stat(cfgPath); err == nil {
			state = "loaded"
		}
		fmt.Fprintf(w, "config:             %s (%s)\n", cfgPath, state)
	}
	fmt.Fprintf(w, "rules home:         %s (from %s; always allow appends to %s)\n", e.home, homeSource(e.opts), policy.DefaultRulesFile(e.home))
	// As a call with the server's directory as its workspace would check.
	roots := e.roots.with(nil)
	if ws, err := trustRoots(e.defaultSpec(e.log)); err == nil {
		roots = e.roots.with(ws)
	}
	if err := e.checkPolicyFiles(roots); err != nil {
		fmt.Fprintf(w, "policy files:       REFUSED for calls in %s: %s\n", Printable(e.cwd), Printable(err.Error()))
	} else {
		fmt.Fprintf(w, "policy files:       rules, config and requirements are outside the writable roots %s\n", Printable(fmt.Sprint(roots)))
	}
	// The rules a call starting in the server's cwd gets, as before
	// project rules followed each call.
	var notes []note
	// Until the project's rules are found, the shared ones and their
	// error: the errors met on the way add to it.
	p, err := e.stores.base.Policy(context.Background())
	if roots, rerr := trustRoots(e.defaultSpec(e.log)); rerr != nil {
		err = errors.Join(err, rerr)
	} else {
		var dirs []string
		dirs, notes = e.projectRules(e.cwd, roots)
		if store, gerr := e.stores.get(context.Background(), dirs); gerr != nil {
			err = errors.Join(err, gerr)
		} else {
			// The project's store reads the shared files too: its
			// policy and error replace the shared ones.
			p, err = store.Policy(context.Background())
		}
	}
	files := p.Files()
	fmt.Fprintf(w, "rules:              %d rules from %d files (project rules for %s; each call reads those of its workdir)\n", p.Len(), len(files), e.cwd)
	counts := p.RulesByFile()
	for _, f := range files {
		fmt.Fprintf(w, "  %s (%s)\n", Printable(f), describeCounts(counts[f]))
	}
	if req := e.sources.RequirementsFile(); req != "" {
		if file, n := p.Requirements(); file != "" {
			fmt.Fprintf(w, "requirements:       %s (%d rules, after all rules files)\n", file, n)
		} else {
			fmt.Fprintf(w, "requirements:       %s (not present)\n", req)
		}
		for _, warning := range p.Warnings() {
			fmt.Fprintf(w, "  warning: %s\n", Printable(warning))
		}
	}
	if err != nil {
		fmt.Fprintf(w, "  ERROR: %s\n", Printable(err.Error()))
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  note: %s\n", Printable(n.text))
	}
	fmt.Fprintln(w)
	caps := e.launcher.Capabilities()
	if e.opts.NoKernelGate {
		caps.KernelGate, caps.KernelGateError = false, "turned off (--no-kernel-gate or kernel_gate = false in config.toml)"
	}
	_ = sandbox.Report(w, caps)
	e.reportNestedBash(w, caps.KernelGate)
	fmt.Fprintf(w, "process bound:      %s\n\n", e.launcher.ProcessBound())
	e.reportDangerous(w)
	e.reportRepoTrust(w)
}

// reportDangerous says what happens to a dangerous command (rm -rf, git
// reset --hard): the mode decides whether a user is ever asked about one
// that stays inside the sandbox.
func (e *Engine) reportDangerous(w io.Writer) {
	mode := "confine: run inside the sandbox without asking; ask only where it would run unconfined"
	if e.askDangerous {
		mode = "ask: ask the user, also where the sandbox would contain it (Codex 0.97's behaviour)"
	}
	fmt.Fprintf(w, "dangerous commands:\n  %-20s%s\n", "mode:", mode)
}

// reportRepoTrust says which programs need a trusted repository to be
// escalated, and whether an allowed `git status` would escalate in the
// server's directory on the first call.
func (e *Engine) reportRepoTrust(w io.Writer) {
	fmt.Fprintf(w, "repository trust (programs that run repository code escalate only where no sandbox could write it):\n")
	fmt.Fprintf(w, "  %-20s%s\n", "programs:", e.repoPrograms)
	untrusted := "run inside the sandbox (untrusted_repository = \"ask\" asks instead)"
	if e.askUntrusted {
		untrusted = "ask the user"
	}
	fmt.Fprintf(w, "  %-20s%s\n", "elsewhere they:", untrusted)
	git, err := exec.LookPath("git")
	if err != nil {
		return
	}
	spec := e.defaultSpec(e.log)
	prot, err := e.launcher.Protection(spec)
	if err != nil {
		fmt.Fprintf(w, "  %-20scannot tell: %s\n", "git here:", Printable(err.Error()))
		return
	}
	reg := repotrust.NewRegistry(e.repoPrograms, os.Environ())
	reg.Observe(prot)
	env := map[string]string{}
	for _, kv := range e.env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	// The shell of a call inherits the server's environment.
	v := reg.Check(repotrust.Exec{File: git, Argv: []string{"git", "status"}, Workdir: e.cwd, Env: e.escEnv.Environ(e.escEnv.FromShell(env))})
	switch {
	case !spec.Policy.Sandboxed():
		fmt.Fprintf(w, "  %-20sescalates (%s: nothing is checked)\n", "git here:", spec.Policy.Mode)
	case v.Trusted:
		fmt.Fprintf(w, "  %-20sescalates: %s\n", "git here:", Printable(v.Reason))
	default:
		fmt.Fprintf(w, "  %-20sruns sandboxed: %s\n", "git here:", Printable(v.Reason))
	}
}

// ClientEnv is the environment an MCP client must give `execgate server`
// for it to find what this engine found through this process's
// environment (nil for a failed engine).
func (e *Engine) ClientEnv() map[string]string {
	if e == nil {
		return nil
	}
	env := map[string]string{}
	switch e.bashFrom {
	case "$" + EnvBash, "$" + envCodexBash:
		env[e.bashFrom[1:]] = e.bash.Path
	}
	for _, k := range []string{"EXECGATE_HOME", "CODEX_HOME"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	if _, ok := env["CODEX_HOME"]; !ok && env["EXECGATE_HOME"] == "" && e.opts.CodexHome == "" {
		// The rules home, named even when it is the default: a client
		// that passes no environment, or another HOME, would lose it.
		// (--codex-home names it in the arguments already.)
		if home, err := e.opts.Home(); err == nil {
			env["CODEX_HOME"] = home
		}
	}
	return env
}

// reportNestedBash says whether a Bash a call starts itself is the patched
// one, and which system files it replaces; if not, what decides the
// programs it starts (the kernel gate, when calls get one).
func (e *Engine) reportNestedBash(w io.Writer, gate bool) {
	fmt.Fprintf(w, "nested Bash:\n")
	if targets := e.launcher.ShellTargets(e.bash.Path); len(targets) > 0 {
		fmt.Fprintf(w, "  %-20sthe patched Bash, mounted read-only over %s (bash -c and #!/bin/bash scripts are decided like the script's own; sh stays the system's)\n",
			"sandboxed modes:", Printable(strings.Join(targets, ", ")))
	} else if gate {
		fmt.Fprintf(w, "  %-20sthe system's Bash, UNPATCHED: the kernel gate applies the rules to the programs a nested bash -c starts, but allow rules do not escalate them (%s)\n",
			"sandboxed modes:", e.nestedBashWhy())
	} else {
		fmt.Fprintf(w, "  %-20sthe system's Bash, UNPATCHED: the programs a nested bash -c starts are not decided by the rules (%s)\n",
			"sandboxed modes:", e.nestedBashWhy())
	}
	fmt.Fprintf(w, "  %-20sthe system's Bash, unpatched (no mount namespace)\n\n", string(sandbox.DangerFullAccess)+":")
}

func (e *Engine) nestedBashWhy() string {
	if c := e.launcher.Capabilities(); !c.Namespaces {
		return "no user namespaces: " + Printable(c.NamespacesError)
	}
	return "no system Bash found to replace"
}
