package policy

import (
	"slices"
	"strings"
)

// IsDangerous reports whether argv is a command Codex 0.97.0 considers
// dangerous enough to prompt for when no rule matched (its
// command_might_be_dangerous): git reset/rm, branch deletion, forced or
// deleting pushes, forced clean, rm -f and rm -rf, sudo of any of those; or a
// bash/zsh/sh -c script whose plain commands include one. Unlike Codex it
// also recognises the rm spellings Codex misses: -fr, -Rf, -rF, separate -r
// -f, --recursive --force, and flags after operands (rm x -rf), and /bin/rm
// by basename.
func IsDangerous(argv []string) bool {
	if isDangerousExec(argv) {
		return true
	}
	if cmds, ok := ShellCommands(argv); ok {
		for _, c := range cmds {
			if isDangerousExec(c) {
				return true
			}
		}
	}
	return false
}

// DangerousPrefix returns, for a command IsDangerous reports, the tokens
// an "always allow" answer should allow: the program and what precedes its
// first operand (its options; git's global options, subcommand and the
// subcommand's options; sudo's command, likewise), when those hold all that
// makes the command dangerous: `rm -f`, `git reset --hard`, `sudo rm -rf`.
// Such a rule holds for the next file too. When the danger lies in an
// operand (`git push origin +main`, a shell script) it is all of argv. Nil
// when argv is not dangerous.
func DangerousPrefix(argv []string) []string {
	if !IsDangerous(argv) {
		return nil
	}
	if n := commandPrefixLen(argv); isDangerousExec(argv[:n]) {
		return slices.Clone(argv[:n])
	}
	return slices.Clone(argv)
}

// commandPrefixLen is how many tokens of argv (not empty) come before its
// first operand, as isDangerousExec reads the command.
func commandPrefixLen(argv []string) int {
	switch {
	case strings.HasSuffix(argv[0], "git"):
		i := 1
		for i < len(argv) && strings.HasPrefix(argv[i], "-") {
			if gitValueOptions[argv[i]] {
				i++
			}
			i++
		}
		if i < len(argv) {
			i++ // the subcommand
		}
		return optionsEnd(argv, min(i, len(argv)))
	case argv[0] == "sudo" && len(argv) > 1:
		return 1 + commandPrefixLen(argv[1:])
	}
	return optionsEnd(argv, 1)
}

// optionsEnd is the index of the first token of argv at or after i that is
// not an option ("--" and "-" are not options).
func optionsEnd(argv []string, i int) int {
	for i < len(argv) && len(argv[i]) > 1 && argv[i][0] == '-' && argv[i] != "--" {
		i++
	}
	return i
}

func isDangerousExec(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	cmd0 := argv[0]
	switch {
	case strings.HasSuffix(cmd0, "git"):
		return isDangerousGit(argv[1:])
	case cmd0 == "rm" || baseName(cmd0) == "rm":
		return isDangerousRm(argv[1:])
	case cmd0 == "sudo":
		return isDangerousExec(argv[1:])
	}
	return false
}

// isDangerousRm: Codex flags only argv[1] == "-f" or "-rf". Any -f (force)
// is what makes rm skip its prompts, whatever the spelling or position, so
// every force flag counts here; "--" ends option parsing as in rm itself.
func isDangerousRm(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--force":
			return true
		case strings.HasPrefix(a, "--"):
			continue
		case strings.HasPrefix(a, "-") && strings.ContainsRune(a, 'f'):
			return true
		}
	}
	return false
}

// gitValueOptions are git's global options that take a separate value.
var gitValueOptions = map[string]bool{
	"-C": true, "-c": true, "--config-env": true, "--exec-path": true, "--git-dir": true,
	"--namespace": true, "--super-prefix": true, "--work-tree": true,
}

var gitInlineOptions = []string{"--config-env=", "--exec-path=", "--git-dir=", "--namespace=", "--super-prefix=", "--work-tree="}

// gitSubcommand finds git's subcommand as Codex does: skip global options
// (and their values); the first other token is the subcommand.
func gitSubcommand(args []string) (sub string, rest []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case gitValueOptions[a]:
			i++
		case hasAnyPrefix(a, gitInlineOptions), (strings.HasPrefix(a, "-C") || strings.HasPrefix(a, "-c")) && len(a) > 2:
		case strings.HasPrefix(a, "-"):
		default:
			return a, args[i+1:], true
		}
	}
	return "", nil, false
}

func isDangerousGit(args []string) bool {
	sub, rest, ok := gitSubcommand(args)
	if !ok {
		return false
	}
	switch sub {
	case "reset", "rm":
		return true
	case "branch":
		for _, a := range rest {
			if a == "-d" || a == "-D" || a == "--delete" || strings.HasPrefix(a, "--delete=") || shortFlagGroupHas(a, "dD") {
				return true
			}
		}
	case "push":
		for _, a := range rest {
			switch a {
			case "--force", "--force-with-lease", "--force-if-includes", "--delete", "-f", "-d":
				return true
			}
			if hasAnyPrefix(a, []string{"--force-with-lease=", "--force-if-includes=", "--delete="}) || shortFlagGroupHas(a, "fd") {
				return true
			}
			if len(a) > 1 && (a[0] == '+' || a[0] == ':') {
				return true
			}
		}
	case "clean":
		for _, a := range rest {
			if a == "--force" || a == "-f" || strings.HasPrefix(a, "--force=") || shortFlagGroupHas(a, "f") {
				return true
			}
		}
	}
	return false
}

// shortFlagGroupHas: a is a group of short flags (-xyz) containing any of chars.
func shortFlagGroupHas(a, chars string) bool {
	return strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], chars)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
