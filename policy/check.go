package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

const checkUsage = `Usage: execgate check --rules <PATH> [--rules <PATH>]... [--pretty] [--resolve-host-executables] [--] <COMMAND>...

Evaluates the rules for one command and prints the matches as JSON, exactly
like "codex execpolicy check" (no heuristics; "decision" is omitted when no
rule matches). Exit status: 0 whatever the decision, 1 when a rules file
fails to load, 2 on usage errors.

Options:
  -r, --rules <PATH>             a rules file (repeatable, evaluated in order)
      --pretty                   pretty-print the JSON
      --resolve-host-executables also try basename rules for an absolute program
                                 (as later Codex versions do)
  -h, --help                     print this help
`

type checkArgs struct {
	rules   []string
	pretty  bool
	resolve bool
	command []string
}

// parseCheckArgs follows clap's behaviour for Codex's check: options come
// before the command; the first other token starts the command, and
// everything after it, flags included, belongs to the command.
func parseCheckArgs(args []string) (checkArgs, bool, error) {
	var c checkArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			c.command = args[i+1:]
			i = len(args)
		case a == "-h" || a == "--help":
			return c, true, nil
		case a == "--pretty":
			c.pretty = true
		case a == "--resolve-host-executables":
			c.resolve = true
		case a == "--rules" || a == "-r":
			if i+1 >= len(args) {
				return c, false, fmt.Errorf("a value is required for '--rules <PATH>' but none was supplied")
			}
			i++
			c.rules = append(c.rules, args[i])
		case strings.HasPrefix(a, "--rules="):
			c.rules = append(c.rules, strings.TrimPrefix(a, "--rules="))
		case strings.HasPrefix(a, "-r") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			c.rules = append(c.rules, strings.TrimPrefix(strings.TrimPrefix(a, "-r"), "="))
		default:
			c.command = args[i:]
			i = len(args)
		}
	}
	if len(c.rules) == 0 {
		return c, false, errors.New("the following required arguments were not provided:\n  --rules <PATH>")
	}
	if len(c.command) == 0 {
		//lint:ignore ST1005 Codex's (clap's) message, word for word
		return c, false, errors.New("the following required arguments were not provided:\n  <COMMAND>...")
	}
	return c, false, nil
}

// CheckMain is `execgate check`: it loads the rules files and prints the
// Codex-compatible evaluation of one command.
func CheckMain(args []string, stdout, stderr io.Writer) int {
	c, help, err := parseCheckArgs(args)
	if help {
		fmt.Fprint(stdout, checkUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, checkUsage)
		return 2
	}
	p, err := Load(context.Background(), c.rules, LoadOptions{})
	if err != nil {
		fmt.Fprint(stderr, describeLoadFailure(err))
		return 1
	}
	var ev Evaluation
	if c.resolve {
		ev = p.CheckResolvingHostExecutables(c.command)
	} else {
		ev = p.Check(c.command)
	}
	out := CheckJSON(ev, c.pretty)
	if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
		fmt.Fprintf(stderr, "Error: writing output: %v\n", err)
		return 1
	}
	return 0
}

// describeLoadFailure renders a load error in the layout Codex's CLI uses
// (anyhow's "Error: ...\n\nCaused by:\n    ...").
func describeLoadFailure(err error) string {
	var le *LoadError
	if !errors.As(err, &le) {
		return fmt.Sprintf("Error: %v\n", err)
	}
	if le.Read {
		return fmt.Sprintf("Error: failed to read policy at %s\n\nCaused by:\n    %s\n", le.File, le.Msg)
	}
	loc := le.File
	if le.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", le.File, le.Line, le.Col)
	}
	return fmt.Sprintf("Error: failed to parse policy at %s\n\nCaused by:\n    %s: %s\n", le.File, loc, le.Msg)
}
