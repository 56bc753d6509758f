package escalate

import (
	"log/slog"
	"os"
	"testing"

	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// BenchmarkRoundTrip is one intercepted exec answered Run, as a wrapper sees
// it: handshake, request, answer.
func BenchmarkRoundTrip(b *testing.B) {
	ts := startSession(b, fixed(Run, ""), Options{Logger: slog.New(slog.DiscardHandler)})
	req := Request{File: "/usr/bin/git", Argv: []string{"git", "status", "--short"}, Workdir: "/",
		Env: map[string]string{"PATH": "/usr/bin:/bin", "HOME": "/root", "TERM": "xterm"}}
	buf := AppendRequest(nil, &req)
	b.ReportAllocs()
	for b.Loop() {
		// As the in-shell client does: the request goes with the handshake.
		fd, err := DialRequest(ts.child, buf)
		if err != nil {
			b.Fatal(err)
		}
		payload, _, err := frame.Read(fd)
		if err != nil {
			b.Fatal(err)
		}
		if resp, err := ParseResponse(payload); err != nil || resp.Action != Run {
			b.Fatalf("%+v %v", resp, err)
		}
		unix.Close(fd)
	}
}

// BenchmarkEscalateTrue is one escalated /bin/true: the round trip above
// plus SuperExec, fork/exec, wait and the result.
func BenchmarkEscalateTrue(b *testing.B) {
	ts := startSession(b, fixed(Escalate, ""), Options{Logger: slog.New(slog.DiscardHandler)})
	req := AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"})
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	dn := int(devnull.Fd())
	for b.Loop() {
		fd, err := Dial(ts.child)
		if err != nil {
			b.Fatal(err)
		}
		frame.Write(fd, req, nil)
		if p, _, err := frame.Read(fd); err != nil || string(p) != `{"action":"Escalate"}` {
			b.Fatalf("%s %v", p, err)
		}
		frame.Write(fd, []byte(`{"fds":[0,1,2]}`), []int{dn, dn, dn})
		if p, _, err := frame.Read(fd); err != nil || string(p) != `{"exit_code":0}` {
			b.Fatalf("%s %v", p, err)
		}
		unix.Close(fd)
	}
}

// BenchmarkFirstEscalation is a session's first escalated /bin/true,
// session start and end included: what a call that escalates once pays,
// the start of its reaper among it.
func BenchmarkFirstEscalation(b *testing.B) {
	req := AppendRequest(nil, &Request{File: "/bin/true", Argv: []string{"true"}, Workdir: "/"})
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	dn := int(devnull.Fd())
	for b.Loop() {
		ts := startSession(b, fixed(Escalate, ""), Options{Logger: slog.New(slog.DiscardHandler)})
		fd, err := Dial(ts.child)
		if err != nil {
			b.Fatal(err)
		}
		frame.Write(fd, req, nil)
		if p, _, err := frame.Read(fd); err != nil || string(p) != `{"action":"Escalate"}` {
			b.Fatalf("%s %v", p, err)
		}
		frame.Write(fd, []byte(`{"fds":[0,1,2]}`), []int{dn, dn, dn})
		if p, _, err := frame.Read(fd); err != nil || string(p) != `{"exit_code":0}` {
			b.Fatalf("%s %v", p, err)
		}
		unix.Close(fd)
		ts.stop(b)
		ts.s.CloseChild()
	}
}
