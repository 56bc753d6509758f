package repotrust

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestParseConfigAgreesWithGit parses config files written every way git
// accepts and compares the variables with `git config --list`.
func TestParseConfigAgreesWithGit(t *testing.T) {
	requireGit(t)
	dir := tempDir(t)
	inputs := []string{
		"[core]\n\thooksPath = /x/hooks\n",
		"[Core]\n\tHooksPath=/x\n\tfsmonitor\n",
		"[include]\n\tpath = ~/extra.inc ; a comment\n\tpath = \"with ; semicolon\" # another\n",
		"[includeIf \"gitdir:~/src/\"]\n\tpath = a.inc\n",
		"[includeIf \"onbranch:ma\\\"in\"]\n path = q.inc\n",
		"[section.Sub]\nkey = v\n",
		"[a \"B c\"]\n  key = one \\\n  two\n",
		"[a]\nkey = \"  spaced  \"  tail  \n",
		"[a]\nkey = esc\\t\\n\\\\\\\"x\n",
		"# c\n; c\n[a] key = same-line\n",
		"\xef\xbb\xbf[bom]\nk = v\r\nk2 = w\r\n",
		"[a]\nkey =\n",
		"[a]\nk = x # y\n[b]\nk = \"a#b\"\n",
		"[core]\n\tfsmonitor = \"/usr/bin/watch --flag\"\n",
	}
	for i, in := range inputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("c%d", i))
			writeFile(t, path, in)
			got, err := readConfig(path)
			if err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			out, err := tryGit(dir, dir, nil, "config", "--file", path, "--list", "--null")
			if err != nil {
				t.Fatalf("git rejects %q: %s", in, out)
			}
			var want []configEntry
			for _, rec := range strings.Split(strings.TrimSuffix(out, "\x00"), "\x00") {
				k, v, _ := strings.Cut(rec, "\n")
				// git prints the name as written; keys compare lower-cased
				// apart from the subsection.
				want = append(want, configEntry{key: lowerKey(k), value: v})
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q:\n got %q\nwant %q", in, got, want)
			}
		})
	}
}

// lowerKey lower-cases the section and name of a key as git prints it.
func lowerKey(k string) string {
	first := strings.IndexByte(k, '.')
	last := strings.LastIndexByte(k, '.')
	if first < 0 {
		return strings.ToLower(k)
	}
	return strings.ToLower(k[:first]) + k[first:last] + strings.ToLower(k[last:])
}

func TestParseConfigRejects(t *testing.T) {
	for _, in := range []string{
		"key = v\n",         // outside a section
		"[a\nk = v\n",       // unterminated header
		"[a \"b]\nk = v\n",  // unterminated subsection
		"[a]\nk = \"open\n", // unterminated quote
		"[a]\nk = bad\\q\n", // bad escape
		"[a]\n1k = v\n",     // bad variable name
		"[a!]\nk = v\n",     // bad section name
		"[a \"b\" ]\nk=v\n", // junk after the subsection
		"[a]\nk v\n",        // no '='
		"[a]\nk = end\\",    // backslash at end of file
		"[]\nk = v\n",       // empty section
		"[a]\n@ = v\n",      // bad character
	} {
		if e, _, err := parseConfig([]byte(in)); err == nil {
			t.Errorf("%q: accepted as %q", in, e)
		}
	}
}
