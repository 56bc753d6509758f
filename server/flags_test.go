package server

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		args    []string
		check   func(*engine.Options) bool
		wantErr string // substring of the message printed to stderr
	}{
		{"defaults", "server", nil, func(o *engine.Options) bool {
			return o.Sandbox == engine.ModeWorkspaceWrite && o.Timeout == 10*time.Second && o.MaxOutput == 1<<20 &&
				o.PromptTimeout == 5*time.Minute && o.LogLevel == slog.LevelInfo && !o.Network && len(o.Explicit) == 0 &&
				o.MaxProcesses == 1024
		}, ""},
		{"everything", "server", []string{
			"--bash", "/b/bash", "--execve", "/b/wrap", "--preserve-program-paths", "--sandbox", "read-only",
			"--writable-root", "/a", "--writable-root", "/b/", "--network", "--rules", "x.rules", "--rules", "y.rules",
			"--timeout", "2m", "--max-output", "512k", "--prompt-timeout", "30s", "--audit-log", "/tmp/a.jsonl", "--log-level", "debug",
		}, func(o *engine.Options) bool {
			return o.Bash == "/b/bash" && o.Execve == "/b/wrap" && o.PreserveProgramPaths && o.Sandbox == engine.ModeReadOnly &&
				reflect.DeepEqual(o.WritableRoots, []string{"/a", "/b"}) && o.Network &&
				reflect.DeepEqual(o.Rules, []string{"x.rules", "y.rules"}) && o.Timeout == 2*time.Minute &&
				o.MaxOutput == 512<<10 && o.PromptTimeout == 30*time.Second && o.AuditLog == "/tmp/a.jsonl" &&
				o.LogLevel == slog.LevelDebug && o.Explicit["sandbox"] && o.Explicit["rules"] && !o.Explicit["workdir"]
		}, ""},
		{"run script", "run", []string{"--workdir", "/w", "--", "echo", "hi"}, func(o *engine.Options) bool {
			return o.Workdir == "/w" && o.Script == "echo hi"
		}, ""},
		{"max-output MiB", "server", []string{"--max-output", "2MiB"}, func(o *engine.Options) bool { return o.MaxOutput == 2<<20 }, ""},
		{"max-processes", "server", []string{"--max-processes", "64"}, func(o *engine.Options) bool { return o.MaxProcesses == 64 }, ""},
		{"bad max-processes", "server", []string{"--max-processes", "-3"}, nil, `flag -max-processes: "-3" is not a count of processes`},
		{"bad sandbox", "server", []string{"--sandbox", "yolo"}, nil, `invalid value "yolo" for flag -sandbox`},
		{"runtime dir", "server", []string{"--runtime-dir", "/run/eg/"}, func(o *engine.Options) bool { return o.RuntimeDir == "/run/eg" }, ""},
		{"relative runtime dir", "server", []string{"--runtime-dir", "rt"}, nil, `flag -runtime-dir: "rt" is not an absolute path`},
		{"relative root", "server", []string{"--writable-root", "rel"}, nil, `flag -writable-root: "rel" is not an absolute path`},
		{"unitless timeout", "server", []string{"--timeout", "10"}, nil, `flag -timeout: "10" has no unit`},
		{"negative timeout", "server", []string{"--timeout", "-1s"}, nil, `flag -timeout: "-1s" must be positive`},
		{"huge timeout", "server", []string{"--timeout", "100h"}, nil, `flag -timeout: "100h" exceeds the maximum`},
		{"bad size", "server", []string{"--max-output", "lots"}, nil, `flag -max-output: "lots" is not a size`},
		{"bad unit", "server", []string{"--max-output", "3T"}, nil, `flag -max-output: "3T" has an unknown unit`},
		{"tiny size", "server", []string{"--max-output", "10"}, nil, `flag -max-output: "10" is below the minimum`},
		{"bad level", "server", []string{"--log-level", "loud"}, nil, `flag -log-level`},
		{"unknown flag", "server", []string{"--nope"}, nil, "flag provided but not defined: -nope"},
		{"server takes no args", "server", []string{"extra"}, nil, `unexpected argument "extra"`},
		{"run needs a script", "run", []string{"--workdir", "/w"}, nil, "missing SCRIPT"},
		{"workdir only for run", "server", []string{"--workdir", "/w"}, nil, "flag provided but not defined: -workdir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			o, err := parseOptions(tt.cmd, tt.args, &stderr)
			if tt.wantErr != "" {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				if !strings.Contains(stderr.String(), tt.wantErr) {
					t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v (stderr %s)", err, stderr.String())
			}
			if !tt.check(o) {
				t.Errorf("options not as expected: %+v", o)
			}
		})
	}
}

func TestParseOptionsHelp(t *testing.T) {
	_, err := parseOptions("server", []string{"-h"}, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
}
