package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary plays two more roles, chosen by its first argument:
//
//	launch REQUEST         a server stand-in: NewLauncher + Start + Wait,
//	                       so that an unprivileged uid exercises its own path
//	probe NAME ARGS...     small probes run inside the sandbox
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "launch":
			os.Exit(launchMain(os.Args[2:]))
		case "probe":
			os.Exit(probeMain(os.Args[2:]))
		}
	}
	// The race runtime sleeps a second at exit unless told otherwise;
	// every role above is a short-lived child of this process.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	code := m.Run()
	removeTestNsexec()
	os.Exit(code)
}

// launchRequest is what the launch role runs.
type launchRequest struct {
	Policy       Policy
	Workspace    string
	TmpDir       string
	LandlockABI  int
	NoNamespaces bool   // pretend user namespaces are unavailable
	NsExec       string // the sandbox launcher (the harness sets the compiled one)
	Dir          string // working directory of the command, if not the launcher's
	SignalINT    bool   // send SIGINT to the helper after the command prints a line
	LeakFD       bool   // let the helper inherit a stray fd, as a careless server might
	Spare        bool   // run the command in a spare helper started ahead (Prepare)
	Programs     []string
	Shell        string   // the patched Bash to mount over the system's
	MaxProcs     int      // MaxProcesses; the launcher then reports refused starts and its cgroups
	Env          []string // the call's environment, if not the launch role's own

	Argv []string
}

func launchMain(args []string) int {
	var req launchRequest
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "launch: want one REQUEST argument")
		return 200
	}
	if err := json.Unmarshal([]byte(args[0]), &req); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 200
	}
	l := NewLauncher(nil, NamespaceLauncher(req.NsExec), MaxProcesses(req.MaxProcs))
	if req.NoNamespaces {
		l.caps.Namespaces = false
	}
	spec := Spec{Policy: req.Policy, Workspace: req.Workspace, TmpDir: req.TmpDir, Programs: req.Programs, Shell: req.Shell, landlockABI: req.LandlockABI}
	if req.Spare {
		l.Prepare(spec)
		if err := waitForSpare(l, spec); err != nil {
			fmt.Fprintln(os.Stderr, "launch:", err)
			return 202
		}
		defer l.Close()
	}
	// A process outside the sandbox with the sandbox's uid, for the
	// signal-scoping probe.
	p := Proc{Dir: req.Dir, Env: append(os.Environ(), fmt.Sprintf("EG_OUTER_PID=%d", os.Getpid())),
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if req.Env != nil {
		p.Env = req.Env
	}
	if f := os.NewFile(3, "escalate"); f != nil {
		if _, err := f.Stat(); err == nil {
			p.Extra = f
		}
	}
	if req.LeakFD {
		f, err := os.Open("/dev/null")
		if err != nil {
			fmt.Fprintln(os.Stderr, "launch:", err)
			return 202
		}
		defer f.Close()
		if _, err := unix.FcntlInt(f.Fd(), unix.F_SETFD, 0); err != nil {
			fmt.Fprintln(os.Stderr, "launch:", err)
			return 202
		}
	}
	var out *bufio.Reader
	if req.SignalINT {
		pr, pw, err := os.Pipe()
		if err != nil {
			fmt.Fprintln(os.Stderr, "launch:", err)
			return 202
		}
		p.Stdout, out = pw, bufio.NewReader(pr)
	}
	cmd, err := l.Start(context.Background(), spec, req.Argv, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch error:", err)
		return 201
	}
	if req.Spare && !usedSpare(cmd) {
		// The tests that ask for a spare check what it enforces: a
		// helper started for the call instead would pass them untested.
		cmd.Process.Kill()
		cmd.Wait()
		fmt.Fprintln(os.Stderr, "launch: the prepared spare did not take the call")
		return 203
	}
	if out != nil {
		p.Stdout.Close()
		err = interruptAfterLine(cmd, out)
	} else {
		err = cmd.Wait()
	}
	if req.MaxProcs > 0 {
		fmt.Fprintf(os.Stderr, "launch: bound %q, refused %d\n", l.ProcessBound(), l.ProcessStartsRefused(cmd))
		l.Close()
		fmt.Fprintf(os.Stderr, "launch: cgroups left %d\n", len(leftCgroups(l)))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 202
	}
	return 0
}

// waitForSpare waits until Prepare's spare for spec is idle in the pool.
func waitForSpare(l *Launcher, spec Spec) error {
	h, err := l.helperSpec(spec, []string{"-"})
	if err != nil {
		return err
	}
	for range 500 {
		l.spares.mu.Lock()
		ready := l.spares.idle[kindIndex(h.Namespaces)] != nil
		l.spares.mu.Unlock()
		if ready {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no spare helper after 5s")
}

// interruptAfterLine copies the output of the started cmd and sends the
// helper SIGINT after the first line.
func interruptAfterLine(cmd *exec.Cmd, r *bufio.Reader) error {
	line, _ := r.ReadString('\n')
	os.Stdout.WriteString(line)
	cmd.Process.Signal(syscall.SIGINT)
	io.Copy(os.Stdout, r)
	return cmd.Wait()
}
