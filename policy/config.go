package policy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Config is what execgate reads from config.toml: the Codex keys it shares
// with Codex, and its own [execgate] table.
type Config struct {
	// SandboxMode is Codex's sandbox_mode: "read-only", "workspace-write"
	// or "danger-full-access" ("" when unset).
	SandboxMode           string
	SandboxWorkspaceWrite SandboxWorkspaceWrite
	// Projects maps a project directory to its trust level ("trusted",
	// "untrusted"), from [projects."<path>"] trust_level.
	Projects map[string]string
	// ProjectRootMarkers is Codex's project_root_markers: the names whose
	// presence makes a directory a project root (nil when unset: .git; an
	// empty list makes every working directory its own root).
	ProjectRootMarkers []string
	Execgate           ExecgateConfig
}

// SandboxWorkspaceWrite is Codex's [sandbox_workspace_write] table.
type SandboxWorkspaceWrite struct {
	WritableRoots       []string
	NetworkAccess       bool
	ExcludeTmpdirEnvVar bool
	ExcludeSlashTmp     bool
}

// ExecgateConfig is the [execgate] table. Zero values mean "unset": the
// server applies its defaults and flags override.
type ExecgateConfig struct {
	Bash                 string   // patched Bash to run
	ExecveWrapper        string   // the wrapper path to announce
	PreserveProgramPaths bool     // match rules on full paths only
	Rules                []string // extra rules files, after the rules directories
	TimeoutMs            int64    // default timeout of a shell call
	MaxOutputBytes       int64    // output cap of a shell call
	PromptTimeoutMs      int64    // how long a prompt waits for the user
	AuditLog             string   // JSON-lines audit file
	LogLevel             string   // debug, info, warn, error
	Network              *bool    // network access in the sandbox (nil: unset)
	// EscalatedEnvAllow names the variables an escalated command also
	// takes from the agent's shell (a trailing '*' matches a prefix), on
	// top of the server's environment and the few presentation variables
	// always passed (escalate.ShellDefaults).
	EscalatedEnvAllow []string
	// RepositoryPrograms adds programs that run code from the repository
	// or directory they work in, name to kind ("git" or "workdir"), from
	// [execgate.repository_programs]; git and git-* are always listed.
	RepositoryPrograms map[string]string
	// UntrustedRepository is what an escalation of such a program does
	// in a repository the sandbox could have written: "sandbox" (run it
	// inside the sandbox, the default) or "ask" ("" when unset).
	UntrustedRepository string
	// DangerousCommands is what a dangerous command (rm -f, git reset
	// --hard; see IsDangerous) does: "confine" (the default) runs one no
	// rule covers inside the sandbox without asking, and asks only where
	// it would run unconfined; "ask" asks before every one no rule covers,
	// confined or not, and lets an allow rule decide alone, as Codex 0.97
	// does ("" when unset).
	DangerousCommands string
	// MaxProcesses bounds the processes and threads of one call's sandbox
	// (nil: unset; 0: no bound).
	MaxProcesses *int64
	// KernelGate, when false, turns the kernel gate off: rules then hold
	// for the shell's own program starts only (nil: unset, on).
	KernelGate *bool
}

// TrustLevel returns the configured trust level of a project directory.
func (c *Config) TrustLevel(dir string) string {
	if c == nil {
		return ""
	}
	return c.Projects[filepath.Clean(dir)]
}

// LoadConfig reads config.toml. A missing file gives an empty config. Keys
// execgate owns or parses that it does not know are returned as warnings;
// other top-level keys belong to Codex and are ignored. A key with the wrong
// type is an error naming the key.
func LoadConfig(path string) (*Config, []string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses config.toml content; name is used in messages.
func ParseConfig(name string, data []byte) (*Config, []string, error) {
	raw, line, col, err := decodeTOML(data)
	if err != nil {
		if line > 0 {
			name = fmt.Sprintf("%s:%d:%d", name, line, col)
		}
		return nil, nil, fmt.Errorf("parsing config %s: %w", name, err)
	}
	d := &configDecoder{tomlDecoder: tomlDecoder{kind: "config", file: name}}
	c := &Config{}
	d.str(raw, "", "sandbox_mode", &c.SandboxMode)
	switch c.SandboxMode {
	case "", "read-only", "workspace-write", "danger-full-access":
	default:
		d.fail("sandbox_mode", fmt.Sprintf("unknown sandbox mode %q (want read-only, workspace-write or danger-full-access)", c.SandboxMode))
	}
	if t, ok := d.table(raw, "", "sandbox_workspace_write"); ok {
		w := &c.SandboxWorkspaceWrite
		d.strs(t, "sandbox_workspace_write", "writable_roots", &w.WritableRoots)
		d.boolean(t, "sandbox_workspace_write", "network_access", &w.NetworkAccess)
		d.boolean(t, "sandbox_workspace_write", "exclude_tmpdir_env_var", &w.ExcludeTmpdirEnvVar)
		d.boolean(t, "sandbox_workspace_write", "exclude_slash_tmp", &w.ExcludeSlashTmp)
		d.unknown(t, "sandbox_workspace_write", "writable_roots", "network_access", "exclude_tmpdir_env_var", "exclude_slash_tmp")
	}
	d.strs(raw, "", "project_root_markers", &c.ProjectRootMarkers)
	if t, ok := d.table(raw, "", "projects"); ok {
		c.Projects = map[string]string{}
		for _, dir := range sortedKeys(t) {
			section := fmt.Sprintf("projects.%q", dir)
			p, ok := d.table(t, "projects", dir)
			if !ok {
				continue
			}
			var level string
			d.str(p, section, "trust_level", &level)
			c.Projects[filepath.Clean(dir)] = level
			d.unknown(p, section, "trust_level")
		}
	}
	if t, ok := d.table(raw, "", "execgate"); ok {
		e := &c.Execgate
		d.str(t, "execgate", "bash", &e.Bash)
		d.str(t, "execgate", "execve_wrapper", &e.ExecveWrapper)
		d.boolean(t, "execgate", "preserve_program_paths", &e.PreserveProgramPaths)
		d.strs(t, "execgate", "rules", &e.Rules)
		d.integer(t, "execgate", "timeout_ms", &e.TimeoutMs)
		d.integer(t, "execgate", "max_output_bytes", &e.MaxOutputBytes)
		d.integer(t, "execgate", "prompt_timeout_ms", &e.PromptTimeoutMs)
		d.str(t, "execgate", "audit_log", &e.AuditLog)
		d.str(t, "execgate", "log_level", &e.LogLevel)
		var network bool
		if configField(d, t, "execgate", "network", "a boolean", &network) {
			e.Network = &network
		}
		d.strs(t, "execgate", "escalated_env_allow", &e.EscalatedEnvAllow)
		if progs, ok := d.table(t, "execgate", "repository_programs"); ok {
			e.RepositoryPrograms = map[string]string{}
			for _, name := range sortedKeys(progs) {
				var kind string
				d.str(progs, "execgate.repository_programs", name, &kind)
				e.RepositoryPrograms[name] = kind
			}
		}
		d.str(t, "execgate", "untrusted_repository", &e.UntrustedRepository)
		switch e.UntrustedRepository {
		case "", "sandbox", "ask":
		default:
			d.fail("execgate.untrusted_repository", fmt.Sprintf("unknown value %q (want sandbox or ask)", e.UntrustedRepository))
		}
		d.str(t, "execgate", "dangerous_commands", &e.DangerousCommands)
		switch e.DangerousCommands {
		case "", "confine", "ask":
		default:
			d.fail("execgate.dangerous_commands", fmt.Sprintf("unknown value %q (want confine or ask)", e.DangerousCommands))
		}
		var gate bool
		if configField(d, t, "execgate", "kernel_gate", "a boolean", &gate) {
			e.KernelGate = &gate
		}
		var maxProcs int64 = -1
		d.integer(t, "execgate", "max_processes", &maxProcs)
		if maxProcs >= 0 {
			e.MaxProcesses = &maxProcs
		}
		d.unknown(t, "execgate", "bash", "execve_wrapper", "preserve_program_paths", "rules", "timeout_ms",
			"max_output_bytes", "prompt_timeout_ms", "audit_log", "log_level", "network", "escalated_env_allow",
			"repository_programs", "untrusted_repository", "dangerous_commands", "max_processes", "kernel_gate")
		switch e.LogLevel {
		case "", "debug", "info", "warn", "error":
		default:
			d.fail("execgate.log_level", fmt.Sprintf("unknown level %q (want debug, info, warn or error)", e.LogLevel))
		}
	}
	if len(d.errs) > 0 {
		return nil, d.warnings, errors.Join(d.errs...)
	}
	return c, d.warnings, nil
}

// configDecoder type-checks config.toml, collecting every error.
type configDecoder struct {
	tomlDecoder
	errs []error
}

func (d *configDecoder) add(err error) {
	d.errs = append(d.errs, fmt.Errorf("config %s: %w", d.file, err))
}

func (d *configDecoder) fail(key, msg string) {
	d.add(fmt.Errorf("%s: %s", key, msg))
}

// configField stores t[key] in dst when it is present and a T (want names
// the type in the error otherwise), and reports whether it did.
func configField[T any](d *configDecoder, t map[string]any, section, key, want string, dst *T) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	x, err := tomlAs[T](keyPath(section, key), want, v)
	if err != nil {
		d.add(err)
		return false
	}
	*dst = x
	return true
}

func (d *configDecoder) str(t map[string]any, section, key string, dst *string) {
	configField(d, t, section, key, "a string", dst)
}

func (d *configDecoder) boolean(t map[string]any, section, key string, dst *bool) {
	configField(d, t, section, key, "a boolean", dst)
}

func (d *configDecoder) integer(t map[string]any, section, key string, dst *int64) {
	var n int64
	if !configField(d, t, section, key, "an integer", &n) {
		return
	}
	if n < 0 {
		d.fail(keyPath(section, key), fmt.Sprintf("must not be negative (got %d)", n))
		return
	}
	*dst = n
}

func (d *configDecoder) strs(t map[string]any, section, key string, dst *[]string) {
	v, ok := t[key]
	if !ok {
		return
	}
	list, err := tomlStrings(keyPath(section, key), v)
	if err != nil {
		d.add(err)
		return
	}
	*dst = list
}

func (d *configDecoder) table(t map[string]any, section, key string) (map[string]any, bool) {
	var m map[string]any
	ok := configField(d, t, section, key, "a table", &m)
	return m, ok
}
