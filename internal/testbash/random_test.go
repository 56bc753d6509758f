//go:build linux

package testbash

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Fixed seeds keep failures reproducible; the case name carries its index.
const (
	randomCases = 200
	randomSeed1 = 0x65786563 // "exec"
	randomSeed2 = 0x67617465 // "gate"
)

// listGen builds random command lists of /bin/true, /bin/false and
// /bin/echo WORD joined by &&, || and ;, with `!`, if/then/else, { } and ( ).
type listGen struct{ r *rand.Rand }

func (g listGen) list(depth int) string {
	n := 1 + g.r.IntN(4)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{" && ", " || ", "; "}[g.r.IntN(3)])
		}
		b.WriteString(g.elem(depth))
	}
	return b.String()
}

func (g listGen) elem(depth int) string {
	k := g.r.IntN(12)
	if depth >= 2 && k >= 8 {
		k = 0
	}
	switch k {
	case 6, 7:
		return "! " + g.simple()
	case 8, 9:
		return fmt.Sprintf("if %s; then %s; else %s; fi", g.list(depth+1), g.list(depth+1), g.list(depth+1))
	case 10:
		return "{ " + g.list(depth+1) + "; }"
	case 11:
		return "( " + g.list(depth+1) + " )"
	default:
		return g.simple()
	}
}

func (g listGen) simple() string {
	switch g.r.IntN(3) {
	case 0:
		return "/bin/true"
	case 1:
		return "/bin/false"
	default:
		return fmt.Sprintf("/bin/echo w%d", g.r.IntN(100))
	}
}

// TestRandomListsMatchPlainBash runs random &&/||/;/if/! mixes under the
// patched Bash with a logging wrapper and under the system Bash without one.
// Output and exit status must be identical (the wrapper only logs and execs),
// and the wrapper must have seen exactly the commands the system Bash's
// xtrace says it ran, in the same order.
func TestRandomListsMatchPlainBash(t *testing.T) {
	patched, plain := Path(t), Plain(t)
	gen := listGen{rand.New(rand.NewPCG(randomSeed1, randomSeed2))}
	scripts := make([]string, randomCases)
	for i := range scripts {
		scripts[i] = gen.list(0)
	}
	for i, script := range scripts {
		t.Run(fmt.Sprintf("case%03d", i), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			wrapper, logPath := newWrapper(t, dir, "wrap")
			want := runBash(t, plain, dir, baseEnv(dir, "PS4=+ "), "set -x; "+script)
			got := runBash(t, patched, dir, baseEnv(dir, "EXEC_WRAPPER="+wrapper), script)
			if got.stdout != want.stdout || got.code != want.code {
				t.Fatalf("script %q:\npatched: stdout %q exit %d (stderr %q)\nplain:   stdout %q exit %d",
					script, got.stdout, got.code, got.stderr, want.stdout, want.code)
			}
			var ran []string
			for _, l := range strings.Split(want.stderr, "\n") {
				if c, ok := strings.CutPrefix(l, "+ "); ok {
					ran = append(ran, c)
				}
			}
			var seen []string
			for _, l := range logLines(t, logPath) {
				// "COMMAND ARGV0 ARGV..." -> "ARGV0 ARGV...", as xtrace prints it.
				_, argv, _ := strings.Cut(l, " ")
				seen = append(seen, argv)
			}
			if !slices.Equal(seen, ran) {
				t.Errorf("script %q:\nwrapper saw %q\nbash ran    %q", script, seen, ran)
			}
		})
	}
}
