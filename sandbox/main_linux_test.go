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

	"golang.org/x/sys/unix"
)

// The test binary plays three more roles, chosen by its first argument:
//
//	sandbox SPEC -- ARGV   the helper itself (what `execgate sandbox` runs)
//	launch REQUEST         a server stand-in: NewLauncher + Command + run,
//	                       so that an unprivileged uid exercises its own path
//	probe NAME ARGS...     small probes run inside the sandbox
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sandbox":
			os.Exit(HelperMain(os.Args[2:]))
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
	os.Exit(m.Run())
}

// launchRequest is what the launch role runs.
type launchRequest struct {
	Policy       Policy
	Workspace    string
	TmpDir       string
	LandlockABI  int
	NoNamespaces bool   // pretend user namespaces are unavailable
	Dir          string // working directory of the command, if not the launcher's
	SignalINT    bool   // send SIGINT to the helper after the command prints a line
	LeakFD       bool   // let the helper inherit a stray fd, as a careless server might
	Argv         []string
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
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 200
	}
	l := NewLauncher(self, nil)
	if req.NoNamespaces {
		l.caps.Namespaces = false
	}
	spec := Spec{Policy: req.Policy, Workspace: req.Workspace, TmpDir: req.TmpDir, landlockABI: req.LandlockABI}
	cmd, err := l.Command(context.Background(), spec, req.Argv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "launch error:", err)
		return 201
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Dir = req.Dir
	// A process outside the sandbox with the sandbox's uid, for the
	// signal-scoping probe.
	cmd.Env = append(os.Environ(), fmt.Sprintf("EG_OUTER_PID=%d", os.Getpid()))
	if f := os.NewFile(3, "escalate"); f != nil {
		if _, err := f.Stat(); err == nil {
			cmd.ExtraFiles = []*os.File{f}
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
	if req.SignalINT {
		err = runAndInterrupt(cmd)
	} else {
		err = cmd.Run()
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

// runAndInterrupt runs cmd, copies its output, and sends the helper SIGINT
// after the first line.
func runAndInterrupt(cmd *exec.Cmd) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		return err
	}
	pw.Close()
	r := bufio.NewReader(pr)
	line, _ := r.ReadString('\n')
	os.Stdout.WriteString(line)
	cmd.Process.Signal(syscall.SIGINT)
	io.Copy(os.Stdout, r)
	return cmd.Wait()
}
