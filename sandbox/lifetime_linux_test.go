package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// processesWith lists the pids whose command line contains marker.
func processesWith(marker string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(marker)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestBackgroundJobsEndWithCall: `sleep 1000 &`, also after setsid, is gone
// once the call has returned.
func TestBackgroundJobsEndWithCall(t *testing.T) {
	nsOK := testProbe(t).Namespaces
	for _, uid := range []int{0, nobody} {
		for _, tc := range []struct {
			mode  Mode
			ns    bool
			spare bool
		}{
			{WorkspaceWrite, true, false}, {WorkspaceWrite, false, false}, {DangerFullAccess, false, false},
			{WorkspaceWrite, true, true}, {WorkspaceWrite, false, true}, {DangerFullAccess, false, true},
		} {
			if tc.ns && !nsOK {
				continue
			}
			t.Run(fmt.Sprintf("uid%d/%s/ns=%v/spare=%v", uid, tc.mode, tc.ns, tc.spare), func(t *testing.T) {
				e := newTestEnv(t, uid)
				marker := fmt.Sprintf("egmark%d", time.Now().UnixNano())
				// The jobs' names are built at run time so that no
				// command line holding the script matches them.
				script := fmt.Sprintf(`m=%s; m=${m}job
bash -c "exec -a $m-plain sleep 1000" &
setsid bash -c "exec -a $m-setsid sleep 1000" &
bash -c "(exec -a $m-orphan sleep 1000 &)"
for i in $(seq 200); do [ "$(pgrep -fc $m)" = 3 ] && break; sleep 0.02; done
echo started $(pgrep -fc $m)`, marker)
				marker += "job"
				out, code := e.launch(t, launchRequest{
					Policy:       Policy{Mode: tc.mode},
					NoNamespaces: !tc.ns,
					Spare:        tc.spare,
					Argv:         []string{"/bin/bash", "-c", script},
				})
				if code != 0 || !strings.Contains(out, "started 3") {
					t.Fatalf("exit %d, want the three jobs started:\n%s", code, out)
				}
				if left := processesWith(marker); len(left) > 0 {
					t.Errorf("processes left after the call: %v", left)
				}
			})
		}
	}
}

// TestCancelEndsCall: cancelling the context ends the helper and every
// process it started, promptly, whether the helper was started for the
// call or was a spare.
func TestCancelEndsCall(t *testing.T) {
	l := NewLauncher(nil, NamespaceLauncher(testNsexec(t)))
	for _, ns := range []bool{true, false} {
		for _, spare := range []bool{false, true} {
			if ns && !l.caps.Namespaces {
				continue
			}
			t.Run(fmt.Sprintf("ns=%v/spare=%v", ns, spare), func(t *testing.T) {
				l := &Launcher{caps: l.caps, nsexec: l.nsexec}
				l.caps.Namespaces = ns
				defer l.Close()
				spec := Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: t.TempDir()}
				if spare {
					l.Prepare(spec)
					if err := waitForSpare(l, spec); err != nil {
						t.Fatal(err)
					}
				}
				marker := fmt.Sprintf("egcancel%d", time.Now().UnixNano())
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer pr.Close()
				cmd, err := l.Start(ctx, spec,
					[]string{"/bin/bash", "-c", fmt.Sprintf(`m=%s; setsid bash -c "exec -a ${m}job sleep 1000" & wait`, marker)},
					Proc{Stdout: pw})
				pw.Close()
				if err != nil {
					t.Fatal(err)
				}
				if usedSpare(cmd) != spare {
					t.Fatalf("ran in a spare: %v, want %v", usedSpare(cmd), spare)
				}
				marker += "job"
				deadline := time.Now().Add(10 * time.Second)
				for len(processesWith(marker)) == 0 {
					if time.Now().After(deadline) {
						t.Fatalf("the background job did not start")
					}
					time.Sleep(10 * time.Millisecond)
				}
				start := time.Now()
				cancel()
				err = cmd.Wait()
				if took := time.Since(start); took > time.Second {
					t.Errorf("cancel took %v", took)
				}
				if err == nil {
					t.Errorf("Wait after cancel: nil error, want the helper's SIGTERM status")
				}
				if left := processesWith(marker); len(left) > 0 {
					t.Errorf("processes left after cancel: %v", left)
				}
			})
		}
	}
}
