package loginenv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	full := dumpHeader + "\x00options\x00shopt -u autocd\nset -o braceexpand\n\x00aliases\x00alias a='b'\n\x00functions\x00f () \n{ \n    :\n}\n\x00exports\x00A=1\x00B=x=y\nz\x00" + dumpEnd + "\x00"
	want := &Snapshot{
		Options:   []string{"shopt -u autocd", "set -o braceexpand"},
		Aliases:   "alias a='b'\n",
		Functions: "f () \n{ \n    :\n}\n",
		Env:       []string{"A=1", "B=x=y\nz"},
	}
	got, err := Parse([]byte(full))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %+v, %v; want %+v", got, err, want)
	}
	// A profile program that wrote to its stdin before the dump, and a
	// background job after it, change nothing.
	if got, err := Parse([]byte("junk\x00options\x00" + full + "late")); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("with junk around: %+v, %v", got, err)
	}
	for i := range len(full) {
		if _, err := Parse([]byte(full[:i])); !errors.Is(err, ErrIncomplete) {
			t.Errorf("Parse of the dump cut at %d (%q): %v, want ErrIncomplete", i, full[:i], err)
		}
	}
	for _, bad := range []string{
		strings.Replace(full, "aliases", "alias", 1),
		strings.Replace(full, "A=1", "A", 1),
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
}

func TestRenderOnlyChanges(t *testing.T) {
	s := &Snapshot{
		Options: []string{"shopt -u autocd", "shopt -s extglob", "shopt -s login_shell", "shopt -s compat44", "set -o pipefail", "set +o braceexpand", "shopt -u expand_aliases"},
		Env:     []string{"SAME=1", "NEW=x", "PWD=/elsewhere", "SHLVL=2", "WIRED=theirs", "CHANGED=after", "bad-name=1"},
	}
	rc := string(s.Render(RenderOptions{
		Start: []string{"SAME=1", "CHANGED=before", "GONE=1", "WIRED=ours", "PWD=/here", "SHLVL=1"},
		Bare:  []string{"shopt -u autocd", "shopt -u extglob", "set +o pipefail", "set -o braceexpand", "shopt -u compat44"},
		Keep:  []string{"WIRED"},
	}))
	for _, want := range []string{
		"builtin export NEW='x'\n", "builtin export CHANGED='after'\n", "builtin unset -v GONE\n",
		"builtin shopt -s extglob\n", "builtin set -o pipefail\n", "builtin set +o braceexpand\n",
		"builtin unset -v BASH_ENV\n",
	} {
		if !strings.Contains(rc, want) {
			t.Errorf("rc lacks %q:\n%s", want, rc)
		}
	}
	for _, bad := range []string{"SAME", "PWD", "SHLVL", "WIRED", "bad-name", "autocd", "login_shell", "compat44", "expand_aliases\n}"} {
		if strings.Contains(rc, bad) {
			t.Errorf("rc mentions %q:\n%s", bad, rc)
		}
	}
	// set lines come after everything else: errexit must not apply to the
	// file itself.
	if strings.Index(rc, "set -o pipefail") < strings.Index(rc, "BASH_ENV") {
		t.Errorf("set options before the end:\n%s", rc)
	}
}

func TestReplayable(t *testing.T) {
	for env, want := range map[string]bool{
		"":                                true,
		"POSIXLY_CORRECT=1":               false,
		"SHELLOPTS=braceexpand:posix":     false,
		"SHELLOPTS=braceexpand:hashall":   true,
		"SHELLOPTS=posixly:braceexpand":   true,
		"BASHOPTS=extglob:expand_aliases": true,
	} {
		if got := Replayable(strings.Fields(env)); got != want {
			t.Errorf("Replayable(%q) = %v", env, got)
		}
	}
}
