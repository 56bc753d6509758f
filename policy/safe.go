package policy

import (
	"strings"
)

// IsKnownSafe reports whether argv is on Codex 0.97.0's known-safe list (its
// is_known_safe_command): read-only tools by file name (ls, cat, grep, git
// status, ...) with their unsafe options excluded, or a bash/zsh/sh -c script
// whose plain commands are all known-safe. As in Codex, "zsh" anywhere in
// argv is read as "bash" first.
func IsKnownSafe(argv []string) bool {
	norm := make([]string, len(argv))
	for i, a := range argv {
		if a == "zsh" {
			a = "bash"
		}
		norm[i] = a
	}
	if isSafeExec(norm) {
		return true
	}
	cmds, ok := ShellCommands(norm)
	if !ok || len(cmds) == 0 {
		return false
	}
	for _, c := range cmds {
		if !isSafeExec(c) {
			return false
		}
	}
	return true
}

var alwaysSafe = map[string]bool{
	"cat": true, "cd": true, "cut": true, "echo": true, "expr": true, "false": true, "grep": true,
	"head": true, "id": true, "ls": true, "nl": true, "paste": true, "pwd": true, "rev": true,
	"seq": true, "stat": true, "tail": true, "tr": true, "true": true, "uname": true, "uniq": true,
	"wc": true, "which": true, "whoami": true,
	// Linux only in Codex; execgate's policy targets Linux.
	"numfmt": true, "tac": true,
}

var findUnsafe = map[string]bool{
	"-exec": true, "-execdir": true, "-ok": true, "-okdir": true, "-delete": true,
	"-fls": true, "-fprint": true, "-fprint0": true, "-fprintf": true,
}

var sedPrint = lazyRegexp(`^(\d+,)?\d+p$`)

func isSafeExec(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	name := baseName(argv[0])
	args := argv[1:]
	if alwaysSafe[name] {
		return true
	}
	switch name {
	case "base64":
		return !anyArg(args, func(a string) bool {
			return a == "-o" || a == "--output" || strings.HasPrefix(a, "--output=") || strings.HasPrefix(a, "-o") && len(a) > 2
		})
	case "find":
		return !anyArg(args, func(a string) bool { return findUnsafe[a] })
	case "rg":
		return !anyArg(args, func(a string) bool {
			return a == "--search-zip" || a == "-z" || a == "--pre" || a == "--hostname-bin" ||
				strings.HasPrefix(a, "--pre=") || strings.HasPrefix(a, "--hostname-bin=")
		})
	case "git":
		return isSafeGit(args)
	case "sed":
		return len(argv) <= 4 && len(args) >= 2 && args[0] == "-n" && sedPrint().MatchString(args[1])
	}
	return false
}

var gitSafeBranchFlags = map[string]bool{
	"--list": true, "-l": true, "--show-current": true, "-a": true, "--all": true,
	"-r": true, "--remotes": true, "-v": true, "-vv": true, "--verbose": true,
}

func isSafeGit(args []string) bool {
	if anyArg(args, func(a string) bool {
		return a == "-c" || a == "--config-env" || strings.HasPrefix(a, "-c") && len(a) > 2 || strings.HasPrefix(a, "--config-env=")
	}) {
		return false
	}
	sub, rest, ok := gitSubcommand(args)
	if !ok {
		return false
	}
	switch sub {
	case "status", "log", "diff", "show", "branch":
	default:
		return false
	}
	if anyArg(rest, func(a string) bool {
		switch a {
		case "--output", "--ext-diff", "--textconv", "--exec", "--paginate":
			return true
		}
		return strings.HasPrefix(a, "--output=") || strings.HasPrefix(a, "--exec=")
	}) {
		return false
	}
	if sub == "branch" {
		for _, a := range rest {
			if !gitSafeBranchFlags[a] && !strings.HasPrefix(a, "--format=") {
				return false
			}
		}
	}
	return true
}

func anyArg(args []string, pred func(string) bool) bool {
	for _, a := range args {
		if pred(a) {
			return true
		}
	}
	return false
}
