package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/sandbox"
)

// The command line of `execgate server` and `execgate run`: it fills the
// engine's Options, and marks the flags given (Options.Explicit) so that
// config.toml fills only the others.

// errUsage marks a command-line error (exit status 2); the message names the flag.
var errUsage = errors.New("usage error")

// parseOptions parses the flags of `execgate CMD` (cmd is "server" or
// "run"). Flag errors and usage go to stderr; -h yields flag.ErrHelp.
func parseOptions(cmd string, args []string, stderr io.Writer) (*engine.Options, error) {
	o := engine.DefaultOptions()
	fs := flag.NewFlagSet("execgate "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Bash, "bash", "", "patched Bash to run scripts with")
	fs.StringVar(&o.Execve, "execve", "", "execve wrapper the patched Bash execs through")
	fs.Func("runtime-dir", "private directory (absolute, outside every writable root) for the execve wrapper and helpers when none is installed in PREFIX/libexec/execgate (default $XDG_RUNTIME_DIR, else ~/.cache/execgate)", func(s string) error {
		if !filepath.IsAbs(s) {
			return fmt.Errorf("%q is not an absolute path", s)
		}
		o.RuntimeDir = filepath.Clean(s)
		return nil
	})
	fs.BoolVar(&o.PreserveProgramPaths, "preserve-program-paths", false, "match rules on full program paths only")
	fs.BoolVar(&o.NoKernelGate, "no-kernel-gate", false, "check only the shell's own program starts, not those of the programs it starts (no seccomp user notification)")
	fs.Func("sandbox", "sandbox mode: read-only, workspace-write or danger-full-access (default workspace-write)", func(s string) error {
		switch s {
		case engine.ModeReadOnly, engine.ModeWorkspaceWrite, engine.ModeDangerFullAccess:
			o.Sandbox = s
			return nil
		}
		return fmt.Errorf("%q is not read-only, workspace-write or danger-full-access", s)
	})
	fs.Func("writable-root", "extra writable directory in workspace-write mode (repeatable, absolute)", func(s string) error {
		if !filepath.IsAbs(s) {
			return fmt.Errorf("%q is not an absolute path", s)
		}
		o.WritableRoots = append(o.WritableRoots, filepath.Clean(s))
		return nil
	})
	fs.BoolVar(&o.Network, "network", false, "allow network access inside the sandbox")
	fs.Func("rules", "extra .rules file (repeatable)", func(s string) error {
		if s == "" {
			return errors.New("empty path")
		}
		o.Rules = append(o.Rules, s)
		return nil
	})
	fs.Func("timeout", "default timeout of a call, e.g. 10s or 2m (default 10s)", durationFlag(&o.Timeout, engine.MaxTimeout))
	fs.Func("max-output", "output kept per call, e.g. 1MiB, 512k or 65536 (default 1MiB)", func(s string) error {
		n, err := parseSize(s)
		if err != nil {
			return err
		}
		if n < 1024 {
			return fmt.Errorf("%q is below the minimum of 1024 bytes", s)
		}
		o.MaxOutput = n
		return nil
	})
	fs.Func("max-processes", fmt.Sprintf("processes and threads one call may have at once, 0 for no bound (default %d)", sandbox.DefaultMaxProcesses), func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a count of processes (0 or more)", s)
		}
		o.MaxProcesses = n
		return nil
	})
	fs.Func("prompt-timeout", "how long an approval prompt waits before denying (default 5m)", durationFlag(&o.PromptTimeout, 0))
	fs.StringVar(&o.AuditLog, "audit-log", "", "append every exec decision to this file as JSON lines")
	fs.Func("codex-home", "configuration home: rules/, config.toml, always-allow rules (default $EXECGATE_HOME, else $CODEX_HOME, else ~/.codex)", func(s string) error {
		if s == "" {
			return errors.New("empty path")
		}
		abs, err := filepath.Abs(s)
		if err != nil {
			return err
		}
		o.CodexHome = abs
		return nil
	})
	fs.BoolVar(&o.AuditRequired, "audit-required", false, "fail closed when the audit log cannot be written: stop the call and deny every program until it can")
	fs.Func("log-level", "debug, info, warn or error (default info)", func(s string) error {
		return o.LogLevel.UnmarshalText([]byte(s))
	})
	if cmd == "run" {
		fs.BoolVar(&o.Verbose, "v", false, "log every exec decision (denials and prompts are always logged)")
		fs.Func("workdir", "directory to run the script in (default: current directory)", func(s string) error {
			if s == "" {
				return errors.New("empty path")
			}
			o.Workdir = s
			return nil
		})
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), "usage: execgate run [flags] -- SCRIPT\n\nflags:\n")
			fs.PrintDefaults()
		}
	} else {
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), "usage: execgate server [flags]\n\nServes the MCP shell tool on stdin/stdout.\n\nflags:\n")
			fs.PrintDefaults()
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		// The flag package has printed the message (naming the flag) and usage.
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	fs.Visit(func(f *flag.Flag) { o.Explicit[f.Name] = true })
	rest := fs.Args()
	switch {
	case cmd == "run" && len(rest) == 0:
		fmt.Fprintln(stderr, "execgate run: missing SCRIPT (usage: execgate run [flags] -- SCRIPT)")
		return nil, fmt.Errorf("%w: missing SCRIPT", errUsage)
	case cmd == "run":
		// Several words are joined like `bash -c "$*"` would see them.
		o.Script = strings.Join(rest, " ")
	case len(rest) > 0:
		fmt.Fprintf(stderr, "execgate %s: unexpected argument %q\n", cmd, rest[0])
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	return o, nil
}

// durationFlag parses a positive Go duration, at most max (if max > 0).
func durationFlag(dst *time.Duration, max time.Duration) func(string) error {
	return func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			if _, nerr := strconv.Atoi(s); nerr == nil {
				return fmt.Errorf("%q has no unit (write e.g. %ss or %sms)", s, s, s)
			}
			return fmt.Errorf("%q is not a duration like 10s or 2m", s)
		}
		if d <= 0 {
			return fmt.Errorf("%q must be positive", s)
		}
		if max > 0 && d > max {
			return fmt.Errorf("%q exceeds the maximum of %v", s, max)
		}
		*dst = d
		return nil
	}
}

// parseSize parses a byte count with an optional k/M/G (powers of 1024)
// suffix, also spelled KiB/MiB/GiB or KB/MB/GB.
func parseSize(s string) (int, error) {
	num, unit := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		num, unit = s[:i], s[i:]
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 1048576, 512k or 1MiB", s)
	}
	mult := 1
	switch strings.ToLower(unit) {
	case "", "b":
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("%q has an unknown unit %q (use k, M or G)", s, unit)
	}
	if n > (1<<31-1)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
