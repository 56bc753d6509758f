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
	n, warm, clients, rounds int
	pace, duration           time.Duration
	command                  string
	dir, only                string
	extraEnv                 []string
	vs                       string
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
	var extra envList
	flag.Var(&extra, "execgate-env", "NAME=VALUE added to execgate's environment (repeatable)")
	var c config
	flag.IntVar(&c.n, "n", 300, "timed calls per latency run")
	flag.IntVar(&c.warm, "warm", 20, "untimed calls before each latency run")
	flag.IntVar(&c.clients, "clients", 8, "concurrent clients (one server each) for throughput")
	flag.IntVar(&c.rounds, "rounds", 4, "rounds; each measures both, alternating which goes first")
	flag.DurationVar(&c.pace, "pace", 5*time.Millisecond, "pause between paced calls (an agent reading the result)")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of each throughput run")
	flag.StringVar(&c.command, "command", "true", "the shell command of every call")
	flag.StringVar(&c.only, "only", "", "measure only this server (execgate or original), for profiling")
	flag.StringVar(&c.dir, "dir", "", "scratch directory (homes, workspaces, logs); default a new one under /var/tmp")
	flag.Parse()

	c.extraEnv, c.vs = extra, *vs
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
	if c.vs != "" {
		vs, err := filepath.Abs(c.vs)
		if err != nil {
			return err
		}
		b = a
		b.name, b.argv = "base", append([]string{vs}, a.argv[1:]...)
		b.env = slices.DeleteFunc(slices.Clone(a.env), func(kv string) bool { return slices.Contains(c.extraEnv, kv) })
		b.env = append(slices.DeleteFunc(b.env, func(kv string) bool { return strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") }), "XDG_RUNTIME_DIR="+runDir+"-base")
		if err := os.MkdirAll(runDir+"-base", 0o700); err != nil {
			return err
		}
	}
	fmt.Printf("sidebyside: %s against %s; command %q, login false, workspace-write; %d cores; %d rounds\n",
		a.name, b.name, c.command, numCPU(), c.rounds)
	fmt.Printf("per round and server: %d calls back to back, %d calls paced by %v, %d clients for %v\n",
		c.n, c.n, c.pace, c.clients, c.duration)

	var results [2][]roundResult
	for r := range c.rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			t := []target{a, b}[i]
			if c.only != "" && c.only != t.name {
				continue
			}
			fmt.Printf("round %d %-9s load %s ... ", r+1, t.name, loadavg())
			res, err := measure(t, c, r)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", t.name, r+1, err)
			}
			fmt.Println(res.brief(c.clients))
			results[i] = append(results[i], res)
		}
	}
	if c.only == "" {
		summarize(a.name, b.name, results[0], results[1])
	}
	fmt.Printf("load average at the end: %s\n", loadavg())
	return nil
}

// measure runs one round for t.
func measure(t target, c config, round int) (roundResult, error) {
	if t.bashC {
		return measureBashC(t, c)
	}
	ws := filepath.Join(os.TempDir(), fmt.Sprintf("sidebyside-ws-%s-%d-%d", strings.ReplaceAll(t.name, " ", ""), os.Getpid(), round))
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return roundResult{}, err
	}
	defer os.RemoveAll(ws)
	args := shellArgs(c.command, ws)
	logFile := filepath.Join(c.dir, t.name+".log")

	var res roundResult
	cl, err := dial(t, ws, logFile)
	if err != nil {
		return res, err
	}
	res.backToBack, err = measureLatency(cl, args, c.n, c.warm, 0)
	if err == nil {
		res.paced, err = measureLatency(cl, args, c.n, c.warm/2, c.pace)
	}
	cl.close()
	if err != nil {
		return res, err
	}

	cs := make([]*client, c.clients)
	defer func() { closeAll(cs) }()
	for i := range cs {
		if cs[i], err = dial(t, ws, logFile); err != nil {
			return res, err
		}
		for range 3 {
			if err := cs[i].shell(args); err != nil {
				return res, err
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	res.load, err = measureThroughput(cs, args, c.duration)
	return res, err
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
