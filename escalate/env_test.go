package escalate

import (
	"slices"
	"testing"
)

func TestEnvDenied(t *testing.T) {
	tests := []struct {
		name   string
		denied bool
	}{
		{"LD_PRELOAD", true}, {"LD_LIBRARY_PATH", true}, {"DYLD_INSERT_LIBRARIES", true},
		{"BASH_ENV", true}, {"ENV", true}, {"BASH_FUNC_ls%%", true}, {"IFS", true}, {"PS4", true},
		{"SHELLOPTS", true}, {"PYTHONPATH", true}, {"PYTHONSTARTUP", true}, {"PYTHONHOME", true},
		{"PERL5LIB", true}, {"PERL5OPT", true}, {"RUBYOPT", true}, {"RUBYLIB", true},
		{"NODE_OPTIONS", true}, {"GIT_CONFIG_COUNT", true}, {"GIT_CONFIG_KEY_0", true},
		{"GIT_CONFIG_PARAMETERS", true}, {"GIT_EXEC_PATH", true}, {"GIT_SSH_COMMAND", true},
		{"GIT_DIR", true}, {"GIT_PAGER", true}, {"PAGER", true}, {"GCONV_PATH", true},
		{"XDG_CONFIG_HOME", true}, {"npm_config_script_shell", true}, {"JAVA_TOOL_OPTIONS", true},
		{EnvSocket, true}, {EnvWrapper, true}, {EnvLegacyWrapper, true},
		{"PATH", false}, {"HOME", false}, {"TERM", false}, {"LANG", false}, {"LC_ALL", false},
		{"GIT_AUTHOR_NAME", false}, {"PYTHONUNBUFFERED", false}, {"TMPDIR", false},
		{"ENVIRONMENT", false}, {"MY_LD_FLAG", false},
	}
	for _, tc := range tests {
		if got := EnvDenied(tc.name); got != tc.denied {
			t.Errorf("EnvDenied(%q) = %v, want %v", tc.name, got, tc.denied)
		}
	}
}

func TestEnvSanitize(t *testing.T) {
	req := map[string]string{
		"PATH":       "/usr/local/bin::.:/usr/bin:bin",
		"HOME":       "/home/u",
		"LD_PRELOAD": "/tmp/evil.so",
		"BASH_ENV":   "/tmp/rc",
		"LC_ALL":     "C.UTF-8",
		"FOO":        "bar",
		"":           "empty name",
		"A=B":        "equals in name",
		"NUL":        "a\x00b",
	}
	tests := []struct {
		name   string
		policy EnvPolicy
		want   []string
	}{
		{"deny-list", EnvPolicy{}, []string{
			"FOO=bar", "HOME=/home/u", "LC_ALL=C.UTF-8", "PATH=/usr/local/bin:/usr/bin"}},
		{"allow-list", EnvPolicy{Allow: []string{"PATH", "LC_*", "LD_*"}}, []string{
			"LC_ALL=C.UTF-8", "PATH=/usr/local/bin:/usr/bin"}},
		{"default allow-list", EnvPolicy{Allow: DefaultAllowList()}, []string{
			"HOME=/home/u", "LC_ALL=C.UTF-8", "PATH=/usr/local/bin:/usr/bin"}},
		{"empty allow-list", EnvPolicy{Allow: []string{}}, []string{}},
		{"pinned", EnvPolicy{Set: map[string]string{"PATH": "/bin:.", "HOME": "/root"}}, []string{
			"FOO=bar", "HOME=/root", "LC_ALL=C.UTF-8", "PATH=/bin:."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.Sanitize(req)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Sanitize = %q, want %q", got, tc.want)
			}
		})
	}
}
