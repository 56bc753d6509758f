package escalate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The environment of the sandboxed shell is the agent's to set, and a great
// many variables make a program load configuration or code from a file they
// name (CURL_HOME, WGETRC, GIT_CONFIG_GLOBAL, KUBECONFIG, SSL_CERT_FILE,
// LD_PRELOAD, GLIBC_TUNABLES, LOCPATH, PYTHONSTARTUP, ...): no list of them
// is ever complete. So an escalated command does not get the shell's
// environment minus a deny-list; it gets the server's own environment (the
// user's) plus the few shell variables an EnvPolicy lets through.

// Names of the variables that wire a shell to the escalate protocol. They
// are never passed to an escalated command.
const (
	EnvSocket        = "CODEX_ESCALATE_SOCKET"
	EnvWrapper       = "EXEC_WRAPPER"
	EnvLegacyWrapper = "BASH_EXEC_WRAPPER"
)

// ShellEnv returns the variables that wire a shell to a session: fd is the
// number the child end has in the shell (3 when it is ExtraFiles[0]) and
// wrapper the path of the execve wrapper. execgate's patched Bash moves the
// socket to a high descriptor of its own at startup and rewrites the
// variable to match (scripts/bash/execgate.c), so scripts keep fd 3;
// Codex's patched Bash and the wrapper use the socket where it is named.
func ShellEnv(fd int, wrapper string) []string {
	return []string{
		EnvSocket + "=" + strconv.Itoa(fd),
		EnvWrapper + "=" + wrapper,
		EnvLegacyWrapper + "=" + wrapper,
	}
}

// ShellDefaults are the variables an escalated command takes from the
// agent's shell under every EnvPolicy. Each only describes how to present
// output, and none can name a file or a program:
//
//	LANG, LC_*      locale of messages and formats; glibc refuses locale
//	                names with '/', and LOCPATH never passes
//	TERM            terminal type, looked up only in the terminfo
//	                directories (TERMINFO never passes; ncurses refuses '/')
//	COLUMNS, LINES  terminal size
//	NO_COLOR        colour off
//	TZ              time zone; a value that is a path ("/x", ":/x", "../x")
//	                would name a zone file and is not passed
//
// Except for TZ, a value holding '/' is not passed either, so that none of
// them can ever point at a file.
func ShellDefaults() []string { return slices.Clone(shellDefaults[:]) }

var shellDefaults = [...]string{"LANG", "LC_*", "TERM", "COLUMNS", "LINES", "NO_COLOR", "TZ"}

// EnvPolicy builds an escalated command's environment: the base (the
// server's own environment) with, from the shell's, only the variables
// ShellDefaults and the policy's extra names let through. PATH and HOME
// always come from the base: PATH chooses the helpers a program starts,
// HOME its configuration (~/.gitconfig, ~/.curlrc). The zero value passes
// ShellDefaults over an empty base.
type EnvPolicy struct {
	base  map[string]string
	extra []string // names, or prefixes ending in '*'
}

// NewEnvPolicy returns the policy for base (NAME=VALUE entries, normally
// os.Environ() of the server) that also passes the shell variables matching
// extra: names, or prefixes ending in '*' ("LC_*"). The escalate wiring
// variables and PWD/OLDPWD (which describe the server's directory, not the
// command's) are left out of base; an extra entry naming PATH, HOME or a
// wiring variable is an error, since those never come from the shell.
func NewEnvPolicy(base, extra []string) (*EnvPolicy, error) {
	p := &EnvPolicy{base: make(map[string]string, len(base))}
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !validEnvEntry(k, v) || neverPassed(k) {
			continue
		}
		switch k {
		case "PWD", "OLDPWD":
			continue
		}
		p.base[k] = v
	}
	for _, pat := range extra {
		name, wild := strings.CutSuffix(pat, "*")
		switch {
		case pat == "":
			return nil, fmt.Errorf("empty variable name")
		case strings.ContainsAny(name, "*=\x00"):
			return nil, fmt.Errorf("%q: a name, or a prefix followed by one '*'", pat)
		case !wild && pinned(name):
			return nil, fmt.Errorf("%q: %s always comes from the server's environment, never from the shell", pat, name)
		}
		p.extra = append(p.extra, pat)
	}
	return p, nil
}

// pinned reports whether the shell can never set name for an escalated
// command: PATH, HOME and the escalate wiring.
func pinned(name string) bool {
	return name == "PATH" || name == "HOME" || neverPassed(name)
}

func neverPassed(name string) bool {
	switch name {
	case EnvSocket, EnvWrapper, EnvLegacyWrapper:
		return true
	}
	return false
}

// passes reports whether the shell's name=value reaches an escalated command.
func (p *EnvPolicy) passes(name, value string) bool {
	if pinned(name) || !validEnvEntry(name, value) {
		return false
	}
	if matchName(name, shellDefaults[:]) {
		return safeDefaultValue(name, value)
	}
	return matchName(name, p.extra)
}

func matchName(name string, patterns []string) bool {
	for _, pat := range patterns {
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if pat == name {
			return true
		}
	}
	return false
}

// safeDefaultValue reports whether value, for one of ShellDefaults, cannot
// name a file.
func safeDefaultValue(name, value string) bool {
	if name != "TZ" {
		return !strings.Contains(value, "/")
	}
	zone := strings.TrimPrefix(value, ":")
	if strings.HasPrefix(zone, "/") {
		return false
	}
	return !slices.Contains(strings.Split(zone, "/"), "..")
}

// FromShell returns the variables of the shell's environment that reach an
// escalated command and differ from the base, as sorted NAME=VALUE entries:
// what the agent chose of that command's environment, for a prompt to show.
// Malformed entries (empty name, '=' in the name, NUL anywhere) never pass:
// execve could not pass them faithfully.
func (p *EnvPolicy) FromShell(shell map[string]string) []string {
	var out []string
	for k, v := range shell {
		// Most of a shell's environment is the server's, inherited: the
		// map lookup settles those before any pattern is tried.
		if b, ok := p.base[k]; ok && b == v || !p.passes(k, v) {
			continue
		}
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Environ returns the environment of an escalated command, sorted: the base
// with fromShell (as FromShell returned it) set over it.
func (p *EnvPolicy) Environ(fromShell []string) []string {
	env := make(map[string]string, len(p.base)+len(fromShell))
	for k, v := range p.base {
		env[k] = v
	}
	for _, kv := range fromShell {
		if k, v, ok := strings.Cut(kv, "="); ok && p.passes(k, v) {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func validEnvEntry(k, v string) bool {
	return k != "" && !strings.ContainsAny(k, "=\x00") && !strings.ContainsRune(v, 0)
}

// setEnv returns env (sorted NAME=VALUE entries, as Environ returns them)
// with the entries of set replacing or adding to it, sorted.
func setEnv(env, set []string) []string {
	if len(set) == 0 {
		return env
	}
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.ContainsFunc(set, func(s string) bool { return strings.HasPrefix(s, name+"=") })
	})
	out = append(out, set...)
	slices.Sort(out)
	return out
}

// invalidEnv returns the first entry of env that is not NAME=VALUE as
// execve can pass it, or that names a variable wiring the escalate
// protocol ("" if none).
func invalidEnv(env []string) string {
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !validEnvEntry(k, v) || neverPassed(k) {
			return kv
		}
	}
	return ""
}
