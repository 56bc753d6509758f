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

	"github.com/execgate/execgate/internal/buildinfo"
)

// DoctorMain is `execgate doctor`: what this execgate would run with, and
// the MCP client configuration to paste. It takes the server's flags so it
// reports exactly what `execgate server` with the same flags would use.
func DoctorMain(args []string) int {
	return doctor(args, os.Stdout, os.Stderr)
}

func doctor(args []string, stdout, stderr io.Writer) int {
	opts, err := ParseOptions("server", args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	// The options as config.toml leaves them (errors are reported below).
	_, _, _ = ApplyConfig(opts)
	fmt.Fprintf(stdout, "%s\n\n", buildinfo.String())
	fmt.Fprintf(stdout, "options in effect:\n")
	fmt.Fprintf(stdout, "  sandbox mode:     %s (network %s)\n", opts.Sandbox, onOff(opts.Network))
	fmt.Fprintf(stdout, "  writable roots:   %v (plus the workspace)\n", opts.WritableRoots)
	fmt.Fprintf(stdout, "  rules files:      %v (plus the default locations)\n", opts.Rules)
	fmt.Fprintf(stdout, "  timeout:          %v (prompt timeout %v)\n", opts.Timeout, opts.PromptTimeout)
	fmt.Fprintf(stdout, "  max output:       %d bytes\n", opts.MaxOutput)
	fmt.Fprintf(stdout, "  always-allow file: %s\n", DefaultRulesFile())

	status := 0
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	eng, err := newEngine(opts, NewLogger(stderr, opts.LogLevel), "")
	if err != nil {
		fmt.Fprintf(stdout, "\nexecution engine: FAILED: %s\n", printable(err.Error()))
		status = 1
	} else {
		defer eng.Close()
		fmt.Fprintf(stdout, "\nexecution engine: ready\n")
		eng.report(stdout)
	}

	if exe == "" {
		exe = "execgate"
	}
	entry := map[string]any{"command": exe, "args": append([]string{"server"}, args...)}
	// What this shell's environment told the engine, the client's will not.
	env := eng.clientEnv()
	if len(env) > 0 {
		entry["env"] = env
	}
	snippet, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"execgate": entry}}, "", "  ")
	fmt.Fprintf(stdout, "\nMCP client configuration (Claude Code, VS Code, Cursor):\n%s\n", snippet)
	fmt.Fprintf(stdout, "\nCodex CLI (~/.codex/config.toml):\n[mcp_servers.execgate]\ncommand = %q\nargs = %s\n", exe, tomlList(append([]string{"server"}, args...)))
	if len(env) > 0 {
		fmt.Fprintf(stdout, "[mcp_servers.execgate.env]\n")
		for _, k := range slices.Sorted(maps.Keys(env)) {
			fmt.Fprintf(stdout, "%s = %q\n", k, env[k])
		}
	}
	return status
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
