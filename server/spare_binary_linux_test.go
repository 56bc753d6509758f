package server

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/execgate/execgate/internal/testhelp"
)

// sparesOf lists the spare sandbox helpers whose parent is pid.
func sparesOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte("\x00--spare")) {
			continue
		}
		if stat := testhelp.ProcStat(e.Name()); len(stat) > 1 && stat[1] == strconv.Itoa(pid) && !testhelp.Zombie(stat) {
			out = append(out, n)
		}
	}
	return out
}

// A server keeps a spare sandbox helper ready; it ends with the server,
// whether the client closes stdin or the server is killed outright.
func TestBinarySparesEndWithServer(t *testing.T) {
	for _, how := range []string{"stdin closed", "SIGKILL"} {
		t.Run(how, func(t *testing.T) {
			p := startBinary(t)
			p.send(initialize)
			p.recv()
			var spares []int
			for deadline := time.Now().Add(5 * time.Second); len(spares) == 0; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no spare helper started (stderr: %s)", p.stderr.String())
				}
				spares = sparesOf(p.cmd.Process.Pid)
			}
			if how == "SIGKILL" {
				p.cmd.Process.Kill()
			} else {
				p.stdin.Close()
			}
			p.cmd.Wait()
			for _, pid := range spares {
				for deadline := time.Now().Add(3 * time.Second); !testhelp.Gone(pid); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						syscall.Kill(pid, syscall.SIGKILL)
						t.Fatalf("spare helper %d outlived the server", pid)
					}
				}
			}
		})
	}
}
