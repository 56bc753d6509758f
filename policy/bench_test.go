package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeRules writes n rules over n/10 programs, in the usual shape of a big
// rules file: a program, a subcommand (sometimes with alternatives), a
// decision and now and then a justification.
func writeRules(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	decisions := []string{"allow", "prompt", "forbidden"}
	for i := 0; i < n; i++ {
		prog := fmt.Sprintf("tool%d", i/10)
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "prefix_rule(pattern=[%q, \"sub%d\"], decision=%q)\n", prog, i%10, decisions[i%3])
		case 1:
			fmt.Fprintf(&b, "prefix_rule(pattern=[%q, [\"a%d\", \"b%d\"], \"--flag\"], decision=%q, justification=\"rule %d\")\n", prog, i, i, decisions[i%3], i)
		case 2:
			fmt.Fprintf(&b, "prefix_rule(pattern=[%q, \"sub%d\", \"x\"], match=[\"%s sub%d x y\"])\n", prog, i%10, prog, i%10)
		default:
			fmt.Fprintf(&b, "prefix_rule([%q, \"s%d\"], %q)\n", prog, i, decisions[i%3])
		}
	}
	path := filepath.Join(tb.TempDir(), "big.rules")
	writeFile(tb, path, b.String())
	return path
}

func BenchmarkLoad10000(b *testing.B) {
	path := writeRules(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		p, err := Load(context.Background(), []string{path}, LoadOptions{})
		if err != nil || p.Len() != 10000 {
			b.Fatal(err)
		}
	}
}

func benchmarkCheck(b *testing.B, n int) {
	p := mustLoad(b, writeRules(b, n))
	cmd := []string{"tool3", "sub2", "x", "file.txt"}
	b.ReportAllocs()
	for b.Loop() {
		if p.Check(cmd).Decision == None {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCheck100(b *testing.B)   { benchmarkCheck(b, 100) }
func BenchmarkCheck10000(b *testing.B) { benchmarkCheck(b, 10000) }

func benchmarkEvaluate(b *testing.B, n int) {
	p := mustLoad(b, writeRules(b, n))
	e := Exec{Program: "/usr/local/bin/tool3", Args: []string{"sub2", "x", "file.txt"}, WritableRoots: []string{"/ws", "/tmp"}}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(e)
	}
}

func BenchmarkEvaluate100(b *testing.B)   { benchmarkEvaluate(b, 100) }
func BenchmarkEvaluate10000(b *testing.B) { benchmarkEvaluate(b, 10000) }

func BenchmarkEvaluatePreservePaths10000(b *testing.B) {
	p := mustLoad(b, writeRules(b, 10000))
	e := Exec{Program: "tool3", Args: []string{"sub2", "x"}, PreserveProgramPaths: true}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(e)
	}
}

// BenchmarkLoad10000Full measures the same file through full Starlark
// evaluation (what any file outside the literal-calls subset costs).
func BenchmarkLoad10000Full(b *testing.B) {
	path := writeRules(b, 10000)
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		l := newLoader(LoadOptions{})
		l.noFast = true
		if err := l.addSource(context.Background(), path, src); err != nil || l.count != 10000 {
			b.Fatal(err)
		}
	}
}
