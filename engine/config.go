package engine

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/execgate/execgate/policy"
)

// ConfigFile is the config.toml of the configuration home (Home).
func (o *Options) ConfigFile() (string, error) {
	home, err := o.Home()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "config.toml"), nil
}

// ApplyConfig loads config.toml from the configuration home and fills the
// fields of opts whose flag is not in opts.Explicit (flags override config).
// Applying it twice gives the same options. It returns the config (for the
// settings that have no flag) and the warnings about unknown keys.
func ApplyConfig(opts *Options) (*policy.Config, []string, error) {
	path, err := opts.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	cfg, warnings, err := policy.LoadConfig(path)
	if err != nil {
		return nil, warnings, err
	}
	if err := mergeConfig(opts, cfg, filepath.Dir(path)); err != nil {
		return nil, warnings, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, warnings, nil
}

// mergeConfig copies cfg into opts where no flag was given. Relative rules
// paths are relative to the configuration home (dir).
func mergeConfig(opts *Options, cfg *policy.Config, dir string) error {
	set := func(flag string) bool { return !opts.Explicit[flag] }
	e := cfg.Execgate
	if set("sandbox") && cfg.SandboxMode != "" {
		opts.Sandbox = cfg.SandboxMode
	}
	if set("writable-root") && len(cfg.SandboxWorkspaceWrite.WritableRoots) > 0 {
		roots := make([]string, 0, len(cfg.SandboxWorkspaceWrite.WritableRoots))
		for i, r := range cfg.SandboxWorkspaceWrite.WritableRoots {
			if !filepath.IsAbs(r) {
				return fmt.Errorf("sandbox_workspace_write.writable_roots[%d]: %q is not an absolute path", i, r)
			}
			roots = append(roots, filepath.Clean(r))
		}
		opts.WritableRoots = roots
	}
	if set("network") {
		switch {
		case e.Network != nil:
			opts.Network = *e.Network
		case cfg.SandboxWorkspaceWrite.NetworkAccess:
			opts.Network = true
		}
	}
	if set("bash") && e.Bash != "" {
		opts.Bash = e.Bash
	}
	if set("execve") && e.ExecveWrapper != "" {
		opts.Execve = e.ExecveWrapper
	}
	if set("preserve-program-paths") && e.PreserveProgramPaths {
		opts.PreserveProgramPaths = true
	}
	if set("rules") && len(e.Rules) > 0 {
		rules := make([]string, len(e.Rules))
		for i, r := range e.Rules {
			if !filepath.IsAbs(r) {
				r = filepath.Join(dir, r)
			}
			rules[i] = r
		}
		opts.Rules = rules
	}
	if set("timeout") && e.TimeoutMs > 0 {
		opts.Timeout = min(time.Duration(e.TimeoutMs)*time.Millisecond, MaxTimeout)
	}
	if set("max-output") && e.MaxOutputBytes > 0 {
		if e.MaxOutputBytes < 1024 || e.MaxOutputBytes > 1<<31-1 {
			return fmt.Errorf("execgate.max_output_bytes: %d is outside 1024..%d", e.MaxOutputBytes, 1<<31-1)
		}
		opts.MaxOutput = int(e.MaxOutputBytes)
	}
	if set("max-processes") && e.MaxProcesses != nil {
		if *e.MaxProcesses > 1<<22 {
			return fmt.Errorf("execgate.max_processes: %d is above the kernel's pid space (%d)", *e.MaxProcesses, 1<<22)
		}
		opts.MaxProcesses = int(*e.MaxProcesses)
	}
	if set("no-kernel-gate") && e.KernelGate != nil {
		opts.NoKernelGate = !*e.KernelGate
	}
	if set("prompt-timeout") && e.PromptTimeoutMs > 0 {
		opts.PromptTimeout = time.Duration(e.PromptTimeoutMs) * time.Millisecond
	}
	if set("audit-log") && e.AuditLog != "" {
		opts.AuditLog = e.AuditLog
	}
	if set("log-level") && e.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(e.LogLevel)); err != nil {
			return fmt.Errorf("execgate.log_level: %w", err)
		}
		opts.LogLevel = l
	}
	return nil
}
