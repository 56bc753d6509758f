package escalate

import (
	"slices"
	"strings"
	"testing"
)

// TestEnvFromShell: of the shell's variables only ShellDefaults (with values
// that name no file) and the policy's extra names pass, and only where they
// differ from the server's; config-loading variables never do.
func TestEnvFromShell(t *testing.T) {
	server := []string{"PATH=/usr/bin:/bin", "HOME=/home/u", "LANG=C.UTF-8", "USER=u",
		"PWD=/srv", "OLDPWD=/", EnvSocket + "=3", "MALFORMED"}
	shell := map[string]string{
		// Config and code loaders: a deny-list would have to know each.
		"CURL_HOME": "/ws", "WGETRC": "/ws/rc", "GOENV": "/ws/env", "KUBECONFIG": "/ws/k",
		"AWS_CONFIG_FILE": "/ws/aws", "PIP_CONFIG_FILE": "/ws/pip", "PIP_INDEX_URL": "http://x",
		"SSL_CERT_FILE": "/ws/ca", "GLIBC_TUNABLES": "glibc.malloc.check=3", "LOCPATH": "/ws/loc",
		"LD_PRELOAD": "/ws/x.so", "BASH_ENV": "/ws/rc", "GIT_CONFIG_GLOBAL": "/ws/gc",
		"XDG_CONFIG_HOME": "/ws", "TERMINFO": "/ws/ti", "LANGUAGE": "../../ws",
		// Pinned to the server's.
		"PATH": "/ws/bin:/usr/bin", "HOME": "/ws", EnvWrapper: "/w", EnvLegacyWrapper: "/w", EnvSocket: "4",
		// Presentation.
		"LANG": "C.UTF-8", "LC_ALL": "de_DE.UTF-8", "TERM": "xterm-256color", "COLUMNS": "120",
		"LINES": "40", "NO_COLOR": "1", "TZ": "Europe/Paris",
		// Presentation variables whose values would name files.
		"LC_MESSAGES": "../../ws/loc", "TERM_PROGRAM": "x",
		// The user's extra names.
		"EG_KEEP": "1", "EGP_A": "2", "EGPX": "3",
		// Malformed.
		"": "empty", "A=B": "equals", "NUL": "a\x00b",
	}
	p, err := NewEnvPolicy(server, []string{"EG_KEEP", "EGP_*", "NUL"})
	if err != nil {
		t.Fatal(err)
	}
	got := p.FromShell(shell)
	want := []string{"COLUMNS=120", "EGP_A=2", "EG_KEEP=1", "LC_ALL=de_DE.UTF-8", "LINES=40",
		"NO_COLOR=1", "TERM=xterm-256color", "TZ=Europe/Paris"}
	if !slices.Equal(got, want) {
		t.Errorf("FromShell = %q\nwant       %q", got, want)
	}
	env := p.Environ(got)
	wantEnv := []string{"COLUMNS=120", "EGP_A=2", "EG_KEEP=1", "HOME=/home/u", "LANG=C.UTF-8",
		"LC_ALL=de_DE.UTF-8", "LINES=40", "NO_COLOR=1", "PATH=/usr/bin:/bin", "TERM=xterm-256color",
		"TZ=Europe/Paris", "USER=u"}
	if !slices.Equal(env, wantEnv) {
		t.Errorf("Environ = %q\nwant      %q", env, wantEnv)
	}
	// Environ re-checks what it is given: it is the last step before exec.
	if env := p.Environ([]string{"LD_PRELOAD=/x.so", "PATH=/ws", "TERM=../x"}); slices.ContainsFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "LD_PRELOAD=") || kv == "PATH=/ws" || kv == "TERM=../x"
	}) {
		t.Errorf("Environ let a variable through that FromShell never gives: %q", env)
	}
}

func TestEnvTZ(t *testing.T) {
	for value, passes := range map[string]bool{
		"UTC": true, "Europe/Paris": true, ":Europe/Paris": true, "CET-1CEST,M3.5.0,M10.5.0/3": true,
		"/ws/zone": false, ":/ws/zone": false, "../../ws/zone": false, "Europe/../../ws": false,
	} {
		var p EnvPolicy
		if got := len(p.FromShell(map[string]string{"TZ": value})) == 1; got != passes {
			t.Errorf("TZ=%q passes: %v, want %v", value, got, passes)
		}
	}
}

func TestNewEnvPolicyErrors(t *testing.T) {
	for _, extra := range [][]string{{"PATH"}, {"HOME"}, {EnvSocket}, {EnvWrapper}, {""}, {"A*B"}, {"A=B"}, {"**"}} {
		if _, err := NewEnvPolicy(nil, extra); err == nil {
			t.Errorf("NewEnvPolicy(extra %q) accepted", extra)
		}
	}
	// A prefix may cover PATH or HOME; they still come from the server.
	p, err := NewEnvPolicy([]string{"PATH=/bin", "HOME=/h"}, []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.FromShell(map[string]string{"PATH": "/ws", "HOME": "/ws", "X": "1"}); !slices.Equal(got, []string{"X=1"}) {
		t.Errorf("with \"*\": FromShell = %q, want only X=1", got)
	}
}
