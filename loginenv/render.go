package loginenv

import (
	"slices"
	"strings"
)

// RenderOptions say what the replaying shell starts with.
type RenderOptions struct {
	// Start is the environment the replaying Bash starts with (NAME=VALUE),
	// which the profile ran in too: variables the profile left unchanged
	// need no line, those it unset are unset.
	Start []string
	// Bare are the option lines (`shopt -p`, `set +o`) of a Bash started
	// as the replaying one is, without profile: only the options the
	// profile changed are set.
	Bare []string
	// Keep names variables the caller sets in each shell itself (its own
	// wiring): the snapshot's values are not replayed over them.
	Keep []string
}

// shellVariables are the exported variables the shell itself maintains,
// or that would fail to assign: never replayed. BASH_ENV is replayed last
// (Render), since the replaying shell is started through it.
var shellVariables = []string{"PWD", "OLDPWD", "SHLVL", "_", "SHELLOPTS", "BASHOPTS", bashEnv}

const bashEnv = "BASH_ENV"

// Render returns the shell text that, sourced by a non-login Bash started
// with o.Start (through BASH_ENV), leaves it in the state s describes:
//
//   - exported variables: those the profile set or changed, and an unset
//     for those it removed;
//   - shell options the profile changed: shopt ones first (extglob must be
//     on before a function using it is parsed), set ones at the very end
//     (errexit, nounset would otherwise apply to the file itself);
//   - aliases, then functions, with alias expansion off meanwhile (the
//     functions' text is already expanded) and restored at the end;
//   - BASH_ENV as the profile left it, so that child shells read what a
//     login shell's children would, not this file again.
//
// Lines that may fail run with stderr discarded: the replaying shell's
// output is the command's, and must carry no noise.
func (s *Snapshot) Render(o RenderOptions) []byte {
	skip := func(name string) bool {
		return !validName(name) || slices.Contains(shellVariables, name) || slices.Contains(o.Keep, name)
	}
	start := map[string]string{}
	for _, kv := range o.Start {
		if name, value, ok := strings.Cut(kv, "="); ok {
			if _, dup := start[name]; !dup { // getenv takes the first
				start[name] = value
			}
		}
	}
	var b strings.Builder
	b.WriteString("# The login environment execgate captured; sourced through BASH_ENV. Generated: do not edit.\n{\nbuiltin shopt -u expand_aliases\n")
	exported := map[string]bool{}
	bashEnvValue, bashEnvSet := "", false
	for _, kv := range s.Env {
		name, value, _ := strings.Cut(kv, "=")
		if exported[name] {
			continue
		}
		exported[name] = true
		if name == bashEnv {
			bashEnvValue, bashEnvSet = value, true
		}
		if skip(name) {
			continue
		}
		if old, ok := start[name]; ok && old == value {
			continue
		}
		b.WriteString("builtin export " + name + "=" + Quote(value) + "\n")
	}
	var gone []string
	for name := range start {
		if !exported[name] && !skip(name) {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		b.WriteString("builtin unset -v " + name + "\n")
	}
	shopts, sets, aliasesOn := s.changedOptions(o.Bare)
	for _, l := range shopts {
		b.WriteString("builtin " + l + "\n")
	}
	b.WriteString("} 2>/dev/null\n")
	if s.Aliases != "" {
		b.WriteString("{\n" + s.Aliases + "\n} 2>/dev/null\n")
	}
	if s.Functions != "" {
		b.WriteString(s.Functions + "\n")
	}
	b.WriteString("{\n")
	if aliasesOn {
		b.WriteString("builtin shopt -s expand_aliases\n")
	}
	if bashEnvSet {
		b.WriteString("builtin export " + bashEnv + "=" + Quote(bashEnvValue) + "\n")
	} else {
		b.WriteString("builtin unset -v " + bashEnv + "\n")
	}
	for _, l := range sets {
		b.WriteString("builtin " + l + "\n")
	}
	b.WriteString("} 2>/dev/null\n")
	return []byte(b.String())
}

// changedOptions are the option lines of s that differ from bare: shopt
// and set ones apart, and whether alias expansion ends up on. Options
// the replaying shell cannot or must not set are left out: login_shell
// and restricted_shell are read-only, and setting a compatNN option
// defines BASH_COMPAT.
func (s *Snapshot) changedOptions(bare []string) (shopts, sets []string, aliasesOn bool) {
	for _, l := range s.Options {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		name := f[2]
		if f[0] == "shopt" && name == "expand_aliases" {
			aliasesOn = f[1] == "-s"
			continue
		}
		if slices.Contains(bare, l) || !validOption(name) {
			continue
		}
		switch {
		case f[0] == "shopt" && (f[1] == "-s" || f[1] == "-u"):
			if name == "login_shell" || name == "restricted_shell" || strings.HasPrefix(name, "compat") {
				continue
			}
			shopts = append(shopts, l)
		case f[0] == "set" && (f[1] == "-o" || f[1] == "+o"):
			sets = append(sets, l)
		}
	}
	return shopts, sets, aliasesOn
}

// validName reports whether name is a shell variable name.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// validOption reports whether name is a shopt or set -o option name.
func validOption(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if c != '_' && c != '-' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Quote quotes s as one shell word.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
