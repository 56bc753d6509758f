package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/resolve"
	"github.com/execgate/execgate/policy"
)

// maxNotes bounds the project notes remembered as already logged.
const maxNotes = 1024

// projectStore returns the rules store for a call that starts in workdir
// and whose sandbox can write roots (resolved): the shared rules plus the
// trusted project rules found from workdir.
//
// Why workdir and not the workspace: Codex finds the project layers from
// its cwd, and a call's workdir is the cwd its commands run in, so a call
// in repository B is decided by B's rules even when the client's
// workspace (MCP roots, Codex's sandboxCwd) names A or several roots. The
// agent chooses workdir, so it chooses among projects; that grants it
// nothing the user did not: only projects the user marked trusted
// contribute, and a trusted project's rules are the user's word on
// commands run there. (The script may cd elsewhere; the call's rules still
// decide, as under Codex, whose project layer follows the session's cwd
// and not each command's.) What the agent must not choose is the rules
// themselves, and the walk from the project root down to workdir passes
// through the workspace, where a sandboxed command could create
// sub/.codex/rules that the enclosing project's trust would cover. So a
// rules directory the call's sandbox could change (in a writable root,
// other than a root's own .codex, which the sandbox keeps read-only when it
// can) is ignored, with a note. roots are the call's workspace-write roots
// whatever its mode, as for program trust, and those of every call that
// ran before it (rootHistory): an earlier call may have written there.
func (e *Engine) projectStore(ctx context.Context, workdir string, roots []string) (*policy.Store, error) {
	dirs, notes := e.projectRules(workdir, roots)
	// On the engine's log: a note is about the project, not the call.
	for _, n := range notes {
		if e.noted.first(n.text) {
			e.log.Log(ctx, n.level, n.text)
		}
	}
	s, err := e.stores.get(ctx, dirs)
	if err != nil {
		return nil, fmt.Errorf("rules for workdir %s: %w", workdir, err)
	}
	return s, nil
}

// note is a message about a rules directory left out.
type note struct {
	level slog.Level
	text  string
}

// projectRules lists the project rules directories that apply from
// workdir (see projectStore), symlinks resolved, and notes on those left
// out. Resolved, they name what was checked, and one project reached by
// two paths is one store.
func (e *Engine) projectRules(workdir string, roots []string) ([]string, []note) {
	found, untrusted := e.sources.ProjectRulesDirs(workdir)
	var notes []note
	for _, n := range untrusted {
		notes = append(notes, note{slog.LevelInfo, n})
	}
	protects := e.launcher.Capabilities().ProtectsPaths()
	dirs := found[:0]
	for _, d := range found {
		real, why := sandboxCanChange(d, roots, protects)
		if why != "" {
			notes = append(notes, note{slog.LevelWarn, fmt.Sprintf("ignoring rules in %s: sandboxed commands could change them (%s)", d, why)})
			continue
		}
		if real != "" { // "": gone since it was found
			dirs = append(dirs, real)
		}
	}
	return dirs, notes
}

// sandboxCanChange says how a sandboxed command with writable roots could
// change the rules that directory dir contributes, "" if it cannot: dir or
// a rules file in it lies in a root, or is reached through a symlink
// there. A root's .codex is not writable when the sandbox protects it.
// Once dir itself is safe only its symlinked entries can lead elsewhere: a
// plain file's path is below dir's. Entries added later are checked by the
// next call, since the store this answer selects is chosen per call. real
// is dir resolved, "" when it does not resolve.
func sandboxCanChange(dir string, roots []string, protects bool) (real, why string) {
	real, why = resolvedOutsideRoots(dir, roots, protects)
	if why != "" || real == "" {
		return "", why
	}
	// A listing error is left to the load, which names the directory.
	entries, _ := os.ReadDir(real)
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 && strings.HasSuffix(e.Name(), ".rules") {
			if _, why := resolvedOutsideRoots(filepath.Join(real, e.Name()), roots, protects); why != "" {
				return "", why
			}
		}
	}
	return real, ""
}

// resolvedOutsideRoots resolves p, or says how the sandbox could change
// what p names (see sandboxCanChange). real is "" when p does not resolve.
func resolvedOutsideRoots(p string, roots []string, protects bool) (real, why string) {
	f, err := resolve.Open(p, roots)
	switch {
	case errors.Is(err, unix.EPERM) || errors.Is(err, unix.ELOOP):
		return "", err.Error() // a link the sandbox can re-point, /proc, a loop
	case err != nil:
		return "", "" // gone: nothing there to load
	}
	f.Close()
	real = f.Path
	if root := writableRoot(real, roots, protects); root != "" {
		return "", fmt.Sprintf("%s is inside the writable root %s", real, root)
	}
	return real, ""
}

// writableRoot is the root through which the sandbox can write the
// resolved path p, "" when none can.
func writableRoot(p string, roots []string, protects bool) string {
	if protects {
		for _, r := range roots {
			if underDir(p, filepath.Join(r, ".codex")) {
				return ""
			}
		}
	}
	for _, r := range roots {
		if underDir(p, r) {
			return r
		}
	}
	return ""
}
