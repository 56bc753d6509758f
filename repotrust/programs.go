package repotrust

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Kind says where a program finds the code it runs.
type Kind string

const (
	// Git: code the repository's configuration names (hooks,
	// core.fsmonitor, filters, pagers), the repository found as git finds
	// it. For git and its helpers.
	Git Kind = "git"
	// Workdir: code in the working directory and the directories above it
	// (make's Makefile, npm's package.json scripts, cargo's build.rs and
	// .cargo/config.toml). Such a program is trusted only where no
	// sandbox can write its working directory.
	Workdir Kind = "workdir"
)

// ParseKind accepts a kind's name as config.toml spells it.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Git, Workdir:
		return k, nil
	}
	return "", fmt.Errorf("unknown kind %q (want %q or %q)", s, Git, Workdir)
}

// Programs is the table of programs that run repository code, by name: a
// name ending in '*' matches every name with that prefix. The zero value is
// empty; DefaultPrograms has git's.
type Programs struct {
	entries []programEntry
}

type programEntry struct {
	name    string // without the '*'
	prefix  bool
	kind    Kind
	builtIn bool
}

// DefaultPrograms is git and its helpers (git-upload-pack, the git-*
// commands of git's exec path, which act as the subcommand they name).
func DefaultPrograms() Programs {
	return Programs{entries: []programEntry{
		{name: "git", kind: Git, builtIn: true},
		{name: "git-", prefix: true, kind: Git, builtIn: true},
	}}
}

// With returns the table with name added as kind. Built-in entries cannot
// be changed: a user's table only adds programs.
func (p Programs) With(name string, kind Kind) (Programs, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return p, err
	}
	e := programEntry{name: name, kind: kind}
	if base, ok := strings.CutSuffix(name, "*"); ok {
		e.name, e.prefix = base, true
	}
	if e.name == "" || strings.ContainsAny(e.name, "/*") {
		return p, fmt.Errorf("program name %q: want a program's file name, optionally ending in '*'", name)
	}
	for i, old := range p.entries {
		if old.name == e.name && old.prefix == e.prefix {
			if old.builtIn {
				return p, fmt.Errorf("program %q is built in (kind %s)", name, old.kind)
			}
			out := Programs{entries: slices.Clone(p.entries)}
			out.entries[i] = e
			return out, nil
		}
	}
	return Programs{entries: append(slices.Clip(p.entries), e)}, nil
}

// Lookup returns the kind of the first of names (file names or paths; the
// base name counts) the table lists, and the name that matched. An exact
// entry wins over a prefix.
func (p Programs) Lookup(names ...string) (Kind, string, bool) {
	for _, n := range names {
		base := filepath.Base(n)
		for _, e := range p.entries {
			if !e.prefix && base == e.name {
				return e.kind, base, true
			}
		}
		for _, e := range p.entries {
			if e.prefix && strings.HasPrefix(base, e.name) {
				return e.kind, base, true
			}
		}
	}
	return "", "", false
}

// String lists the table as config.toml would ("git=git git-*=git").
func (p Programs) String() string {
	var b strings.Builder
	for i, e := range p.entries {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.name)
		if e.prefix {
			b.WriteByte('*')
		}
		b.WriteByte('=')
		b.WriteString(string(e.kind))
	}
	return b.String()
}
