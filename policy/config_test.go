package policy

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	src := `
model = "o3"                 # a Codex key execgate does not use: ignored silently
sandbox_mode = "workspace-write"
project_root_markers = [".git", ".hg"]

[sandbox_workspace_write]
writable_roots = ["/data", "/cache"]
network_access = true
exclude_tmpdir_env_var = true
exclude_slash_tmp = false
surprise = 1

[projects."/home/u/repo"]
trust_level = "trusted"

[projects."/home/u/other/"]
trust_level = "untrusted"

[execgate]
bash = "/opt/bash/bin/bash"
execve_wrapper = "/opt/bin/codex-execve-wrapper"
preserve_program_paths = true
rules = ["/etc/extra.rules"]
timeout_ms = 20000
max_output_bytes = 1048576
prompt_timeout_ms = 60000
audit_log = "/var/log/execgate.jsonl"
log_level = "debug"
network = false
escalated_env_allow = ["PATH", "HOME", "LC_*"]
untrusted_repository = "ask"
dangerous_commands = "ask"
max_processes = 0
kernel_gate = false
colour = "always"

[execgate.repository_programs]
make = "workdir"
"npm*" = "workdir"
`
	c, warnings, err := ParseConfig("config.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	no := false
	var unbounded int64
	want := &Config{
		SandboxMode: "workspace-write",
		SandboxWorkspaceWrite: SandboxWorkspaceWrite{
			WritableRoots: []string{"/data", "/cache"}, NetworkAccess: true, ExcludeTmpdirEnvVar: true,
		},
		Projects:           map[string]string{"/home/u/repo": "trusted", "/home/u/other": "untrusted"},
		ProjectRootMarkers: []string{".git", ".hg"},
		Execgate: ExecgateConfig{
			Bash: "/opt/bash/bin/bash", ExecveWrapper: "/opt/bin/codex-execve-wrapper", PreserveProgramPaths: true,
			Rules: []string{"/etc/extra.rules"}, TimeoutMs: 20000, MaxOutputBytes: 1 << 20, PromptTimeoutMs: 60000,
			AuditLog: "/var/log/execgate.jsonl", LogLevel: "debug", Network: &no,
			EscalatedEnvAllow:   []string{"PATH", "HOME", "LC_*"},
			UntrustedRepository: "ask",
			DangerousCommands:   "ask",
			MaxProcesses:        &unbounded,
			KernelGate:          &no,
			RepositoryPrograms:  map[string]string{"make": "workdir", "npm*": "workdir"},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	wantWarnings := []string{
		"config config.toml: unknown key sandbox_workspace_write.surprise (ignored)",
		"config config.toml: unknown key execgate.colour (ignored)",
	}
	if !slices.Equal(warnings, wantWarnings) {
		t.Errorf("warnings %q, want %q", warnings, wantWarnings)
	}
	if c.TrustLevel("/home/u/repo/") != "trusted" {
		t.Errorf("TrustLevel not normalised")
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{`sandbox_mode = 3`, "config.toml: sandbox_mode: expected a string, got an integer"},
		{`sandbox_mode = "yolo"`, `sandbox_mode: unknown sandbox mode "yolo"`},
		{"[execgate]\ntimeout_ms = \"10s\"", "execgate.timeout_ms: expected an integer, got a string"},
		{"[execgate]\ntimeout_ms = -1", "execgate.timeout_ms: must not be negative"},
		{"[execgate]\nmax_processes = -1", "execgate.max_processes: must not be negative"},
		{"[execgate]\nkernel_gate = \"off\"", "execgate.kernel_gate: expected a boolean, got a string"},
		{"[execgate]\nmax_processes = \"many\"", "execgate.max_processes: expected an integer, got a string"},
		{"[execgate]\nrules = \"/x.rules\"", "execgate.rules: expected an array of strings, got a string"},
		{"[execgate]\nrules = [\"a\", 1]", "execgate.rules[1]: expected a string, got an integer"},
		{"[execgate]\nescalated_env_allow = \"PATH\"", "execgate.escalated_env_allow: expected an array of strings, got a string"},
		{"[execgate]\npreserve_program_paths = \"yes\"", "execgate.preserve_program_paths: expected a boolean, got a string"},
		{"[execgate]\nuntrusted_repository = \"escalate\"", `execgate.untrusted_repository: unknown value "escalate" (want sandbox or ask)`},
		{"[execgate]\ndangerous_commands = \"never\"", `execgate.dangerous_commands: unknown value "never" (want confine or ask)`},
		{"[execgate]\nrepository_programs = [\"make\"]", "execgate.repository_programs: expected a table, got an array"},
		{"[execgate.repository_programs]\nmake = true", "execgate.repository_programs.make: expected a string, got a boolean"},
		{"[execgate]\nlog_level = \"loud\"", `execgate.log_level: unknown level "loud"`},
		{"execgate = 1", "execgate: expected a table, got an integer"},
		{"[sandbox_workspace_write]\nnetwork_access = \"on\"", "sandbox_workspace_write.network_access: expected a boolean"},
		{"[projects.\"/r\"]\ntrust_level = true", `projects."/r".trust_level: expected a string, got a boolean`},
		{"sandbox_mode = ", "parsing config config.toml"},
		{"sandbox_mode = \"read-only\"\nlog = = 1", "parsing config config.toml:2:7: toml: "},
		{`project_root_markers = ".git"`, "project_root_markers: expected an array of strings, got a string"},
	}
	for _, tt := range tests {
		_, _, err := ParseConfig("config.toml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConfig(%q): %v, want %q", tt.src, err, tt.want)
		}
	}
}

// An empty project_root_markers is not the same as none: every working
// directory is then its own project root (Sources.ProjectRulesDirs).
func TestParseConfigEmptyRootMarkers(t *testing.T) {
	tests := []struct {
		src     string
		wantNil bool
	}{{"", true}, {"project_root_markers = []", false}}
	for _, tt := range tests {
		c, _, err := ParseConfig("config.toml", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if (c.ProjectRootMarkers == nil) != tt.wantNil || len(c.ProjectRootMarkers) != 0 {
			t.Errorf("%q: markers %#v", tt.src, c.ProjectRootMarkers)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	c, w, err := LoadConfig(filepath.Join(t.TempDir(), "config.toml"))
	if err != nil || len(w) != 0 || c.SandboxMode != "" {
		t.Errorf("got %+v %v %v", c, w, err)
	}
}

func TestHome(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("CODEX_HOME", "")
	t.Setenv("EXECGATE_HOME", "")
	for _, tt := range []struct{ codex, execgate, want string }{
		{"", "", "/home/u/.codex"},
		{"/c", "", "/c"},
		{"/c", "/e", "/e"},
	} {
		t.Setenv("CODEX_HOME", tt.codex)
		t.Setenv("EXECGATE_HOME", tt.execgate)
		if got, err := Home(); err != nil || got != tt.want {
			t.Errorf("Home() with CODEX_HOME=%q EXECGATE_HOME=%q = %q, %v; want %q", tt.codex, tt.execgate, got, err, tt.want)
		}
	}
}

func TestSources(t *testing.T) {
	root := t.TempDir()
	sys, home := filepath.Join(root, "etc/codex"), filepath.Join(root, "home/.codex")
	repo := filepath.Join(root, "repo")
	sub := filepath.Join(repo, "pkg/sub")
	other := filepath.Join(root, "other")
	for _, f := range []string{
		"etc/codex/rules/b.rules", "etc/codex/rules/a.rules", "etc/codex/rules/A.RULES", "etc/codex/rules/notes.txt",
		"etc/codex/rules/.hidden.rules", "etc/codex/rules/nested/deep.rules", "etc/codex/x.rules",
		"home/.codex/rules/default.rules",
		"repo/.root", "other/.root", "repo/.codex/rules/project.rules", "repo/pkg/sub/.codex/rules/sub.rules", "repo/pkg/.codex/config.toml",
		"other/.codex/rules/evil.rules",
	} {
		writeFile(t, filepath.Join(root, f), "")
	}
	writeFile(t, filepath.Join(root, "etc/codex/rules/dir.rules/x"), "")
	cfg := &Config{Projects: map[string]string{repo: "trusted", other: "untrusted"}}
	tests := []struct {
		name      string
		src       Sources
		want      []string
		wantNotes int
	}{
		{"system, home, trusted project root down to cwd, extra",
			Sources{SystemDir: sys, Home: home, Cwd: sub, ProjectRootMarkers: []string{".root"}, Config: cfg, Extra: []string{"/x/extra.rules"}},
			[]string{sys + "/rules/.hidden.rules", sys + "/rules/a.rules", sys + "/rules/b.rules", home + "/rules/default.rules",
				repo + "/.codex/rules/project.rules", sub + "/.codex/rules/sub.rules", "/x/extra.rules"}, 0},
		{"untrusted project contributes nothing",
			Sources{SystemDir: "-", Home: home, Cwd: other, ProjectRootMarkers: []string{".root"}, Config: cfg},
			[]string{home + "/rules/default.rules"}, 1},
		{"unknown project is untrusted",
			Sources{SystemDir: "-", Home: home, Cwd: sub, ProjectRootMarkers: []string{".root"}, Config: &Config{}},
			[]string{home + "/rules/default.rules"}, 2},
		{"a project .codex that is CODEX_HOME is not read twice",
			Sources{SystemDir: "-", Home: repo + "/.codex", Cwd: repo, ProjectRootMarkers: []string{".root"}, Config: cfg},
			[]string{repo + "/.codex/rules/project.rules"}, 0},
		{"missing directories are empty",
			Sources{SystemDir: filepath.Join(root, "nope"), Home: filepath.Join(root, "nohome")},
			nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, notes, err := tt.src.Files()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(files, tt.want) {
				t.Errorf("files\n got %q\nwant %q", files, tt.want)
			}
			if len(notes) != tt.wantNotes {
				t.Errorf("notes %q, want %d", notes, tt.wantNotes)
			}
		})
	}
}
