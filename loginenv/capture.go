package loginenv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Script is the command of the login shell that takes the snapshot
// (`bash -lc Script`, standard input a socket the caller reads): after the
// profile has run, it writes the dump Parse reads to fd 0, and runs no
// program (builtins only, so it adds no exec of its own).
//
// Bash reads a -c script a line at a time, so each line is parsed with the
// options the previous one left. The first line runs under the profile's
// settings: it captures the options and aliases before anything changes
// them, and every word is \builtin, which neither an alias nor an
// ordinary function can replace. It then turns off alias expansion, and
// the second line whatever option would make the rest fail or print
// (errexit, nounset, noglob, xtrace, ...). Exported variables come last, as
// NAME=VALUE records, without word splitting (IFS may be anything).
//
// Records end with a NUL, which no shell string holds.
const Script = `\builtin printf '` + dumpHeader + `\0options\0' >&0; \builtin shopt -p >&0; \builtin set +o >&0; \builtin printf '\0aliases\0' >&0; \builtin alias -p >&0; \builtin shopt -u expand_aliases
\builtin set +o errexit +o nounset +o noglob +o xtrace +o verbose +o posix +o pipefail +o errtrace +o functrace; \builtin shopt -u failglob nullglob nocasematch extdebug; \builtin trap - DEBUG ERR RETURN
\builtin printf '\0functions\0' >&0; \builtin declare -f >&0;
__execgate_names=$(\builtin compgen -e)$'\n'; \builtin printf '\0exports\0' >&0
while [[ $__execgate_names == *$'\n'* ]]; do __execgate_name=${__execgate_names%%$'\n'*}; __execgate_names=${__execgate_names#*$'\n'}; [[ -n $__execgate_name ]] && \builtin printf '%s=%s\0' "$__execgate_name" "${!__execgate_name}" >&0; done
\builtin printf '` + dumpEnd + `\0' >&0
`

// dumpHeader starts a dump (and names its format); dumpEnd ends it: a dump
// without it was cut short.
const (
	dumpHeader = "execgate-login-env 1"
	dumpEnd    = "end"
)

// Snapshot is the state a login shell's profile left, as Script dumped it.
type Snapshot struct {
	// Options are the lines of `shopt -p` and `set +o`: every option,
	// whether the profile changed it or not (Render keeps the changes).
	Options []string
	// Aliases is `alias -p`, Functions `declare -f`: shell text. (Bash
	// follows each function with attributes by the declare line that sets
	// them: `declare -fx name` for an exported one.)
	Aliases, Functions string
	// Env is NAME=VALUE for every exported variable.
	Env []string
}

// ErrIncomplete is returned (wrapped) for a dump that stops before its end:
// the shell exited, or was killed, while writing it.
var ErrIncomplete = errors.New("incomplete login environment dump")

// Parse reads a dump Script wrote. Anything before the dump's header (a
// profile program that wrote to its standard input) and after its end is
// ignored.
func Parse(dump []byte) (*Snapshot, error) {
	start := bytes.Index(dump, []byte(dumpHeader+"\x00options\x00"))
	if start < 0 {
		return nil, fmt.Errorf("%w: no header (%d bytes)", ErrIncomplete, len(dump))
	}
	// The last piece is not NUL-terminated: a record cut short, or "".
	recs := strings.Split(string(dump[start:]), "\x00")
	recs = recs[:len(recs)-1]
	// header, then name/content pairs, then "exports", NAME=VALUE..., end.
	want := []string{"options", "aliases", "functions"}
	if len(recs) < 2+2*len(want) {
		return nil, fmt.Errorf("%w: %d records", ErrIncomplete, len(recs))
	}
	content := map[string]string{}
	for i, name := range want {
		if got := recs[1+2*i]; got != name {
			return nil, fmt.Errorf("login environment dump: record %d is %q, want %q", 1+2*i, truncate(got, 40), name)
		}
		content[name] = recs[2+2*i]
	}
	rest := recs[1+2*len(want):]
	if rest[0] != "exports" {
		return nil, fmt.Errorf("login environment dump: %q where the exports start", truncate(rest[0], 40))
	}
	s := &Snapshot{
		Options:   lines(content["options"]),
		Aliases:   content["aliases"],
		Functions: content["functions"],
	}
	for _, r := range rest[1:] {
		if r == dumpEnd {
			return s, nil
		}
		if !strings.Contains(r, "=") {
			return nil, fmt.Errorf("login environment dump: export record %q has no '='", truncate(r, 40))
		}
		s.Env = append(s.Env, r)
	}
	return nil, fmt.Errorf("%w: no end after %d exported variables", ErrIncomplete, len(s.Env))
}

// lines splits text into its non-empty lines.
func lines(text string) []string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
