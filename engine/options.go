package engine

import (
	"log/slog"
	"os"
	"time"

	"github.com/execgate/execgate/engine/output"
	"github.com/execgate/execgate/policy"
	"github.com/execgate/execgate/sandbox"
)

// Sandbox modes, as Codex names them.
const (
	ModeReadOnly         = "read-only"
	ModeWorkspaceWrite   = "workspace-write"
	ModeDangerFullAccess = "danger-full-access"
)

// Defaults for the flags.
const (
	defaultTimeout       = 10 * time.Second
	defaultPromptTimeout = 5 * time.Minute
	// MaxTimeout caps a call's timeout_ms: a forgotten call must not hold
	// processes for days.
	MaxTimeout = 24 * time.Hour
)

// Options is the configuration of `execgate server` and `execgate run`.
type Options struct {
	Bash                 string   // patched Bash; empty: search (EXECGATE_BASH, CODEX_BASH_PATH, install prefix, build dir)
	Execve               string   // execve wrapper; empty: the one installed in PREFIX/libexec/execgate, else a private copy
	RuntimeDir           string   // where the private copy goes (absolute); empty: $XDG_RUNTIME_DIR, else the user cache directory
	PreserveProgramPaths bool     // match rules on full program paths only
	NoKernelGate         bool     // rules check only the shell's own program starts (no seccomp user notification)
	Sandbox              string   // one of the Mode* constants
	WritableRoots        []string // extra writable roots in workspace-write mode (absolute)
	Network              bool     // allow network access inside the sandbox
	Rules                []string // extra .rules files, after the default locations
	Timeout              time.Duration
	MaxOutput            int // bytes of output kept per call (head + tail)
	PromptTimeout        time.Duration
	MaxProcesses         int    // processes and threads per call's sandbox; 0: no bound
	AuditLog             string // append every decision as a JSON line here
	AuditRequired        bool   // a decision the audit log does not take stops its call and denies later execs
	CodexHome            string // configuration home (rules, config.toml); empty: policy.Home
	LogLevel             slog.Level

	// Executable is the execgate binary that plays the sandbox helper, the
	// escalate reaper and the execve wrapper; empty: this process's own.
	// Not a flag: tests name a built binary here.
	Executable string

	// `execgate run` only.
	Workdir string // default: the current directory
	Script  string
	Verbose bool // log every exec decision, not only denials and prompts

	// systemDir replaces /etc/codex (system rules and requirements.toml)
	// in tests; empty in the product.
	systemDir string

	// Explicit holds the names of the flags given on the command line. A
	// config file (config.toml, loaded by the policy package) must only fill
	// the fields whose flag is not in Explicit: flags override config.
	Explicit map[string]bool
}

// DefaultOptions returns the options with every flag at its default.
func DefaultOptions() *Options {
	return &Options{
		Sandbox:       ModeWorkspaceWrite,
		Timeout:       defaultTimeout,
		MaxOutput:     output.DefaultLimit,
		PromptTimeout: defaultPromptTimeout,
		MaxProcesses:  sandbox.DefaultMaxProcesses,
		LogLevel:      slog.LevelInfo,
		Explicit:      map[string]bool{},
	}
}

// Home is the configuration home: --codex-home, else policy.Home
// ($EXECGATE_HOME, $CODEX_HOME, ~/.codex). MCP clients pass servers little
// of their environment (Codex: HOME, LANG, PATH, SHELL, TERM), so the flag
// is how a client's configuration names it without an env entry.
func (o *Options) Home() (string, error) {
	if o.CodexHome != "" {
		return o.CodexHome, nil
	}
	return policy.Home()
}

// homeSource says where Home came from, for logs and doctor.
func homeSource(o *Options) string {
	switch {
	case o.CodexHome != "":
		return "flag --codex-home"
	case os.Getenv("EXECGATE_HOME") != "":
		return "$EXECGATE_HOME"
	case os.Getenv("CODEX_HOME") != "":
		return "$CODEX_HOME"
	}
	return "default ~/.codex"
}
