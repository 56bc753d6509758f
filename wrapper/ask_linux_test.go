package wrapper

import (
	"os"
	"strings"
	"testing"

	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/frame"
	"golang.org/x/sys/unix"
)

// BenchmarkAskRoundTrip: one request/response on a private stream, the part
// of the Run path between the handshake and execve, with a realistic
// environment (this process's).
func BenchmarkAskRoundTrip(b *testing.B) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(pair[0])
	go func() {
		defer unix.Close(pair[1])
		run := []byte(`{"action":"Run"}`)
		for {
			if _, _, err := frame.Read(pair[1]); err != nil {
				return
			}
			if frame.Write(pair[1], run, nil) != nil {
				return
			}
		}
	}()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	req := escalate.Request{File: "/usr/bin/git", Argv: []string{"git", "status", "--short"}, Workdir: "/home/user/project", Env: env}
	b.ReportAllocs()
	for b.Loop() {
		if err := frame.Write(pair[0], requestPayload(&req), nil); err != nil {
			b.Fatal(err)
		}
		resp, err := receive(pair[0])
		if err != nil || resp.Action != escalate.Run {
			b.Fatal(resp, err)
		}
	}
}
