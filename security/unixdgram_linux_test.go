package security

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/internal/testbin"
)

// TestUnixDatagramToHostSockets attacks the network-off sandbox with unix
// datagrams: a datagram socket bound outside the sandbox (as /dev/log,
// journald's and sd_notify's sockets are) must receive nothing from a
// sandboxed program, whatever socket it sends from: a new datagram or raw
// socket, one end of a datagram socketpair, or the escalate socket the
// shell inherited (sendmsg with a destination address). The escalate
// protocol and stream socketpairs keep working.
func TestUnixDatagramToHostSockets(t *testing.T) {
	probe := testbin.Must(t, "github.com/execgate/execgate/security/internal/dgramprobe")
	eachUser(t, func(t *testing.T, u user) {
		w := start(t, u, setup{Rules: `prefix_rule(pattern=["cat"], decision="allow")` + "\n"})
		victim := filepath.Join(w.Out, "log.sock")
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrUnix{Name: victim}); err != nil {
			t.Fatal(err)
		}
		// Anyone may send to it, as to /dev/log.
		if err := os.Chmod(victim, 0o666); err != nil {
			t.Fatal(err)
		}

		res := w.shell(t, shq(probe)+" "+shq(victim)+"; cat /dev/null && echo escalate-ok")
		buf := make([]byte, 256)
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				break
			}
			t.Errorf("ATTACK SUCCEEDED as %s: the host socket received %q from the sandbox", u.name, buf[:n])
		}
		// The escalate socket takes the message (a seqpacket socket
		// delivers it to its peer, the server, whatever address it
		// names); the host socket's silence above is what counts.
		if !strings.Contains(res.Output, "escalate-socket:") {
			t.Errorf("%s: the probe did not try the escalate socket:\n%s", u.name, res.Output)
		}
		for _, way := range []string{"socket-dgram", "socket-dgram-cloexec-nonblock", "socket-raw", "socketpair-dgram"} {
			if !strings.Contains(res.Output, way+": refused") {
				t.Errorf("%s: %s was not refused:\n%s", u.name, way, res.Output)
			}
		}
		for _, way := range []string{"socketpair-stream", "socketpair-seqpacket"} {
			if !strings.Contains(res.Output, way+": works") {
				t.Errorf("%s: %s no longer works:\n%s", u.name, way, res.Output)
			}
		}
		escalated := slices.ContainsFunc(res.Decisions, func(d decision) bool {
			return d.Decision == "escalate" && len(d.Argv) > 0 && d.Argv[0] == "cat"
		})
		if !escalated || !strings.Contains(res.Output, "escalate-ok") {
			t.Errorf("%s: the escalate socket stopped working: output %q decisions %+v", u.name, res.Output, res.Decisions)
		}
	})
}
