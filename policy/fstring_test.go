package policy

import (
	"context"
	"strings"
	"testing"
)

// fstringPrelude defines the names the f-string cases use; the expression
// under test becomes the justification of a rule on line 6.
const fstringPrelude = "name = \"git\"\nx = 5\nl = [1, 2]\nd = {\"k\": \"v\"}\ns = \"a b\"\n"

// loadJustification loads prelude + a rule whose justification is expr and
// returns the justification, or the error without the file name.
func loadJustification(t *testing.T, src string) string {
	t.Helper()
	l := newLoader(LoadOptions{})
	if err := l.addSource(context.Background(), "f.rules", []byte(src)); err != nil {
		return strings.TrimPrefix(err.Error(), "f.rules:")
	}
	rules := l.policy().Rules("git")
	if len(rules) != 1 {
		t.Fatalf("%q: %d rules for git", src, len(rules))
	}
	return rules[0].Justification
}

// TestFStrings: what Codex 0.97.0 accepts inside f-strings, and the errors
// it gives for the rest. Every case was run through the codex 0.97.0 binary
// (codex execpolicy check); the results and positions here are its, except
// where a comment says otherwise.
func TestFStrings(t *testing.T) {
	tests := []struct{ expr, want string }{
		// A name, spaces around it allowed; !s and !r.
		{`f"{name}"`, "git"},
		{`f"{  name  }"`, "git"},
		{`f"{name }x{ x}"`, "gitx5"},
		{`f"{x!r}"`, "5"},
		{`f"{name!r}"`, `"git"`},
		{`f"{name!s}"`, "git"},
		{`f"{x !r}"`, "5"},
		{`f"{d}"`, `{"k": "v"}`},
		{`f"{l}"`, "[1, 2]"},
		{`f"{s}"`, "a b"},
		{`f"{True}"`, "True"},
		{`f"{None}"`, "None"},
		{`f"{name}{x}"`, "git5"},
		// Doubled braces are literal ones.
		{`f"{{}}"`, "{}"},
		{`f"{{name}}"`, "{name}"},
		{`f"a{{b"`, "a{b"},
		{`f"a}}b"`, "a}b"},
		{`f"{name}}}"`, "git}"},
		{`f"{{{name}}}"`, "{git}"},
		{`f"{{{name}"`, "{git"},
		{`f"{{x"`, "{x"},
		// Escapes are decoded before the braces are read; raw f-strings
		// keep backslashes.
		{`f"\x7bname}"`, "git"},
		{`f"\x7b\x7b"`, "{"},
		{`f"a\nb{name}"`, "a\nbgit"},
		{`f"\u00e9{x}"`, "é5"},
		{`fr"{name}\n"`, `git\n`},
		// Other quotes; an f-string is an ordinary string value.
		{`f'{name}'`, "git"},
		{`f"""{name}"""`, "git"},
		{`f'''{name}'''`, "git"},
		{`f"plain"`, "plain"},
		{`f"{name}" + f"{x}"`, "git5"},
		{`f"%s{name}" % "a"`, "agit"},
		{`f"{name}".upper()`, "GIT"},
		{`f"{x}" if True else "n"`, "5"},

		// Only a plain identifier goes inside the braces.
		{`f"{x + 1}"`, "6:47: Not a valid identifier: `x + 1`"},
		{`f"{name.upper}"`, "6:47: Not a valid identifier: `name.upper`"},
		{`f"{l[0]}"`, "6:47: Not a valid identifier: `l[0]`"},
		{`f"{len(l)}"`, "6:47: Not a valid identifier: `len(l)`"},
		{`f"{name:>10}"`, "6:47: Not a valid identifier: `name:>10`"},
		{`f"{name:}"`, "6:47: Not a valid identifier: `name:`"},
		{`f"{}"`, "6:47: Not a valid identifier: ``"},
		{`f"{ }"`, "6:47: Not a valid identifier: ` `"},
		{`f"{!r}"`, "6:47: Not a valid identifier: ``"},
		{"f\"{\tname}\"", "6:47: Not a valid identifier: `\tname`"},
		{`f"{0}"`, "6:47: Not a valid identifier: `0`"},
		{`f"{1x}"`, "6:47: Not a valid identifier: `1x`"},
		{`f"{for}"`, "6:47: Not a valid identifier: `for`"},
		{`f"{is}"`, "6:47: Not a valid identifier: `is`"},
		{`f"{é}"`, "6:47: Not a valid identifier: `é`"},
		// Malformed braces: the error is at the f-string.
		{`f"{name!a}"`, "6:44: Invalid format: Invalid conversion in format string `{name!a}`"},
		{`f"{ x ! r }"`, "6:44: Invalid format: Invalid conversion in format string `{ x ! r }`"},
		{`f"{x!"`, "6:44: Invalid format: Invalid conversion in format string `{x!`"},
		{`f"{name!}"`, "6:44: Invalid format: Missing conversion character in format string `{name!}`"},
		{`f"{name!r:>10}"`, "6:44: Invalid format: Unmatched '{' in format string `{name!r:>10}`"},
		{`f"{name!r!s}"`, "6:44: Invalid format: Unmatched '{' in format string `{name!r!s}`"},
		{`f"{x!r"`, "6:44: Invalid format: Unmatched '{' in format string `{x!r`"},
		{`f"{"`, "6:44: Invalid format: Unmatched '{' in format string `{`"},
		{`f"{x}{"`, "6:44: Invalid format: Unmatched '{' in format string `{x}{`"},
		{`f"{name{x}}"`, "6:44: Invalid format: Unmatched '{' in format string `{name{x}}`"},
		{`f"}"`, "6:44: Invalid format: Standalone '}' in format string `}`"},
		{`f"{name}}"`, "6:44: Invalid format: Standalone '}' in format string `{name}}`"},
		// Two errors: the first in the source is reported.
		{`f"{a+b}{"`, "6:47: Not a valid identifier: `a+b`"},
		{`f"{x}}{a+b}"`, "6:44: Invalid format: Standalone '}' in format string `{x}}{a+b}`"},
		// An unknown name is reported where it is written.
		{`f"{ undefined }"`, "6:47: Variable `undefined` not found"},
		{`f"ab{undefined!r}"`, "6:49: Variable `undefined` not found"},
		{`f"é{x}{undefined}"`, "6:51: Variable `undefined` not found"},
		{`f"{match}"`, "6:47: Variable `match` not found"},
		// Codex reports 6:49 here: it counts the decoded "\n\n" as two
		// columns instead of the four the source has.
		{`f"\n\n{undefined}"`, "6:51: Variable `undefined` not found"},
		// Codex: 6:51.
		{`f"\x41\101\u00e9{undefined}"`, "6:61: Variable `undefined` not found"},
		// Not f-strings in Codex's dialect either (the texts of these
		// parse errors differ from Codex's).
		{`rf"{name}"`, "6:54: Parse error: got string literal, want ','"},
		{`F"{name}"`, "6:53: Parse error: got string literal, want ','"},
		{`fb"{name}"`, "6:54: Parse error: got string literal, want ','"},
	}
	for _, tt := range tests {
		src := fstringPrelude + "prefix_rule(pattern=[\"git\"], justification=" + tt.expr + ")\n"
		if got := loadJustification(t, src); got != tt.want {
			t.Errorf("justification=%s\n got: %s\nwant: %s", tt.expr, got, tt.want)
		}
	}
}

// TestFStringFiles: f-strings across lines, in every place a rules file
// uses strings, next to look-alikes that are not f-strings.
func TestFStringFiles(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"triple-quoted, name on a later line",
			"x = 1\nprefix_rule(pattern=[\"git\"], justification=f\"\"\"line1\n  {x} and\n    {undefined}\"\"\")\n",
			"4:6: Variable `undefined` not found"},
		{"triple-quoted, bad capture on a later line",
			"x = 1\nprefix_rule(pattern=[\"git\"], justification=f\"\"\"line1\n  {x} and\n    {a+b}\"\"\")\n",
			"4:6: Not a valid identifier: `a+b`"},
		{"triple-quoted, CRLF line breaks",
			"x = 1\r\nprefix_rule(pattern=[\"git\"], justification=f\"\"\"line1\r\n  {x} and\r\n    {undefined}\"\"\")\r\n",
			"4:6: Variable `undefined` not found"},
		{"escaped line break",
			"x = \"1\"\ny = f\"{x}\\\n{x}\"\nprefix_rule(pattern=[\"git\"], justification=y)\n",
			"11"},
		{"undefined name in a branch never taken",
			"y = f\"{undefined}\" if False else \"a\"\nprefix_rule(pattern=[\"git\"], justification=y)\n",
			"1:8: Variable `undefined` not found"},
		{"a variable named f",
			"f = \"v\"\nprefix_rule(pattern=[\"git\"], justification=f\"{f}\"+f)\n",
			"vv"},
		{"after a keyword ending in f",
			"elif_ = 1\nif True: prefix_rule(pattern=[\"git\"], justification=f'{elif_}')\n",
			"1"},
		{"dict key, augmented assignment",
			"x = \"q\"\nd = {f\"{x}\": 1}\nd[f\"{x}\"] += 1\nprefix_rule(pattern=[\"git\"], justification=str(d))\n",
			`{"q": 2}`},
		{"f-string look-alikes in comments and strings",
			"x = \"q\"\n# f\"{undefined}\"\ny = \"f\\\"{undefined}\\\"\" + 'f\"{u}\"'\nprefix_rule(pattern=[\"git\"], justification=y + f'{x}')\n",
			`f"{undefined}"f"{u}"q`},
		{"example checked after expansion",
			"t = \"git\"\nprefix_rule(pattern=[t], not_match=[f\"{t}\"])\n",
			"2:12: expected example to not match rule `PrefixRule { pattern: PrefixPattern { first: \"git\", rest: [] }, decision: Allow, justification: None }`: git"},
		{"more names than a call takes",
			"x = \"a\"\nprefix_rule(pattern=[\"git\"], justification=f\"" + strings.Repeat("{x}", 300) + "\")\n",
			strings.Repeat("a", 300)},
	}
	for _, tt := range tests {
		if got := loadJustification(t, tt.src); got != tt.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tt.name, got, tt.want)
		}
	}
}

// TestFStringSizeIsChecked: an f-string's result is bounded like
// str.format's, and the error points at the f-string.
func TestFStringSizeIsChecked(t *testing.T) {
	src := "x = \"a\" * 40000\nprefix_rule(pattern=[\"git\"], justification=f\"{x}{x}\")\n"
	if got := loadJustification(t, src); !strings.HasPrefix(got, "2:44: format: ") || !strings.Contains(got, "too large") {
		t.Errorf("got %s, want a size error at 2:44", got)
	}
}

// TestUnexpandedFStringFailsClosed: an f-string the rewriter does not meet
// (which would evaluate to its braces) fails the load.
func TestUnexpandedFStringFailsClosed(t *testing.T) {
	src := []byte("x = 1\n")
	f, err := fileOptions.Parse("a.rules", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := &prepared{text: src, fstrings: map[linecol]fstringSite{{1, 5}: {offset: 4}}}
	if err := rewrite(f, src, p); err == nil || !strings.Contains(err.Error(), "f-string not expanded") {
		t.Errorf("got %v", err)
	}
}
