package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/execgate/execgate/policy"
)

// Rules, config.toml and requirements.toml decide what runs outside the
// sandbox. One that a sandboxed command could write (inside a writable
// root, or reached through a symlink or a directory there) would let the
// agent approve itself: with CODEX_HOME in the workspace, a script could
// append an allow rule and use it in the same call. Such a file is refused,
// never silently skipped (it may hold the forbidden rules that matter):
//
//   - at startup, against the configured roots, /tmp and $TMPDIR: the
//     server does not start;
//   - per call, against that call's roots and those of every call before
//     it, the call fails before anything runs;
//   - on a rules reload, against the roots of every call so far, the
//     reload is refused and the last good policy stays;
//   - before "always allow" writes default.rules.
//
// The roots of calls that ran are remembered because what one call's
// sandbox wrote stays there for the next call, whatever its roots.

// rootHistory is the set of writable roots the sandbox has had: those
// known at startup and those of every call that ran since. It grows with
// the distinct roots the client names (its workspaces), not with calls.
// Safe for concurrent use.
type rootHistory struct {
	mu    sync.Mutex
	roots []string
}

// add records roots (resolved paths).
func (h *rootHistory) add(roots []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range roots {
		if !slices.Contains(h.roots, r) {
			h.roots = append(h.roots, r)
		}
	}
}

// with returns the recorded roots together with extra, without recording
// extra.
func (h *rootHistory) with(extra []string) []string {
	h.mu.Lock()
	out := slices.Clone(h.roots)
	h.mu.Unlock()
	for _, r := range extra {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// startupRoots are the writable roots to hold the policy files against
// before any call: the configured ones, /tmp and $TMPDIR. /tmp and $TMPDIR
// count even where config.toml excludes them, since that exclusion is read
// from a file under check. The workspace is not known yet (a client names
// it per call; the server's working directory is only the fallback, and
// may be "/"): each call's check covers it. Resolved; those that do not
// resolve are left out (nothing can be written through them).
func startupRoots(configured []string) []string {
	var out []string
	for _, r := range append(slices.Clone(configured), "/tmp", os.Getenv("TMPDIR")) {
		if r == "" || !filepath.IsAbs(r) {
			continue
		}
		real, err := filepath.EvalSymlinks(r)
		if err == nil && !slices.Contains(out, real) {
			out = append(out, real)
		}
	}
	return out
}

// checkPolicyFiles fails, naming each file and the root, when a sandboxed
// command with the given writable roots (resolved) could change what the
// policy is read from, besides project rules (checked where they are found,
// see projectRules): config.toml, requirements.toml, the shared rules
// directories (where a new file would be loaded, and where "always allow"
// writes default.rules) with their symlinked entries, and the --rules
// files. Paths that do not exist count: a file the sandbox could create is
// as bad as one it could write.
func (e *Engine) checkPolicyFiles(roots []string) error {
	protects := e.launcher.Capabilities().ProtectsPaths()
	var unsafe []string
	check := func(what, path string) {
		if why := sandboxCanWrite(path, roots, protects); why != "" {
			unsafe = append(unsafe, what+" "+path+" "+why)
		}
	}
	check("config file", filepath.Join(e.home, "config.toml"))
	if req := e.sources.RequirementsFile(); req != "" {
		check("requirements file", req)
	}
	for _, dir := range e.sources.SharedRulesDirs() {
		// Once the directory is safe, only a symlinked entry can lead
		// elsewhere: a plain file's path is below the directory's.
		check("rules directory", dir)
		entries, _ := os.ReadDir(dir) // a listing error is the load's to report
		for _, ent := range entries {
			if ent.Type()&fs.ModeSymlink != 0 && strings.HasSuffix(ent.Name(), ".rules") {
				check("rules file", filepath.Join(dir, ent.Name()))
			}
		}
	}
	for _, f := range e.sources.Extra {
		check("rules file", f)
	}
	return selfApprovalError(unsafe)
}

// vetRulesFiles is the rules stores' Vet: the files of a (re)load, held
// against the roots of every call so far.
func (e *Engine) vetRulesFiles(files []string) error {
	roots := e.roots.with(nil)
	protects := e.launcher.Capabilities().ProtectsPaths()
	req := e.sources.RequirementsFile()
	var unsafe []string
	for _, f := range files {
		what := "rules file"
		if f == req {
			what = "requirements file"
		}
		if why := sandboxCanWrite(f, roots, protects); why != "" {
			unsafe = append(unsafe, what+" "+f+" "+why)
		}
	}
	return selfApprovalError(unsafe)
}

// checkAmendTarget is checked right before "always allow" writes its rule:
// the user's answer must not land where the agent can edit it.
func (e *Engine) checkAmendTarget() error {
	file := policy.DefaultRulesFile(e.home)
	if why := sandboxCanWrite(file, e.roots.with(nil), e.launcher.Capabilities().ProtectsPaths()); why != "" {
		return selfApprovalError([]string{"always-allow rules file " + file + " " + why})
	}
	return nil
}

// selfApprovalError reports the policy files a sandboxed command could
// change (each "WHAT PATH WHY"), nil when there are none.
func selfApprovalError(unsafe []string) error {
	if len(unsafe) == 0 {
		return nil
	}
	return fmt.Errorf("refusing rules, config and requirements that a sandboxed command could change (it could approve its own commands): %s; "+
		"move them out of the writable roots", strings.Join(unsafe, "; "))
}

// sandboxCanWrite says how a sandboxed command with the writable roots
// (resolved) could create, write or replace what path names, "" if it
// cannot: the path resolves into a root, or is reached through a symlink
// inside one (which the command could re-point). A root's .codex is not
// writable when the sandbox protects it.
func sandboxCanWrite(path string, roots []string, protects bool) string {
	w := walkPath(path, roots)
	switch {
	case w.link != "" && w.root == "":
		return "has too many levels of symbolic links"
	case w.link != "":
		return fmt.Sprintf("is reached through the symlink %s inside the writable root %s", w.link, w.root)
	}
	root := writableRoot(w.real, roots, protects)
	switch {
	case root == "":
		return ""
	case w.real != filepath.Clean(path):
		return fmt.Sprintf("resolves to %s, inside the writable root %s", w.real, root)
	}
	return "is inside the writable root " + root
}
