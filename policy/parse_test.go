package policy

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/syntax"
)

// TestPrescan: where prescan sees f-strings and top-level statements.
func TestPrescan(t *testing.T) {
	tests := []struct {
		src      string
		fstrings []string // line:col of each f-string, sorted
		starts   []int32  // lines of statement starts after the first
	}{
		{"x = f\"a\"\ny = fr'b'\n", []string{"1:5", "2:5"}, []int32{2}},
		{"f\"{x}\"\n", []string{"1:1"}, nil},
		{"x = elif\"a\" + if\"a\" + xf\"a\" + rf\"a\" + F\"a\" + fb\"a\" + éf\"a\"\n", nil, nil},
		{"# f\"a\"\nx = \"f\\\"a\\\"\" + 'f\"a\"'\n", nil, []int32{2}},
		{"x = \"\"\"\nf\"a\"\ny = 1\n\"\"\"\nz = 1\n", nil, []int32{5}},
		{"x = (1,\n2)\ny = 1\n", nil, []int32{3}},
		{"x = 1 + \\\n  2\ny = 1 + \\\n3\nz = 1\n", nil, []int32{3, 5}},
		{"if x:\n    y = 1\n\n    # c\nelif y:\n    pass\nelse:\n    pass\nz = 1\n", nil, []int32{9}},
		{"def f():\n    return 1\nelse_ = 1\n", nil, []int32{3}},
		{"x = 1\r\ny = f\"a\"\rz = f'''\r\n'''; w = f\"b\"\n", []string{"2:5", "3:5", "4:10"}, []int32{2, 3}},
		{"x = 'é' + f\"a\"\n", []string{"1:11"}, nil},
	}
	for _, tt := range tests {
		p, err := prescan([]byte(tt.src), 200)
		if err != nil {
			t.Fatalf("prescan(%q) failed", tt.src)
		}
		var fs []string
		for at := range p.fstrings {
			fs = append(fs, fmt.Sprintf("%d:%d", at.line, at.col))
		}
		slices.Sort(fs)
		var starts []int32
		for _, s := range p.starts {
			starts = append(starts, s.line)
		}
		if !slices.Equal(fs, tt.fstrings) || !slices.Equal(starts, tt.starts) {
			t.Errorf("prescan(%q): f-strings %v, starts %v; want %v, %v", tt.src, fs, starts, tt.fstrings, tt.starts)
		}
	}
}

func TestTooDeep(t *testing.T) {
	tests := []struct {
		src  string
		ok   bool
		line int
	}{
		{"x = " + strings.Repeat("(", 5) + "1" + strings.Repeat(")", 5) + strings.Repeat("(", 5) + "1" + strings.Repeat(")", 5), true, 0},
		{"x = " + strings.Repeat("[", 6) + "]]]]]]", false, 1},
		{"\n\nx = " + strings.Repeat("- ", 6) + "1", false, 3},
		{"\r\r\nx = " + strings.Repeat("- ", 6) + "1", false, 3},
		{"# " + strings.Repeat("-", 50), true, 0},
		{"x = \"" + strings.Repeat("(", 50) + "\"", true, 0},
		{"x = '''\n" + strings.Repeat("-", 50) + "\n" + strings.Repeat("(", 50) + "\n'''\ny = 1", true, 0},
		{"x = \"\"\"a\\\"\"\"\" + \"\n" + strings.Repeat("(", 6), false, 2},
	}
	for _, tt := range tests {
		_, err := prescan([]byte(tt.src), 5)
		var line int
		if err != nil {
			line = int(err.pos.line)
		}
		if ok := err == nil; ok != tt.ok || line != tt.line {
			t.Errorf("prescan(%q) = line %d, %v; want line %d, %v", tt.src, line, ok, tt.line, tt.ok)
		}
	}
}

// TestParseInPortions: a file parsed in portions gives the tree a parse in
// one piece gives, for every way of cutting it; a file with an error gives
// the plain parser's error.
func TestParseInPortions(t *testing.T) {
	big, err := os.ReadFile(writeRules(t, 3000))
	if err != nil {
		t.Fatal(err)
	}
	features, err := os.ReadFile(rulesFile("dialect", "features.rules"))
	if err != nil {
		t.Fatal(err)
	}
	fstrings, err := os.ReadFile(rulesFile("dialect", "fstrings.rules"))
	if err != nil {
		t.Fatal(err)
	}
	mixed := strings.Join([]string{
		string(features),
		"if len(tools) > 1:\n    x = 1\n\n# comment\nelse:\n    x = 2\n",
		"y = \"\"\"\nz = 1\n\"\"\"\nw = (1,\n2)\nv = 1 + \\\n3\n",
		string(fstrings),
		"x = 1\r\ny = 2\rz = 3\r\n",
	}, "\n")
	for _, src := range []string{string(big), mixed} {
		p, _ := prescan([]byte(src), 200)
		whole, err := parse("a.rules", p, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := treeString(whole)
		for _, cuts := range [][]stmtStart{p.starts, p.starts[:1], p.starts[len(p.starts)/2 : len(p.starts)/2+1], p.cuts(2), p.cuts(3)} {
			f, err := parse("a.rules", p, cuts)
			if err != nil {
				t.Fatalf("%d cuts: %v", len(cuts), err)
			}
			if got := treeString(f); got != want {
				t.Errorf("%d cuts: the tree differs from the one-piece parse", len(cuts))
			}
		}
	}
	if cuts := (&prepared{text: big}).cuts(2); len(cuts) != 0 {
		t.Errorf("cut without statement starts: %v", cuts)
	}
	p, _ := prescan(big, 200)
	if cuts := p.cuts(2); len(cuts) != 1 || cuts[0].offset < len(big)/3 || cuts[0].offset > len(big)*2/3 {
		t.Errorf("cuts(2) of a %d-byte file: %v", len(big), cuts)
	}

	bad := string(big) + "x = (\n" + string(big)
	p, _ = prescan([]byte(bad), 200)
	_, want := fileOptions.Parse("a.rules", bad, 0)
	_, err = parse("a.rules", p, p.starts)
	if want == nil || err == nil || err.Error() != want.Error() {
		t.Errorf("error in a portion: got %v, want %v", err, want)
	}
}

// treeString renders a syntax tree with every node's type, position and
// name or value, for comparisons.
func treeString(f *syntax.File) string {
	var b strings.Builder
	for _, s := range f.Stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			if n == nil { // the end of a node's children
				return false
			}
			start, end := n.Span()
			fmt.Fprintf(&b, "%T %d:%d-%d:%d", n, start.Line, start.Col, end.Line, end.Col)
			switch n := n.(type) {
			case *syntax.Ident:
				b.WriteString(" " + n.Name)
			case *syntax.Literal:
				fmt.Fprintf(&b, " %q", n.Raw)
			}
			b.WriteByte('\n')
			return true
		})
	}
	return b.String()
}
