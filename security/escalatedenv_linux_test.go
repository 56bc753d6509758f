package security

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestEscalatedEnvCurlHome: a rule allows exactly `curl -s file:///dev/null`
// (it reads nothing and writes nothing). The agent points CURL_HOME at a
// .curlrc it wrote, whose url/output lines make that curl copy a file to
// where the sandbox cannot write. The escalated curl must not see CURL_HOME.
func TestEscalatedEnvCurlHome(t *testing.T) {
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["curl", "-s", "file:///dev/null"], decision="allow")` + "\n"})
		curlrc := fmt.Sprintf("url = \"file:///proc/self/status\"\noutput = %q\n", w.marker("curlrc"))
		res := w.shell(t, fmt.Sprintf("printf '%%s' %s > .curlrc && CURL_HOME=$PWD curl -s file:///dev/null; echo exit=$?", shq(curlrc)))
		if len(res.Decisions) != 1 || res.Decisions[0].Decision != "escalate" {
			t.Fatalf("the allowed curl was not escalated (the attack proves nothing): %+v\noutput: %s", res.Decisions, res.Output)
		}
		w.assertConfined(t, "curlrc", res)
		if !strings.Contains(res.Output, "exit=0") {
			t.Errorf("the allowed curl failed: %s", res.Output)
		}
	})
}

// TestEscalatedEnvConfigVariables: none of the variables that make a
// program load configuration or code from a file (or run a helper) reaches
// an escalated command, nor does a presentation variable whose value is a
// path; PATH and HOME are the server's. The presentation variables the
// README lists do reach it (the control: the test sees what passes).
func TestEscalatedEnvConfigVariables(t *testing.T) {
	loaders := []string{
		"CURL_HOME", "WGETRC", "GOENV", "GOFLAGS", "KUBECONFIG", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"PIP_CONFIG_FILE", "PIP_INDEX_URL", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "GLIBC_TUNABLES",
		"LOCPATH", "GCONV_PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "SHELLOPTS",
		"PYTHONSTARTUP", "PYTHONPATH", "NODE_OPTIONS", "PERL5OPT", "RUBYOPT", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_COUNT",
		"GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_DIR", "XDG_CONFIG_HOME",
		"DOCKER_CONFIG", "NPM_CONFIG_USERCONFIG", "CARGO_HOME", "RUSTC_WRAPPER", "TERMINFO", "LANGUAGE", "EDITOR",
		"PAGER", "SSH_ASKPASS", "OPENSSL_CONF", "TMPDIR", "SUDO_ASKPASS", "JAVA_TOOL_OPTIONS", "MAKEFLAGS",
	}
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["env"], decision="allow")` + "\n"})
		var script strings.Builder
		for _, v := range loaders {
			fmt.Fprintf(&script, "export %s=%s/planted-%s\n", v, w.WS, v)
		}
		fmt.Fprintf(&script, "export PATH=%s:$PATH HOME=%s LC_MESSAGES=../../planted TZ=/planted/zone TERM=../planted\n", w.WS, w.WS)
		script.WriteString("export LC_ALL=C.UTF-8 NO_COLOR=1 COLUMNS=99\nenv\n")
		res := w.shell(t, script.String())
		if len(res.Decisions) != 1 || res.Decisions[0].Decision != "escalate" {
			t.Fatalf("env was not escalated: %+v\noutput: %s", res.Decisions, res.Output)
		}
		env := map[string]string{}
		for _, l := range strings.Split(res.Output, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				env[k] = v
			}
		}
		for _, v := range loaders {
			if val, ok := env[v]; ok {
				t.Errorf("%s=%s reached the escalated command", v, val)
			}
		}
		for k, v := range env {
			if slices.Contains(loaders, k) {
				continue // reported above
			}
			if strings.Contains(v, "planted") || strings.Contains(v, w.WS) {
				t.Errorf("%s=%s (set by the agent) reached the escalated command", k, v)
			}
		}
		for k, want := range map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": w.Home,
			"LC_ALL": "C.UTF-8", "NO_COLOR": "1", "COLUMNS": "99", "LANG": "C.UTF-8"} {
			if env[k] != want {
				t.Errorf("%s=%q in the escalated command, want %q", k, env[k], want)
			}
		}
		if t.Failed() {
			t.Logf("escalated environment:\n%s", res.Output)
		}
	})
}
