package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// matrixProbe is one line of the matrix: a shell command line run inside
// the sandbox and whether it should succeed in a given configuration.
type matrixProbe struct {
	name string
	cmd  string // bash; $P is the probe binary, $W the workspace
	want func(c matrixConfig) bool
}

type matrixConfig struct {
	mode      Mode
	network   bool
	ns        bool // namespaces in use
	uid       int
	abi       int
	ioUringOK bool // io_uring works on this host outside any sandbox
	spare     bool // the command runs in a spare helper (Launcher.Prepare)
}

func (c matrixConfig) sandboxed() bool { return c.mode != DangerFullAccess }
func (c matrixConfig) writable() bool  { return c.mode != ReadOnly }
func (c matrixConfig) net() bool       { return c.mode == DangerFullAccess || c.network }

// protectedWritable: may .git/.codex be written? Only without a sandbox,
// or under workspace-write when namespaces are unavailable.
func (c matrixConfig) protectedWritable() bool {
	return c.mode == DangerFullAccess || (c.mode == WorkspaceWrite && !c.ns)
}

func always(matrixConfig) bool { return true }
func never(matrixConfig) bool  { return false }

func matrixProbes(tcpAddr string) []matrixProbe {
	host, port, _ := strings.Cut(tcpAddr, ":")
	return []matrixProbe{
		{"write-workspace", `$P write $W/new`, matrixConfig.writable},
		{"write-tmp", `$P write /tmp/execgate-sandbox-probe-$$ && rm -f /tmp/execgate-sandbox-probe-$$`, matrixConfig.writable},
		{"write-home", `$P write $HOME/x`, func(c matrixConfig) bool { return !c.sandboxed() }},
		{"write-etc", `$P write /etc/execgate-sandbox-probe-$$ && rm -f /etc/execgate-sandbox-probe-$$`,
			func(c matrixConfig) bool { return !c.sandboxed() && c.uid == 0 }},
		{"write-devnull", `$P write /dev/null`, always},
		{"rename-across-dirs", `$P rename $W/a/f $W/b/f`, matrixConfig.writable},
		{"read-outside", `$P read /etc/passwd`, always},
		{"git-config", `$P write $W/.git/config`, matrixConfig.protectedWritable},
		{"git-hook", `$P write $W/.git/hooks/x`, matrixConfig.protectedWritable},
		{"create-codex", `mkdir -p $W/.codex 2>/dev/null; $P write $W/.codex/config.toml`, matrixConfig.protectedWritable},
		{"create-agents", `mkdir -p $W/.agents 2>/dev/null; $P write $W/.agents/x`, matrixConfig.protectedWritable},
		// Root in the user namespace holds CAP_SYS_ADMIN there; Landlock
		// still forbids undoing the read-only mounts.
		{"umount-git", `$P umount $W/.git`, never},
		{"remount-git-rw", `$P remount-rw $W/.git`, never},
		{"tcp-connect", `$P tcp ` + tcpAddr, matrixConfig.net},
		{"udp-send", `$P udp ` + tcpAddr, matrixConfig.net},
		{"socket-inet6", `$P inet6`, matrixConfig.net},
		{"bash-dev-tcp", `(exec 3<>/dev/tcp/` + host + `/` + port + `) 2>/dev/null`, matrixConfig.net},
		{"io_uring", `$P io_uring`, func(c matrixConfig) bool { return !c.sandboxed() && c.ioUringOK }},
		{"ptrace", `$P ptrace`, func(c matrixConfig) bool { return !c.sandboxed() }},
		{"socketpair-rights", `$P socketpair`, always},
		{"escalate-round-trip", `$P escalate`, always},
		// In a pid namespace the outer pid names nothing here; without
		// one, only Landlock's signal scoping (ABI 6) stands in the way.
		{"kill-outside", `$P kill $EG_OUTER_PID`, func(c matrixConfig) bool {
			return !c.ns && (!c.sandboxed() || c.abi < 6)
		}},
	}
}

func TestMatrix(t *testing.T) {
	abi := landlockABI()
	if abi < 1 {
		t.Fatalf("this test needs Landlock; kernel ABI %d", abi)
	}
	nsOK := testProbe(t).Namespaces
	ioUringOK := runProbe("io_uring", nil) == nil
	for _, uid := range []int{0, nobody} {
		for _, c := range []matrixConfig{
			{mode: ReadOnly, ns: true},
			{mode: WorkspaceWrite, ns: true},
			{mode: WorkspaceWrite, network: true, ns: true},
			{mode: ReadOnly},
			{mode: WorkspaceWrite},
			{mode: WorkspaceWrite, network: true},
			{mode: DangerFullAccess},
		} {
			c.uid, c.abi, c.ioUringOK = uid, abi, ioUringOK
			if c.ns && !nsOK {
				continue
			}
			// A spare helper must confine exactly like one started
			// for the call.
			for _, spare := range []bool{false, true} {
				c.spare = spare
				name := fmt.Sprintf("uid%d/%s/net=%v/ns=%v/spare=%v", uid, c.mode, c.network, c.ns, spare)
				t.Run(name, func(t *testing.T) { runMatrix(t, c) })
			}
		}
	}
}

func runMatrix(t *testing.T, c matrixConfig) {
	e := newTestEnv(t, c.uid)
	probes := matrixProbes(tcpListener(t))
	var script strings.Builder
	fmt.Fprintf(&script, "P='%s probe' W='%s'\n", e.bin, e.ws)
	for _, p := range probes {
		fmt.Fprintf(&script, "out=$( { %s; } 2>&1 ); echo \"RESULT %s $? $out\"\n", p.cmd, p.name)
	}
	req := launchRequest{
		Policy:       Policy{Mode: c.mode, NetworkAccess: c.network},
		NoNamespaces: !c.ns,
		Spare:        c.spare,
		Argv:         []string{"/bin/bash", "-c", script.String()},
	}
	out, code := e.launch(t, req)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.SplitN(line, " ", 4); len(f) >= 3 && f[0] == "RESULT" {
			got[f[1]] = strings.Join(f[2:], " ")
		}
	}
	for _, p := range probes {
		res, ok := got[p.name]
		if !ok {
			t.Errorf("%s: no result in output:\n%s", p.name, out)
			continue
		}
		status, _ := strconv.Atoi(strings.Fields(res)[0])
		if want := p.want(c); (status == 0) != want {
			t.Errorf("%s: succeeded=%v, want %v (%s)", p.name, status == 0, want, res)
		}
	}
	// What a denied probe must not have left on the host.
	if !c.protectedWritable() {
		for _, p := range []string{".codex/config.toml", ".agents/x", ".git/hooks/x"} {
			if _, err := os.Lstat(filepath.Join(e.ws, p)); err == nil {
				t.Errorf("%s was created on the host", p)
			}
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("output:\n%s", out)
	}
}
