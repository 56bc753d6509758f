package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/leanwrapper"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/sandbox"
)

// engine is the execution engine: each call runs the patched Bash under the
// sandbox helper, with an escalate session deciding every exec.
type engine struct {
	opts     *Options
	log      *slog.Logger
	cfg      *policy.Config
	home     string // configuration home (rules, always-allow)
	bash     BashProbe
	bashFrom string // where the Bash was found
	bashID   fileID
	wrapper  string
	wrapID   fileID
	runDir   string // private; removed by Close ("" if none was made)
	store    *policy.Store
	sources  policy.Sources
	launcher *sandbox.Launcher
	// env is the server's environment without the escalate wiring, the
	// base of each call's Bash environment.
	env []string
	// escEnv pins what an escalated command must not take from the sandbox.
	escEnv    escalate.EnvPolicy
	approvals approvals
	warned    onceSet

	closeOnce sync.Once
}

// newEngine builds the engine. self is the execgate binary that plays the
// sandbox helper (and, without --execve or an embedded lean wrapper, the
// wrapper); empty means os.Executable.
func newEngine(opts *Options, log *slog.Logger, self string) (*engine, error) {
	cfg, warnings, err := ApplyConfig(opts)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	home, err := policy.Home()
	if err != nil {
		return nil, err
	}
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("locating the execgate binary (sandbox helper): %w", err)
		}
	}
	if self, err = filepath.Abs(self); err != nil {
		return nil, err
	}
	e := &engine{opts: opts, log: log, cfg: cfg, home: home}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()

	found, err := findBash(opts.Bash, os.Getenv, self)
	if err != nil {
		return nil, err
	}
	e.bashFrom = found.source
	if e.runDir, err = runtimeDir(os.Getenv); err != nil {
		return nil, err
	}
	if e.bash, err = probeBash(context.Background(), found.path, e.runDir); err != nil {
		return nil, err
	}
	if !e.bash.Sticky {
		log.Warn("this Bash stops intercepting execs when a script unsets EXEC_WRAPPER; execgate's patch does not", "bash", e.bash.Path, "hint", BashBuildHint)
	}
	if e.bashID, err = statID(e.bash.Path); err != nil {
		return nil, err
	}

	// The sandbox helper starts once per call: the lean binary plays it
	// when one is embedded (about a millisecond faster than execgate).
	helper := self
	if opts.Execve != "" {
		if e.wrapper, err = executableFile(opts.Execve); err != nil {
			return nil, fmt.Errorf("execve wrapper (flag --execve): %w", err)
		}
	} else if e.wrapper, err = leanwrapper.Install(e.runDir, self); err != nil {
		return nil, err
	} else {
		helper = leanwrapper.Helper(e.wrapper, self)
	}
	if e.wrapID, err = statID(e.wrapper); err != nil {
		return nil, err
	}

	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("current directory: %w", err)
	}
	e.sources = policy.Sources{Home: home, Cwd: cwd, Config: cfg, Extra: opts.Rules}
	files, notes, err := e.sources.Files()
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		log.Info(n)
	}
	e.store, err = e.sources.NewStore(context.Background(), policy.StoreOptions{CheckInterval: rulesCheckInterval, Home: home})
	if err != nil {
		return nil, err
	}
	p, _ := e.store.Policy(context.Background())
	for _, w := range p.Warnings() {
		log.Warn(w)
	}
	log.Debug("rules loaded", "rules", p.Len(), "files", files)

	e.launcher = sandbox.NewLauncher(helper, log)
	// A helper for the configured mode starts now, ahead of the first
	// call, and each call leaves one ready for the next: a call then
	// does not wait for the helper's process start.
	e.launcher.Prepare(e.spec(&Call{Workdir: cwd}, log))
	e.env = shellBaseEnv(os.Environ())
	e.escEnv = escalate.EnvPolicy{Set: map[string]string{}}
	// An escalated command finds its helpers and its configuration the
	// way the server would, not the way the sandboxed script says.
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			e.escEnv.Set[k] = v
		}
	}
	log.Debug("execution engine ready", "bash", e.bash.Path, "wrapper", e.wrapper, "runtime_dir", e.runDir)
	ok = true
	return e, nil
}

// rulesCheckInterval rate-limits the rules files' change checks.
const rulesCheckInterval = 200 * time.Millisecond

// Close ends the spare sandbox helpers and removes the engine's private
// runtime directory.
func (e *engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		if e.launcher != nil {
			e.launcher.Close()
		}
		if e.runDir != "" {
			err = os.RemoveAll(e.runDir)
		}
	})
	return err
}

// shellBaseEnv drops the escalate wiring a server started from an
// intercepted shell would pass on: the call sets its own.
func shellBaseEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case escalate.EnvSocket, escalate.EnvWrapper, escalate.EnvLegacyWrapper:
			continue
		}
		out = append(out, kv)
	}
	return out
}
