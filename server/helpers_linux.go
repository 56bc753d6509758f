package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/execgate/execgate/internal/leanwrapper"
	"github.com/execgate/execgate/internal/nsexecbin"
)

// helpers are the programs the server runs for each call besides the Bash:
// the execve wrapper, the sandbox helper and the namespace launcher.
type helpers struct {
	wrapper string
	helper  string
	nsexec  string // "" when os/exec makes the namespaces
}

// Where the helpers come from, for logs and doctor.
const (
	helpersInstalled = "installed"
	helpersPrivate   = "private runtime directory"
)

// installedHelperDir is where `make install` puts the helpers of the
// execgate binary self (PREFIX/bin/execgate): PREFIX/libexec/execgate,
// beside the patched Bash (findBash). "" when no wrapper is there.
func installedHelperDir(self string) string {
	dir := libexecDir(self)
	if _, err := os.Lstat(filepath.Join(dir, leanwrapper.Name)); err != nil {
		return ""
	}
	return dir
}

// installHelpers puts the helpers of the execgate binary self into dir,
// as the server runs them from there (InstallHelpersMain).
func installHelpers(dir, self string) error {
	_, nsErr, err := placeHelpers(dir, self, "")
	return errors.Join(err, nsErr)
}

// placeHelpers makes dir hold self's helpers and returns them: files that
// are current already are kept as they are, so that a directory the server
// cannot write (an install prefix of another user) serves as long as it is
// current. execve, when set, is the wrapper to use instead (flag --execve);
// the sandbox helper is then self. nsErr is why there is no namespace
// launcher, which the server can do without (more slowly).
func placeHelpers(dir, self, execve string) (h helpers, nsErr, err error) {
	h.helper = self
	if execve != "" {
		if h.wrapper, err = executableFile(execve); err != nil {
			return helpers{}, nil, fmt.Errorf("execve wrapper (flag --execve): %w", err)
		}
	} else {
		if h.wrapper, err = leanwrapper.Install(dir, self); err != nil {
			return helpers{}, nil, err
		}
		// The lean binary, when embedded, is a faster sandbox helper.
		h.helper = leanwrapper.Helper(h.wrapper, self)
	}
	h.nsexec, nsErr = nsexecbin.Path(dir, self)
	return h, nsErr, nil
}

// setupHelpers finds the helpers the engine runs: those installed beside
// self when they are current (or can be made so), else copies in a new
// private runtime directory.
func (e *engine) setupHelpers(self string, log *slog.Logger) (helpers, error) {
	if dir := installedHelperDir(self); dir != "" {
		h, nsErr, err := placeHelpers(dir, self, e.opts.Execve)
		if err = errors.Join(err, nsErr); err == nil {
			e.helperDir, e.helpersFrom = dir, helpersInstalled
			return h, nil
		}
		log.Warn("the helpers installed beside execgate are not this execgate's and cannot be updated (run `make install` again); using a private runtime directory instead",
			"dir", dir, "error", err)
	}
	var err error
	if e.runDir, e.runLock, err = runtimeDir(e.opts.RuntimeDir, os.Getenv); err != nil {
		return helpers{}, err
	}
	e.helperDir, e.helpersFrom = e.runDir, helpersPrivate
	h, nsErr, err := placeHelpers(e.runDir, self, e.opts.Execve)
	if err != nil {
		return helpers{}, err
	}
	if nsErr != nil {
		log.Warn("no namespace launcher; each call's namespaces are made by a copy of the server (slower)", "error", nsErr)
		h.nsexec = ""
	}
	return h, nil
}

// checkHelpers fails when a helper is no longer the file the server
// started with: a replaced wrapper might not ask, a replaced launcher runs
// before any confinement. A helper of the private runtime directory that
// is gone (the whole directory, most likely: a user cleaning ~/.cache, a
// logout emptying $XDG_RUNTIME_DIR) is put back first, with the directory:
// that must not break every later call. The check is the stat of each
// helper a call needs anyway; a removal costs nothing until one is gone.
func (e *engine) checkHelpers(log *slog.Logger) error {
	e.helpersMu.Lock()
	defer e.helpersMu.Unlock()
	err := e.helpersUnchanged()
	var missing *fs.PathError
	if err == nil || e.runDir == "" || !errors.As(err, &missing) || !errors.Is(err, fs.ErrNotExist) || filepath.Dir(missing.Path) != e.runDir {
		return err
	}
	if err := e.remakeRuntimeDir(); err != nil {
		return fmt.Errorf("the private runtime directory %s, or a helper in it, was removed and cannot be made again (restart the server): %w", e.runDir, err)
	}
	log.Warn("the private runtime directory, or a helper in it, was removed; made it again", "dir", e.runDir)
	return e.helpersUnchanged()
}

// helpersUnchanged stats the wrapper and the launcher against what they
// were at startup (or when last made again).
func (e *engine) helpersUnchanged() error {
	if err := unchanged("execve wrapper", e.wrapper, e.wrapID); err != nil {
		return err
	}
	if e.nsexec != "" {
		// It runs before any confinement, like the helper (the wrapper
		// file when the lean binary plays it).
		if err := unchanged("namespace launcher", e.nsexec, e.nsexecID); err != nil {
			return err
		}
	}
	return nil
}

// remakeRuntimeDir makes the runtime directory again at the same path (the
// sandbox launcher and every call name the helpers by path), locks it, and
// puts the helpers back.
func (e *engine) remakeRuntimeDir() error {
	if err := os.MkdirAll(e.runDir, 0o700); err != nil {
		return err
	}
	if !ownedPrivateDir(e.runDir) {
		return fmt.Errorf("%s is not a directory of ours that only we can write", e.runDir)
	}
	if _, err := os.Lstat(filepath.Join(e.runDir, liveLock)); errors.Is(err, fs.ErrNotExist) {
		lock, err := lockRuntimeDir(e.runDir)
		if err != nil {
			return err
		}
		e.runLock.Close()
		e.runLock = lock
	}
	h, nsErr, err := placeHelpers(e.runDir, e.self, e.opts.Execve)
	if err != nil {
		return err
	}
	if e.nsexec == "" {
		// The server started without a launcher; it goes on without.
		h.nsexec, nsErr = "", nil
	}
	if nsErr != nil {
		return nsErr
	}
	if h.wrapper != e.wrapper || h.helper != e.helper || h.nsexec != e.nsexec {
		return fmt.Errorf("the helpers moved: %+v, started with %+v", h, helpers{e.wrapper, e.helper, e.nsexec})
	}
	if e.wrapID, err = statID(e.wrapper); err != nil {
		return err
	}
	if e.nsexec != "" {
		if e.nsexecID, err = statID(e.nsexec); err != nil {
			return err
		}
	}
	return nil
}

// relocateHint says how to move program p (the wrapper or the Bash) out of
// the sandbox's reach, in arguments an MCP client passes on (Codex hands a
// server none of its environment but HOME, LANG, PATH, SHELL and TERM).
func (e *engine) relocateHint(p string) string {
	switch {
	case p == e.bash.Path && e.bashFrom == "install prefix":
		return "install execgate outside every writable root (make install PREFIX=...)"
	case p == e.bash.Path:
		return "pass a patched Bash outside every writable root with --bash in the MCP client's server arguments (`make install` puts one in PREFIX/libexec/execgate)"
	case e.opts.Execve != "":
		return "pass a wrapper outside every writable root with --execve"
	case e.helpersFrom == helpersInstalled:
		return "install execgate outside every writable root (make install PREFIX=...)"
	}
	return "install execgate with `make install` outside every writable root, or pass a private directory outside them with --runtime-dir in the MCP client's server arguments"
}
