package wrapper_test

import (
	"strconv"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
)

// Whole-process benchmarks: what one intercepted program start costs. Compare
// BenchmarkDirectExec (fork+exec of /bin/true) with BenchmarkWrapperRun (the
// same through the wrapper answering Run) and BenchmarkWrapperEscalate.

func benchProcess(b *testing.B, s *server, wrapped bool) {
	p := proc{argv: []string{"/bin/true", "true"}}
	b.ReportAllocs()
	for b.Loop() {
		cmd := p.command(s, wrapped)
		cmd.Stdin = nil
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDirectExec(b *testing.B) {
	benchProcess(b, nil, false)
}

func BenchmarkWrapperRun(b *testing.B) {
	s := newServer(b, runAlways)
	benchProcess(b, s, true)
}

func BenchmarkWrapperEscalate(b *testing.B) {
	s := newServer(b, escalateAlways)
	benchProcess(b, s, true)
}

// Bash loops: per-exec cost of `/bin/true` run by plain Bash, and by the
// patched Bash through the wrapper answering Run or Escalate. ns/op is per
// exec (the loop runs execsPerOp of them).
const execsPerOp = 100

func benchBashLoop(b *testing.B, bash string, s *server) {
	script := "for ((i=0;i<" + strconv.Itoa(execsPerOp) + ";i++)); do /bin/true; done"
	dir := b.TempDir()
	for b.Loop() {
		got := bashRun(b, bash, s, dir, script, "")
		if got.status.ExitStatus() != 0 || got.stderr != "" {
			b.Fatalf("loop: %s", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*execsPerOp), "ns/exec")
}

func BenchmarkBashPlain(b *testing.B) {
	benchBashLoop(b, testbash.Plain(b), nil)
}

func BenchmarkBashPatchedNoWrapper(b *testing.B) {
	benchBashLoop(b, testbash.Path(b), nil)
}

func BenchmarkBashWrapperRun(b *testing.B) {
	benchBashLoop(b, testbash.Path(b), newServer(b, runAlways))
}

func BenchmarkBashWrapperEscalate(b *testing.B) {
	benchBashLoop(b, testbash.Path(b), newServer(b, escalateAlways))
}

// BenchmarkWrapperRunMissing: Go start-up plus the protocol, without the
// second image (the Run answer's execve fails with ENOENT).
func BenchmarkWrapperRunMissing(b *testing.B) {
	s := newServer(b, runAlways)
	p := proc{argv: []string{"/nonexistent", "x"}}
	for b.Loop() {
		cmd := p.command(s, true)
		cmd.Stdin = nil
		if err := cmd.Run(); err == nil {
			b.Fatal("want exit 127")
		}
	}
}

// BenchmarkWrapperNoSocket: Go start-up alone (the wrapper fails closed at
// once).
func BenchmarkWrapperNoSocket(b *testing.B) {
	p := proc{argv: []string{"/bin/true", "true"}, noSock: true}
	for b.Loop() {
		cmd := p.command(nil, true)
		cmd.Stdin = nil
		if err := cmd.Run(); err == nil {
			b.Fatal("want exit 126")
		}
	}
}
