// Command sidebyside measures execgate side by side with the server it
// re-implements (codex-exec-mcp-server of @openai/codex-shell-tool-mcp
// 0.97.0), or with plain `bash -c` when the original is not given: trivial
// shell calls in workspace-write, latency back to back and paced, CPU per
// call of the server's process tree, and throughput with several clients,
// each with its own server. Both servers get the same raw JSON-RPC bytes
// over pipes. Rounds alternate the order (A B, B A, ...) so that a
// neighbour's load on a shared machine falls on both. scripts/sidebyside.sh
// fetches the original and runs this; it is a measuring tool, not part of
// execgate.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// target is one server under test.
type target struct {
	name string
	argv []string
	env  []string
	// linuxSandbox is codexLinuxSandboxExe in the sandbox-state update:
	// the original needs it for workspace-write; execgate ignores it.
	linuxSandbox string
	// bashC marks the fallback: no server, `bash -c COMMAND` started by
	// this program per call.
	bashC bool
}

type config struct {
	n, block, warm, clients, rounds int
	pace, duration, window          time.Duration
	command                         string
	dir, only                       string
	extraEnv                        []string
	vs, vsBash                      string
}

// envList is a repeatable NAME=VALUE flag.
type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	execgate := flag.String("execgate", "build/execgate", "execgate binary")
	bash := flag.String("bash", os.Getenv("EXECGATE_BASH"), "patched Bash for execgate")
	orig := flag.String("original", "", "directory with the original's codex-exec-mcp-server, codex-execve-wrapper and bash; empty: compare with plain bash -c")
	origBash := flag.String("original-bash", "", "the original's patched Bash (default: ORIGINAL/bash)")
	codex := flag.String("codex", "", "Codex 0.97 binary, the original's codexLinuxSandboxExe")
	vs := flag.String("vs-execgate", "", "compare with this other execgate build instead of the original (before/after)")
	vsBash := flag.String("vs-bash", "", "patched Bash for the -vs-execgate build, with that build's execgate-nsexec beside it (default: -bash)")
	var extra envList
	flag.Var(&extra, "execgate-env", "NAME=VALUE added to execgate's environment (repeatable)")
	var c config
	flag.IntVar(&c.n, "n", 300, "timed calls per round, server and pace (back to back, paced)")
	flag.IntVar(&c.block, "block", 20, "calls per turn: the servers take turns every this many calls")
	flag.DurationVar(&c.window, "window", time.Second, "throughput turn: the servers' clients take turns this long")
	flag.IntVar(&c.warm, "warm", 20, "untimed calls before each latency run")
	flag.IntVar(&c.clients, "clients", 8, "concurrent clients (one server each) for throughput")
	flag.IntVar(&c.rounds, "rounds", 4, "rounds; each measures both, alternating which goes first")
	flag.DurationVar(&c.pace, "pace", 5*time.Millisecond, "pause between paced calls (an agent reading the result)")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "throughput time per round and server")
	flag.StringVar(&c.command, "command", "true", "the shell command of every call")
	flag.StringVar(&c.only, "only", "", "measure only this server (execgate or original), for profiling")
	flag.StringVar(&c.dir, "dir", "", "scratch directory (homes, workspaces, logs); default a new one under /var/tmp")
	flag.Parse()

	c.extraEnv, c.vs, c.vsBash = extra, *vs, *vsBash
	if err := run(*execgate, *bash, *orig, *origBash, *codex, c); err != nil {
		fmt.Fprintf(os.Stderr, "sidebyside: %v\n", err)
		os.Exit(1)
	}
}

func run(execgate, bash, orig, origBash, codex string, c config) error {
	if bash == "" {
		return fmt.Errorf("no patched Bash for execgate: set -bash or EXECGATE_BASH")
	}
	var err error
	if execgate, err = filepath.Abs(execgate); err != nil {
		return err
	}
	if c.dir == "" {
		// Outside /tmp: workspace-write makes /tmp writable, and execgate
		// refuses configuration the sandbox could write.
		if c.dir, err = os.MkdirTemp("/var/tmp", "sidebyside-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	}
	base := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	mk := func(name string) (home string, err error) {
		home = filepath.Join(c.dir, name, "home")
		return home, os.MkdirAll(home, 0o700)
	}
	eh, err := mk("execgate")
	if err != nil {
		return err
	}
	runDir := filepath.Join(c.dir, "execgate", "run")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	a := target{name: "execgate",
		argv: []string{execgate, "server", "--sandbox", "workspace-write"},
		env:  append(append(base, "HOME="+eh, "CODEX_HOME="+eh, "EXECGATE_BASH="+bash, "XDG_RUNTIME_DIR="+runDir), c.extraEnv...)}
	b := target{name: "bash -c", bashC: true, argv: []string{"/bin/bash", "-c"}, env: base}
	if orig != "" {
		oh, err := mk("original")
		if err != nil {
			return err
		}
		if origBash == "" {
			origBash = filepath.Join(orig, "bash")
		}
		if codex == "" {
			return fmt.Errorf("the original needs -codex (Codex 0.97, its codex-linux-sandbox) for workspace-write")
		}
		b = target{name: "original",
			argv:         []string{filepath.Join(orig, "codex-exec-mcp-server"), "--execve", filepath.Join(orig, "codex-execve-wrapper"), "--bash", origBash},
			env:          append(base, "HOME="+oh, "CODEX_HOME="+oh),
			linuxSandbox: codex}
	}
	if err := hasHelper(execgate); err != nil {
		return err
	}
	if c.vs != "" {
		vs, err := filepath.Abs(c.vs)
		if err != nil {
			return err
		}
		if err := hasHelper(vs); err != nil {
			return err
		}
		b = a
		b.name, b.argv = "base", append([]string{vs}, a.argv[1:]...)
		b.env = slices.DeleteFunc(slices.Clone(a.env), func(kv string) bool { return slices.Contains(c.extraEnv, kv) })
		b.env = append(slices.DeleteFunc(b.env, func(kv string) bool { return strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") }), "XDG_RUNTIME_DIR="+runDir+"-base")
		if c.vsBash != "" {
			// The launcher is found next to the Bash: a build with
			// another launcher protocol needs its own.
			b.env = append(slices.DeleteFunc(b.env, func(kv string) bool { return strings.HasPrefix(kv, "EXECGATE_BASH=") }), "EXECGATE_BASH="+c.vsBash)
		}
		if err := os.MkdirAll(runDir+"-base", 0o700); err != nil {
			return err
		}
	}
	fmt.Printf("sidebyside: %s against %s; command %q, login false, workspace-write; %d cores; %d rounds\n",
		a.name, b.name, c.command, numCPU(), c.rounds)
	fmt.Printf("per round and server: %d calls back to back, %d calls paced by %v, in turns of %d calls; %d clients (one server each) for %v, in turns of %v\n",
		c.n, c.n, c.pace, c.block, c.clients, c.duration, c.window)

	var results [2][]roundResult
	targets := []target{a, b}
	if c.only != "" {
		targets = slices.DeleteFunc(targets, func(t target) bool { return t.name != c.only })
	}
	for r := range c.rounds {
		fmt.Printf("round %d, load %s ... ", r+1, loadavg())
		res, err := round(targets, c, r)
		if err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
		for i, t := range targets {
			fmt.Printf("\n  %-9s %s", t.name, res[i].brief(c.clients))
			results[i] = append(results[i], res[i])
		}
		fmt.Println()
	}
	if len(targets) == 2 {
		summarize(a.name, b.name, results[0], results[1])
	}
	fmt.Printf("load average at the end: %s\n", loadavg())
	return nil
}

// round measures the targets in turns: blocks of calls (latency) and
// windows of load (throughput) alternate between them, the first one
// alternating too, so that a neighbour's load falls on all of them.
func round(targets []target, c config, r int) ([]roundResult, error) {
	res := make([]roundResult, len(targets))
	turn := func(k int) []int {
		if (k+r)%2 == 1 && len(targets) == 2 {
			return []int{1, 0}
		}
		return []int{0, 1}[:len(targets)]
	}
	ws := make([]string, len(targets))
	for i, t := range targets {
		ws[i] = filepath.Join(os.TempDir(), fmt.Sprintf("sidebyside-ws-%s-%d-%d", strings.ReplaceAll(t.name, " ", ""), os.Getpid(), r))
		if err := mkdirs(ws[i]); err != nil {
			return nil, err
		}
		defer os.RemoveAll(ws[i])
	}
	groups := make([]group, len(targets))
	closeGroups := func() {
		for i, g := range groups {
			if g != nil {
				g.close()
				groups[i] = nil
			}
		}
	}
	defer closeGroups()

	for i, t := range targets {
		g, err := open(t, c, ws[i], 1, c.warm)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		groups[i] = g
	}
	blocks := max(c.n/c.block, 1)
	for _, phase := range []struct {
		pace time.Duration
		into func(*roundResult) *latency
	}{
		{0, func(r *roundResult) *latency { return &r.backToBack }},
		{c.pace, func(r *roundResult) *latency { return &r.paced }},
	} {
		for k := range blocks {
			for _, i := range turn(k) {
				if err := block(groups[i], c.block, phase.pace, phase.into(&res[i])); err != nil {
					return nil, fmt.Errorf("%s: %w", targets[i].name, err)
				}
			}
		}
	}
	closeGroups()

	for i, t := range targets {
		g, err := open(t, c, ws[i], c.clients, 3)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		groups[i] = g
	}
	windows := max(int(c.duration/c.window), 1)
	for k := range windows {
		for _, i := range turn(k) {
			if err := window(groups[i], c.window, &res[i].load); err != nil {
				return nil, fmt.Errorf("%s: %w", targets[i].name, err)
			}
		}
	}
	return res, nil
}

func shellArgs(command, ws string) string {
	b, _ := json.Marshal(map[string]any{"command": command, "workdir": ws, "login": false})
	return string(b)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// hasHelper checks that the execgate binary bin has the sandbox helper of
// its build beside it. Without, the server plays the helper itself, a
// much larger program to start for every call (about 30% more CPU per
// call on the test VM): a comparison of two builds would then measure
// that, not the change.
func hasHelper(bin string) error {
	helper := filepath.Join(filepath.Dir(bin), "execgate-sandbox")
	if _, err := os.Stat(helper); err != nil {
		return fmt.Errorf("%s has no execgate-sandbox beside it (%w): compare builds as `make build` leaves them, both binaries in one directory", bin, err)
	}
	return nil
}
