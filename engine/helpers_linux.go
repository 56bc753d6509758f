package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Where the wrapper comes from, for logs and doctor.
const (
	helpersInstalled = "installed"
	helpersPrivate   = "private runtime directory"
)

// installedHelperDir is where `make install` puts the wrapper of the
// execgate binary self (PREFIX/bin/execgate): PREFIX/libexec/execgate,
// beside the patched Bash (findBash) and the namespace launcher. "" when
// no wrapper is there.
func installedHelperDir(self string) string {
	dir := libexecDir(self)
	if _, err := os.Lstat(filepath.Join(dir, wrapperName)); err != nil {
		return ""
	}
	return dir
}

// InstallHelpers puts the wrapper of the execgate binary self into dir, as
// the server runs it from there (InstallHelpersMain).
func InstallHelpers(dir, self string) error {
	_, err := installWrapper(dir, self)
	return err
}

// setupWrapper finds the wrapper the engine runs: --execve; else the link
// installed beside self when it names self (or can be made to: the
// install is the server user's own); else a link in a new private runtime
// directory.
func (e *Engine) setupWrapper(self string, log *slog.Logger) (string, error) {
	if e.opts.Execve != "" {
		w, err := executableFile(e.opts.Execve)
		if err != nil {
			return "", fmt.Errorf("execve wrapper (flag --execve): %w", err)
		}
		return w, nil
	}
	if dir := installedHelperDir(self); dir != "" {
		w, err := installWrapper(dir, self)
		if err == nil {
			e.helperDir, e.helpersFrom = dir, helpersInstalled
			return w, nil
		}
		log.Warn("the wrapper installed beside execgate is not this execgate's and cannot be updated (run `make install` again); using a private runtime directory instead",
			"dir", dir, "error", err)
	}
	var err error
	if e.runDir, e.runLock, err = runtimeDir(e.opts.RuntimeDir, os.Getenv); err != nil {
		return "", err
	}
	e.helperDir, e.helpersFrom = e.runDir, helpersPrivate
	return installWrapper(e.runDir, self)
}

// checkHelpers fails when a helper is no longer the file the server
// started with: a replaced wrapper might not ask, a replaced launcher runs
// before any confinement. A helper of the private runtime directory that
// is gone (the whole directory, most likely: a user cleaning ~/.cache, a
// logout emptying $XDG_RUNTIME_DIR) is put back first, with the directory:
// that must not break every later call. The check is the stat of each
// helper a call needs anyway; a removal costs nothing until one is gone.
func (e *Engine) checkHelpers(log *slog.Logger) error {
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
func (e *Engine) helpersUnchanged() error {
	if err := unchanged("execve wrapper", e.wrapper, e.wrapID); err != nil {
		return err
	}
	if e.nsexec != "" {
		// It runs before any confinement, like the helper (execgate,
		// which the wrapper link names).
		if err := unchanged("namespace launcher", e.nsexec, e.nsexecID); err != nil {
			return err
		}
	}
	return nil
}

// remakeRuntimeDir makes the runtime directory again at the same path
// (every call names the wrapper by path), locks it, and puts the wrapper
// back.
func (e *Engine) remakeRuntimeDir() error {
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
	w, err := installWrapper(e.runDir, e.self)
	if err != nil {
		return err
	}
	if w != e.wrapper {
		return fmt.Errorf("the wrapper moved: %s, started with %s", w, e.wrapper)
	}
	e.wrapID, err = statID(e.wrapper)
	return err
}

// relocateHint says how to move program p (the wrapper or the Bash) out of
// the sandbox's reach, in arguments an MCP client passes on (Codex hands a
// server none of its environment but HOME, LANG, PATH, SHELL and TERM).
func (e *Engine) relocateHint(p string) string {
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
