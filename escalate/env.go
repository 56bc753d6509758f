package escalate

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The environment of the sandboxed shell is untrusted: it is the agent's to
// set. Passed unfiltered to a command running outside the sandbox, many
// variables turn an allowed `git status` or `make` into arbitrary code there
// (a preloaded library, a startup file, a config or helper command). An
// EnvPolicy removes those.

// Names of the variables that wire a shell to the escalate protocol. They
// are never passed to an escalated command.
const (
	EnvSocket        = "CODEX_ESCALATE_SOCKET"
	EnvWrapper       = "EXEC_WRAPPER"
	EnvLegacyWrapper = "BASH_EXEC_WRAPPER"
)

// ShellEnv returns the variables that wire a shell to a session: fd is the
// number the child end has in the shell (3 when it is ExtraFiles[0]) and
// wrapper the path of the execve wrapper.
func ShellEnv(fd int, wrapper string) []string {
	return []string{
		EnvSocket + "=" + strconv.Itoa(fd),
		EnvWrapper + "=" + wrapper,
		EnvLegacyWrapper + "=" + wrapper,
	}
}

// EnvPolicy builds an escalated command's environment from the one in its
// request. The deny-list always applies: variables that load code or
// configuration (LD_*, DYLD_*, BASH_ENV, ENV, BASH_FUNC_*, PYTHONPATH-style,
// PERL5LIB/PERL5OPT, RUBYOPT, NODE_OPTIONS, GIT_* apart from identity
// variables, IFS, PS4, pager/editor/askpass helpers, ...) and the escalate
// variables. PATH loses its relative entries ("", "."), which would make the
// command search the sandbox-writable working directory.
//
// HOME and PATH are kept as the request gives them; a caller that does not
// want the sandbox to choose them (HOME selects ~/.gitconfig, PATH selects
// the helpers a program starts) pins them with Set.
type EnvPolicy struct {
	// Allow, when non-nil, selects allow-list mode: only variables whose name
	// equals an entry, or starts with an entry ending in '*' without the
	// '*', are kept. DefaultAllowList is a reasonable start.
	Allow []string
	// Set is applied last and overrides or adds variables unfiltered.
	Set map[string]string
}

// DefaultAllowList returns the variables an allow-list policy usually keeps:
// identity, locale, terminal and temporary directory.
func DefaultAllowList() []string {
	return []string{
		"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM",
		"NO_COLOR", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR", "PWD",
	}
}

// deniedPrefixes drop whole families; deniedPrefixExceptions re-admit the
// harmless members of those families.
var (
	deniedPrefixes = []string{
		"LD_", "DYLD_", "BASH_FUNC_", "CODEX_ESCALATE_",
		"GIT_", "PYTHON", "PERL", "RUBY", "GEM_", "BUNDLE_", "NODE_",
		"npm_config_", "NPM_CONFIG_", "LUA_INIT", "LUA_PATH", "LUA_CPATH",
		"CARGO_", "RUSTC_", "OPENSSL_",
	}
	deniedPrefixExceptions = []string{
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
		"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
		"GIT_TERMINAL_PROMPT",
		"PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
		"PYTHONUTF8", "PYTHONHASHSEED",
	}
	deniedNames = []string{
		// Shell startup and parsing.
		"BASH_ENV", "ENV", "IFS", "PS4", "SHELLOPTS", "BASHOPTS", "CDPATH",
		"GLOBIGNORE", "PROMPT_COMMAND", "ZDOTDIR",
		// The escalate wiring.
		EnvSocket, EnvWrapper, EnvLegacyWrapper,
		// Helper commands programs run on their own.
		"PAGER", "MANPAGER", "EDITOR", "VISUAL", "BROWSER", "SSH_ASKPASS",
		"SUDO_ASKPASS", "LESSOPEN", "LESSCLOSE",
		// Configuration locations and code loaders.
		"XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "GCONV_PATH", "HOSTALIASES",
		"SSLKEYLOGFILE", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
		"JDK_JAVA_OPTIONS", "CLASSPATH", "GOFLAGS", "RUSTFLAGS",
		"RUSTDOCFLAGS", "MAKEFLAGS", "MFLAGS", "MAKEFILES", "CC", "CXX",
		"CPP", "LD",
	}
)

// EnvDenied reports whether the deny-list removes the variable name.
func EnvDenied(name string) bool {
	if slices.Contains(deniedNames, name) {
		return true
	}
	for _, p := range deniedPrefixes {
		if strings.HasPrefix(name, p) {
			return !slices.Contains(deniedPrefixExceptions, name)
		}
	}
	return false
}

func (p *EnvPolicy) allowed(name string) bool {
	if p.Allow == nil {
		return true
	}
	for _, a := range p.Allow {
		if prefix, ok := strings.CutSuffix(a, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if a == name {
			return true
		}
	}
	return false
}

// Sanitize returns the environment an escalated command gets, as sorted
// NAME=VALUE strings. Malformed entries (empty name, '=' in the name, NUL
// anywhere) are dropped: execve could not pass them faithfully.
func (p *EnvPolicy) Sanitize(env map[string]string) []string {
	out := make([]string, 0, len(env)+len(p.Set))
	for k, v := range env {
		if !validEnvEntry(k, v) || EnvDenied(k) || !p.allowed(k) {
			continue
		}
		if _, pinned := p.Set[k]; pinned {
			continue
		}
		if k == "PATH" {
			v = absolutePath(v)
		}
		out = append(out, k+"="+v)
	}
	for k, v := range p.Set {
		if validEnvEntry(k, v) {
			out = append(out, k+"="+v)
		}
	}
	slices.Sort(out)
	return out
}

func validEnvEntry(k, v string) bool {
	return k != "" && !strings.ContainsAny(k, "=\x00") && !strings.ContainsRune(v, 0)
}

// absolutePath keeps only the absolute entries of a PATH value.
func absolutePath(v string) string {
	parts := strings.Split(v, ":")
	kept := parts[:0]
	for _, d := range parts {
		if filepath.IsAbs(d) {
			kept = append(kept, d)
		}
	}
	return strings.Join(kept, ":")
}
