package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const rulesDir = "../testdata/rules"

func rulesFile(parts ...string) string {
	return filepath.Join(append([]string{rulesDir}, parts...)...)
}

func mustLoad(t testing.TB, files ...string) *Policy {
	t.Helper()
	p, err := Load(context.Background(), files, LoadOptions{HomeDir: "/home/u"})
	if err != nil {
		t.Fatalf("Load(%v): %v", files, err)
	}
	return p
}

// TestLoadErrors covers the validation errors of prefix_rule and
// host_executable as Codex words them: each error, its exact text, the order
// of checks and the file:line:col location.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want string // the whole error after the file name
	}{
		{"decision.rules", ":1:12: invalid decision: Allow"},
		{"justification.rules", ":1:12: invalid rule: justification cannot be empty"},
		{"alts_empty.rules", ":1:12: invalid pattern element: pattern alternatives cannot be empty"},
		{"alt_type.rules", ":1:12: invalid pattern element: pattern alternative must be a string (got int)"},
		{"element_type.rules", ":1:12: invalid pattern element: pattern element must be a string or list of strings (got tuple)"},
		{"pattern_empty.rules", ":1:12: invalid pattern element: pattern cannot be empty"},
		{"example_syntax.rules", ":1:12: invalid example: example string has invalid shell syntax"},
		{"example_empty_string.rules", ":1:12: invalid example: example cannot be an empty string"},
		{"example_token_type.rules", ":1:12: invalid example: example tokens must be strings (got int)"},
		{"example_empty_list.rules", ":1:12: invalid example: example cannot be an empty list"},
		{"example_type.rules", ":1:12: invalid example: example must be a string or list of strings (got int)"},
		{"unmatched.rules", `:2:12: expected every example to match at least one rule. rules: ["PrefixRule { pattern: PrefixPattern { first: \"git\", rest: [Single(\"status\"), Alts([\"a\", \"b\"])] }, decision: Allow, justification: None }", "PrefixRule { pattern: PrefixPattern { first: \"hub\", rest: [Single(\"status\"), Alts([\"a\", \"b\"])] }, decision: Allow, justification: None }"]; unmatched examples: ["git 'a b' \"it's\""]`},
		{"not_match.rules", ":1:12: expected example to not match rule `PrefixRule { pattern: PrefixPattern { first: \"git\", rest: [Single(\"status\")] }, decision: Allow, justification: Some(\"x\") }`: git status -s"},
		{"order_decision_first.rules", ":1:12: invalid decision: nope"},
		{"order_justification_second.rules", ":1:12: invalid rule: justification cannot be empty"},
		{"print.rules", ":1:6: Variable `print` not found"},
		{"load.rules", ":1:1: No imports are available, you tried `foo.star`"},
		{"while.rules", ":1:1: cannot use reserved keyword `while`"},
		{"fail.rules", ":1:5: fail: nope"},
		{"unknown_var.rules", ":1:1: Variable `struct` not found"},
		{"unknown_kw.rules", ":1:12: Found `foo` extra named parameter(s) for call to prefix_rule"},
		{"missing_param.rules", ":1:12: Missing parameter `pattern` for call to prefix_rule"},
		{"none_param.rules", ":1:12: Type of parameter `justification` doesn't match, expected `str`, actual `NoneType`"},
		{"pattern_type.rules", ":1:12: Type of parameter `pattern` doesn't match, expected `list`, actual `string`"},
		{"fstring_expression.rules", ":2:52: Not a valid identifier: `x + 1`"},
		{"fstring_format.rules", ":2:44: Invalid format: Unmatched '{' in format string `{x!r:>10}`"},
		{"fstring_undefined.rules", ":3:16: Variable `remote` not found"},
		{"host_name_empty.rules", ":1:16: host_executable name cannot be empty"},
		{"host_name_path.rules", ":1:16: host_executable name must be a bare executable name (got bin/git)"},
		{"host_relative.rules", ":1:16: host_executable paths must be absolute (got bin/git)"},
		{"host_basename.rules", ":1:16: host_executable path `/usr/bin/gitx` must have basename `git`"},
		{"parse.rules", ":2:1: Parse error: got end of file, want ')'"},
		{"later_line.rules", ":4:12: invalid decision: deny"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := rulesFile("errors", tt.file)
			_, err := Load(context.Background(), []string{path}, LoadOptions{})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load: got %v, want a *LoadError", err)
			}
			if got, want := err.Error(), path+tt.want; got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
			if le.File != path {
				t.Errorf("LoadError.File = %q, want %q", le.File, path)
			}
		})
	}
}

// TestOneBadFileFailsTheLoad: whatever its position, a bad file fails the
// whole load and the error names it (Codex too drops every file's rules
// when one fails).
func TestOneBadFileFailsTheLoad(t *testing.T) {
	good, bad := rulesFile("match", "policy.rules"), rulesFile("errors", "decision.rules")
	for _, files := range [][]string{{bad, good}, {good, bad}, {good, good, bad}} {
		p, err := Load(context.Background(), files, LoadOptions{})
		if err == nil || p != nil {
			t.Fatalf("Load(%v) = %v, %v; want an error", files, p, err)
		}
		if !strings.HasPrefix(err.Error(), bad+":") {
			t.Errorf("Load(%v) error %q does not name %s", files, err, bad)
		}
	}
	_, err := Load(context.Background(), []string{good, "/nonexistent/x.rules"}, LoadOptions{})
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "No such file or directory (os error 2)") {
		t.Errorf("missing file: got %v", err)
	}
}

func TestDialect(t *testing.T) {
	tests := []struct {
		files []string
		want  map[string]int // program -> number of rules
		total int
	}{
		{[]string{rulesFile("dialect", "features.rules")}, map[string]int{
			"ls": 1, "cat": 1, "head": 1, "tail": 1, "wc": 1, "rm": 1, "echo": 1, "git": 2, "python3": 1, "n3": 1,
		}, 11},
		{[]string{rulesFile("dialect", "empty.rules"), rulesFile("dialect", "comments.rules")}, nil, 0},
		{[]string{rulesFile("dialect", "positional_all.rules")}, map[string]int{"git": 1}, 1},
		{[]string{rulesFile("dialect", "fstrings.rules")}, map[string]int{"cargo": 2, "git": 1, "hg": 1}, 4},
	}
	for _, tt := range tests {
		p := mustLoad(t, tt.files...)
		if p.Len() != tt.total {
			t.Errorf("%v: Len() = %d, want %d", tt.files, p.Len(), tt.total)
		}
		for prog, n := range tt.want {
			if got := len(p.Rules(prog)); got != n {
				t.Errorf("%v: %d rules for %q, want %d", tt.files, got, prog, n)
			}
		}
	}
	p := mustLoad(t, rulesFile("dialect", "features.rules"))
	rm := p.Rules("rm")[0]
	if rm.Decision != Forbidden || rm.Justification != "no rm" || len(rm.Rest) != 1 || rm.Rest[0][0] != "-rf" {
		t.Errorf("def with *args built %+v", rm)
	}
	if py := p.Rules("python3")[0]; py.Decision != Prompt || py.Justification != "scripts run code" {
		t.Errorf("positional prefix_rule built %+v", py)
	}
	if wc := p.Rules("wc")[0]; wc.Decision != Prompt || wc.Pos.Line != 8 {
		t.Errorf("rule in top-level if: %+v", wc)
	}
}

// TestFilesAreSeparateModules: a global of one file is not visible in the next.
func TestFilesAreSeparateModules(t *testing.T) {
	b := rulesFile("dialect", "isolated_b.rules")
	_, err := Load(context.Background(), []string{rulesFile("dialect", "isolated_a.rules"), b}, LoadOptions{})
	if err == nil || err.Error() != b+":1:21: Variable `shared` not found" {
		t.Fatalf("got %v", err)
	}
}

func TestHostExecutable(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.rules")
	b := filepath.Join(dir, "b.rules")
	writeFile(t, a, `host_executable(name="git", paths=["/usr/bin/git", "~/bin/git", "/usr/bin/git"])
host_executable("rg", ["/opt/rg/rg"])
host_executable(name="jq", paths=[])`)
	writeFile(t, b, `host_executable(name="rg", paths=["/usr/local/bin/rg"])`)
	p := mustLoad(t, a, b)
	tests := []struct {
		name  string
		paths []string
		ok    bool
	}{
		{"git", []string{"/usr/bin/git", "/home/u/bin/git"}, true}, // deduplicated, ~ expanded
		{"rg", []string{"/usr/local/bin/rg"}, true},                // later file replaces
		{"jq", []string{}, true},
		{"ls", nil, false},
	}
	for _, tt := range tests {
		paths, ok := p.HostExecutable(tt.name)
		if ok != tt.ok || strings.Join(paths, ",") != strings.Join(tt.paths, ",") {
			t.Errorf("HostExecutable(%q) = %q, %v; want %q, %v", tt.name, paths, ok, tt.paths, tt.ok)
		}
	}
}

// TestHostileFiles: each fails fast with a clear error (the evaluation
// limits of limits.go).
func TestHostileFiles(t *testing.T) {
	tests := map[string]string{
		"repeat.rules":                       "repeated list too large",
		"bytes_repeat.rules":                 "repeated bytes too large",
		"bytes_doubling.rules":               "bytes too large",
		"recursion.rules":                    "function f called recursively",
		"mutual_recursion.rules":             "called recursively",
		"infinite_for.rules":                 "too many steps",
		"nested_for.rules":                   "too many steps",
		"too_many_steps_comprehension.rules": "too many steps",
		"doubling.rules":                     "list too large",
		"doubling_inplace.rules":             "too large",
		"string_doubling.rules":              "string too large",
		"dag_str.rules":                      "too large",
		"dag_compare.rules":                  "too large",
		"tuple_hash.rules":                   "tuple value too large",
		"replace.rules":                      "replaced string too large",
		"join.rules":                         "too large",
		"list_range.rules":                   "range value too large",
		"sorted_range.rules":                 "range value too large",
		"zip_range.rules":                    "range value too large",
		"all_range.rules":                    "range value too large",
		"extend_range.rules":                 "range value too large",
		"bigint.rules":                       "integer too large",
		"shift.rules":                        "integer too large",
		"format.rules":                       "too large",
		"percent.rules":                      "too large",
		"retained_copies.rules":              "rules file allocates too much",
		"spread.rules":                       "rules file allocates too much",
		"int_parse.rules":                    "string too long to convert",
		"nesting.rules":                      "nesting deeper than 200 levels",
		"unary.rules":                        "nesting deeper than 200 levels",
	}
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.rules")
	writeFile(t, huge, strings.Repeat("prefix_rule(pattern=[\"x\"])\n", 10<<20/27+1))
	files, _ := filepath.Glob(rulesFile("hostile", "*.rules"))
	if len(files) != len(tests) {
		t.Errorf("%d hostile files, %d expectations", len(files), len(tests))
	}
	tests[huge] = "rules file is larger than 1048576 bytes"
	files = append(files, huge)
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := tests[name]
		if f == huge {
			want, ok = tests[huge]
		}
		if !ok {
			t.Errorf("no expectation for %s", f)
			continue
		}
		t.Run(name, func(t *testing.T) {
			// The default limits, except a generous watchdog: the test
			// checks that the specific defence fires, and fast, rather than
			// the watchdog catching a slow one on a loaded machine.
			opts := LoadOptions{Limits: Limits{Timeout: 30 * time.Second}}
			start := time.Now()
			_, err := Load(context.Background(), []string{f}, opts)
			elapsed := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), f+":") {
				t.Errorf("got %v, want an error naming %s and containing %q", err, f, want)
			}
			if elapsed > hostileBudget() {
				t.Errorf("took %v, want under %v", elapsed, hostileBudget())
			}
		})
	}
}

// hostileBudget is how fast a hostile file must fail: under a second, or
// a few under the race detector, which slows the interpreter several times.
func hostileBudget() time.Duration {
	if raceEnabled {
		return 4 * time.Second
	}
	return time.Second
}

// TestWatchdog: the wall-clock limit and the caller's context both stop an
// evaluation that is within its step budget.
func TestWatchdog(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "slow.rules")
	writeFile(t, f, "for i in range(1 << 40):\n    x = i\n")
	limits := Limits{MaxSteps: 1 << 62, Timeout: 50 * time.Millisecond}
	start := time.Now()
	_, err := Load(context.Background(), []string{f}, LoadOptions{Limits: limits})
	if err == nil || !strings.Contains(err.Error(), "evaluation took longer than 50ms") || time.Since(start) > time.Second {
		t.Errorf("timeout: got %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	limits.Timeout = time.Hour
	_, err = Load(ctx, []string{f}, LoadOptions{Limits: limits})
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("context: got %v", err)
	}
}

func TestRuleLimit(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "many.rules")
	writeFile(t, f, "for i in range(100):\n    prefix_rule(pattern=[str(i)])\n")
	_, err := Load(context.Background(), []string{f}, LoadOptions{Limits: Limits{MaxRules: 50}})
	if err == nil || !strings.Contains(err.Error(), "too many rules (limit 50") {
		t.Errorf("got %v", err)
	}
	big := filepath.Join(dir, "big.rules")
	writeFile(t, big, "x = \"a\" * 100000\nprefix_rule(pattern=[x] * 11)\n")
	_, err = Load(context.Background(), []string{big}, LoadOptions{})
	if err == nil || err.Error() != big+":2:12: invalid rule: rule too large (more than 1048576 bytes)" {
		t.Errorf("got %v", err)
	}
}

// TestGuardKeepsSemantics: the rewritten operators behave like Starlark's.
func TestGuardKeepsSemantics(t *testing.T) {
	src := `
a = [1]
b = a
a += [2]                      # in place: b sees it
ok1 = b == [1, 2]
c = a + [3]
ok2 = c == [1, 2, 3] and a == [1, 2]
s = "x" * 3 + "%s-%d" % ("y", 2) + "{}".format("z")
ok3 = s == "xxxy-2z"
d = {"k": 1}
d |= {"j": 2}
ok4 = d["j"] == 2 and "k" in d and ",".join(sorted(d.keys())) == "j,k"
n = 3
n *= 4
n <<= 1
ok5 = n == 24 and [0] * 2 == [0, 0] and (1, 2)[0:1] == (1,)
l = [3, 1, 2]
l[1] += 5
ok6 = l == [3, 6, 2] and getattr("ab", "upper")() == "AB" and "a b".split(" ") == ["a", "b"]
def f(*args, **kw):
    return len(args) + len(kw)
ok7 = f(*[1, 2], **{"x": 1}) == 3 and sorted([3, 1]) == [1, 3] and "aXa".replace("a", "bb") == "bbXbb"
all_ok = ok1 and ok2 and ok3 and ok4 and ok5 and ok6 and ok7
if all_ok:
    prefix_rule(pattern=["ok"])
else:
    fail("semantics differ: %s" % [ok1, ok2, ok3, ok4, ok5, ok6, ok7])
`
	l := newLoader(LoadOptions{})
	if err := l.addSource(context.Background(), "sem.rules", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if len(l.policy().Rules("ok")) != 1 {
		t.Fatal("rule not added")
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGuardAcceptsRealisticFiles: a large rules file written with loops,
// dicts, membership tests and string methods loads well within the limits.
func TestGuardAcceptsRealisticFiles(t *testing.T) {
	src := `
seen = {}
tools = ["tool%d" % i for i in range(2000)]
subs = ["a", "b", "c", "d", "e"]
for t in tools:
    if t in seen:
        fail("duplicate " + t)
    seen[t] = True
    for sub in subs:
        if t.startswith("tool") and sub in subs and 5 in range(1 << 40):
            prefix_rule(pattern=[t, sub], decision="allow", justification="%s %s" % (t, sub.upper()))
`
	l := newLoader(LoadOptions{Limits: Limits{Timeout: time.Minute}}) // limits under test, not speed
	start := time.Now()
	if err := l.addSource(context.Background(), "real.rules", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if l.count != 10000 {
		t.Errorf("%d rules, want 10000", l.count)
	}
	t.Logf("loaded 10,000 rules through full evaluation in %v", time.Since(start))
}

// TestNULBytes: go.starlark.net's scanner takes a NUL byte outside a string
// for the end of the file, which would drop the rules after it. In a
// comment it is ignored, as Codex does; in code it is an error; in a string
// it is a character.
func TestNULBytes(t *testing.T) {
	dir := t.TempDir()
	comment := filepath.Join(dir, "comment.rules")
	writeFile(t, comment, "prefix_rule(pattern=[\"ls\"]) # a\x00b\nprefix_rule(pattern=[\"git\"], decision=\"forbidden\")\n")
	if p := mustLoad(t, comment); len(p.Rules("git")) != 1 {
		t.Errorf("the rule after a NUL in a comment was dropped")
	}
	code := filepath.Join(dir, "code.rules")
	writeFile(t, code, "prefix_rule(pattern=[\"ls\"])\x00\nprefix_rule(pattern=[\"git\"], decision=\"forbidden\")\n")
	_, err := Load(context.Background(), []string{code}, LoadOptions{})
	if err == nil || err.Error() != code+":1:28: Parse error: NUL byte outside a string" {
		t.Errorf("NUL in code: got %v", err)
	}
	str := filepath.Join(dir, "string.rules")
	writeFile(t, str, "prefix_rule(pattern=[\"ls\"], justification=\"a\x00b\")\nprefix_rule(pattern=[\"git\"], decision=\"forbidden\")\n")
	p := mustLoad(t, str)
	if len(p.Rules("git")) != 1 || p.Rules("ls")[0].Justification != "a\x00b" {
		t.Errorf("NUL in a string: %+v", p.Rules("ls")[0])
	}
}

// TestLiteralCalls: the common shape of a rules file (top-level calls with
// literal arguments: escapes, comments, calls over several lines, CRLF and
// lone-CR line breaks, positional and keyword arguments, alternatives)
// loads with the right values and positions.
func TestLiteralCalls(t *testing.T) {
	src := "# header\n" +
		"prefix_rule(pattern=[\"git\", [\"status\", \"log\"]], decision=\"prompt\", justification=\"say \\\"hi\\\"\\t\\\\ it's\") # trailing\n" +
		"prefix_rule(\r\n    pattern = ['rm', '-rf'],   # inside\r\n    decision = 'forbidden',\r\n)\r\n" +
		"prefix_rule([\"ls\"], \"allow\", [\"ls -l\"], [[\"cat\"]], \"line\\nbreak\")\r" +
		"host_executable(name=\"git\", paths=[\"/usr/bin/git\"])\n" +
		"host_executable(\"ls\", [\"~/bin/ls\", \"/bin/ls\"])\n"
	path := filepath.Join(t.TempDir(), "literal.rules")
	writeFile(t, path, src)
	p := mustLoad(t, path)
	tests := []struct {
		program       string
		rest          []Token
		decision      Decision
		justification string
		line, col     int
	}{
		{"git", []Token{{"status", "log"}}, Prompt, "say \"hi\"\t\\ it's", 2, 12},
		{"rm", []Token{{"-rf"}}, Forbidden, "", 3, 12},
		{"ls", nil, Allow, "line\nbreak", 7, 12},
	}
	for _, tt := range tests {
		rules := p.Rules(tt.program)
		if len(rules) != 1 {
			t.Fatalf("%d rules for %s", len(rules), tt.program)
		}
		r := rules[0]
		if fmt.Sprint(r.Rest) != fmt.Sprint(tt.rest) || r.Decision != tt.decision || r.Justification != tt.justification ||
			r.Pos != (Pos{File: path, Line: tt.line, Col: tt.col}) {
			t.Errorf("%s: got %+v", tt.program, r)
		}
	}
	for name, want := range map[string]string{"git": "/usr/bin/git", "ls": "/home/u/bin/ls,/bin/ls"} {
		if paths, _ := p.HostExecutable(name); strings.Join(paths, ",") != want {
			t.Errorf("host_executable %s: %q, want %s", name, paths, want)
		}
	}
}
