package server

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/buildinfo"
)

// DoctorMain is `execgate doctor`: what this execgate would run with, and
// the MCP client configuration to paste. It takes the server's flags so it
// reports exactly what `execgate server` with the same flags would use.
func DoctorMain(args []string) int {
	return doctor(args, os.Stdout, os.Stderr)
}

func doctor(args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions("server", args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	// The options as config.toml leaves them (errors are reported below).
	_, _, _ = engine.ApplyConfig(opts)
	fmt.Fprintf(stdout, "%s\n\n", buildinfo.String())
	fmt.Fprintf(stdout, "options in effect:\n")
	fmt.Fprintf(stdout, "  sandbox mode:     %s (network %s)\n", opts.Sandbox, onOff(opts.Network))
	fmt.Fprintf(stdout, "  writable roots:   %v (plus the workspace)\n", opts.WritableRoots)
	fmt.Fprintf(stdout, "  rules files:      %v (plus the default locations)\n", opts.Rules)
	fmt.Fprintf(stdout, "  timeout:          %v (prompt timeout %v)\n", opts.Timeout, opts.PromptTimeout)
	fmt.Fprintf(stdout, "  max output:       %d bytes\n", opts.MaxOutput)
	fmt.Fprintf(stdout, "  always-allow file: %s\n", opts.DefaultRulesFile())
	status := 0
	switch state, err := engine.CheckAuditFile(opts.AuditLog); {
	case opts.AuditLog == "":
		fmt.Fprintf(stdout, "  audit log:        none (flag --audit-log or [execgate] audit_log)\n")
	case err != nil:
		fmt.Fprintf(stdout, "  audit log:        REFUSED: %s\n", engine.Printable(err.Error()))
		status = 1
	default:
		fmt.Fprintf(stdout, "  audit log:        %s (%s; required: %s)\n", engine.Printable(opts.AuditLog), state, onOff(opts.AuditRequired))
		// A running server is another process: what it failed to write
		// shows in its calls' notes and its log, not here.
		fmt.Fprintf(stdout, "                    records a running server cannot write are reported in each call's note and logged as errors\n")
	}

	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	eng, err := engine.New(opts, newLogger(stderr, opts.LogLevel))
	if err != nil {
		fmt.Fprintf(stdout, "\nexecution engine: FAILED: %s\n", engine.Printable(err.Error()))
		status = 1
	} else {
		defer eng.Close()
		fmt.Fprintf(stdout, "\nexecution engine: ready\n")
		eng.Report(stdout)
	}

	if exe == "" {
		exe = "execgate"
	}
	entry := map[string]any{"command": exe, "args": append([]string{"server"}, args...)}
	// What this shell's environment told the engine, the client's will not.
	env := eng.ClientEnv()
	if len(env) > 0 {
		entry["env"] = env
	}
	snippet, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"execgate": entry}}, "", "  ")
	fmt.Fprintf(stdout, "\nMCP client configuration (Claude Code, VS Code, Cursor):\n%s\n", snippet)
	codexSnippet(stdout, exe, append([]string{"server"}, args...), env)
	return status
}

// codexSnippet prints the Codex CLI configuration, the same for Codex 0.97
// and 0.171. Codex starts MCP servers with only HOME, LANG, PATH, SHELL
// and TERM from its environment, hence env; and 0.171 asks the user (TUI)
// or refuses the call (codex exec) for every MCP tool call unless told
// otherwise, hence the approval mode (0.97 accepts it too).
func codexSnippet(w io.Writer, exe string, args []string, env map[string]string) {
	fmt.Fprintf(w, "\nCodex CLI, 0.97 and 0.171 (~/.codex/config.toml):\n[mcp_servers.execgate]\ncommand = %q\nargs = %s\n", exe, tomlList(args))
	if len(env) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(env)) {
			kv = append(kv, fmt.Sprintf("%s = %q", k, env[k]))
		}
		fmt.Fprintf(w, "env = { %s }  # Codex passes MCP servers almost none of its environment\n", strings.Join(kv, ", "))
	}
	fmt.Fprintf(w, "# execgate decides per program (rules, prompts); Codex's approval of every\n"+
		"# call adds nothing, and without this line codex exec 0.171 refuses them:\n"+
		"default_tools_approval_mode = \"approve\"\n\n[features]\nshell_tool = false  # the agent uses execgate's shell instead\n")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func tomlList(ss []string) string {
	b, _ := json.Marshal(ss) // JSON string arrays are valid TOML arrays
	return string(b)
}
