package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// trust decides whether basename rules for base may apply to e.Program.
// resolved is e.Program with symlinks resolved, unless resolveErr says that
// failed. It returns the decision and a human-readable reason.
func (p *Policy) trust(e Exec, resolved string, resolveErr error, base string) (bool, string) {
	program := filepath.Clean(e.Program)
	if paths, ok := p.hosts[base]; ok {
		if slices.Contains(paths, program) {
			return true, fmt.Sprintf("%s is listed by host_executable(name=%q)", program, base)
		}
		if slices.Contains(paths, resolved) {
			return true, fmt.Sprintf("%s resolves to %s, listed by host_executable(name=%q)", program, resolved, base)
		}
		return false, fmt.Sprintf("basename rules for %s not applied: %s is not listed by host_executable(name=%q)", base, program, base)
	}
	if resolveErr != nil {
		// The error names the path.
		return false, fmt.Sprintf("basename rules for %s not applied: cannot resolve %v", base, resolveErr)
	}
	for _, root := range e.WritableRoots {
		if root == "" {
			continue
		}
		candidates := []string{filepath.Clean(root)}
		if r, err := filepath.EvalSymlinks(root); err == nil && r != candidates[0] {
			candidates = append(candidates, r)
		}
		for _, r := range candidates {
			if within(resolved, r) {
				return false, fmt.Sprintf("basename rules for %s not applied: %s resolves to %s, inside writable root %s", base, program, resolved, root)
			}
		}
	}
	if resolved != program {
		return true, fmt.Sprintf("%s resolves to %s, outside every writable root", program, resolved)
	}
	return true, fmt.Sprintf("%s is outside every writable root", program)
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
