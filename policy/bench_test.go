package policy

import (
	"context"
	"fmt"
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

// BenchmarkLoad10000 loads a 10,000-rule file through the one Starlark
// evaluator (target: under 100 ms).
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

// BenchmarkLoadSmallFiles loads 20 files of 5 rules each, as the rules of a
// project with several rules directories are loaded for a call; ns/file is
// the cost of one small file.
func BenchmarkLoadSmallFiles(b *testing.B) {
	const files = 20
	dir := b.TempDir()
	var paths []string
	for i := range files {
		var src strings.Builder
		for j := range 5 {
			fmt.Fprintf(&src, "prefix_rule(pattern=[\"tool%d\", \"sub%d\"], decision=\"prompt\", justification=\"rule %d\")\n", i, j, j)
		}
		path := filepath.Join(dir, fmt.Sprintf("f%02d.rules", i))
		writeFile(b, path, src.String())
		paths = append(paths, path)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p, err := Load(context.Background(), paths, LoadOptions{}); err != nil || p.Len() != 5*files {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/files, "ns/file")
}

// BenchmarkDangerousPrefix is what the decider adds per dangerous exec (a
// configure's rm -f) and per allow-rule escalation (a git push).
func BenchmarkDangerousPrefix(b *testing.B) {
	for _, argv := range [][]string{
		{"rm", "-f", "conftest.c", "conftest.o", "conftest.err"},
		{"git", "push", "origin", "main"},
	} {
		b.Run(argv[0], func(b *testing.B) {
			for b.Loop() {
				DangerousPrefix(argv)
			}
		})
	}
}
