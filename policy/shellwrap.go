package policy

import (
	"path/filepath"
	"strings"

	"github.com/execgate/execgate/policy/internal/shellscan"
)

// ShellCommands splits a `bash -lc SCRIPT` style argv into the plain commands
// of its script, as Codex's parse_shell_lc_plain_commands does: argv must be
// exactly [shell, "-c" or "-lc", script] with shell bash, zsh or sh (by name
// or file stem) and the script inside the plain-command subset. ok is false
// otherwise; an empty script gives no commands and ok=true.
func ShellCommands(argv []string) (cmds [][]string, ok bool) {
	if len(argv) != 3 || (argv[1] != "-c" && argv[1] != "-lc") || !isPosixShell(argv[0]) {
		return nil, false
	}
	return shellscan.PlainCommands(argv[2])
}

func isPosixShell(name string) bool {
	switch name {
	case "bash", "zsh", "sh":
		return true
	case "cmd", "pwsh", "powershell":
		return false
	}
	stem := filepath.Base(name)
	stem = strings.TrimSuffix(stem, filepath.Ext(stem))
	if stem == name || stem == "" {
		return false
	}
	return isPosixShell(stem)
}
