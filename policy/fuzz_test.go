package policy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzLoad: any source either loads or fails with a LoadError, quickly,
// without panicking; loaded rules are well-formed. Parsing it cut at every
// top-level statement gives the one-piece parse's tree, or fails as it does.
// Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add(`prefix_rule(pattern=["git", ["status", "log"]], decision="prompt", match=["git status"], not_match=["git push"], justification="x")`)
	f.Add("x = [0] * 3\nfor i in x:\n    prefix_rule([str(i)])\n")
	f.Add(`host_executable(name="git", paths=["/usr/bin/git"])`)
	limits := Limits{MaxSteps: 100_000, Timeout: 2 * time.Second, MaxValueSize: 1 << 14, MaxAllocated: 1 << 18}
	f.Fuzz(func(t *testing.T, src string) {
		if p, err := prescan([]byte(src), defaultLimits.MaxNesting); err == nil {
			whole, err := parse("fuzz.rules", p, nil)
			cut, cutErr := parse("fuzz.rules", p, p.starts)
			if (err == nil) != (cutErr == nil) || err == nil && treeString(whole) != treeString(cut) {
				t.Fatalf("parsed in %d portions: %v; in one piece: %v", len(p.starts)+1, cutErr, err)
			}
		}
		l := newLoader(LoadOptions{Limits: limits, HomeDir: "/home/u"})
		start := time.Now()
		err := l.addSource(context.Background(), "fuzz.rules", []byte(src))
		budget := 3 * time.Second // the watchdog fires at 2s
		if raceEnabled {
			budget = 15 * time.Second
		}
		if d := time.Since(start); d > budget {
			t.Fatalf("took %v", d)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.rules") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		p := l.policy()
		for prog, rules := range p.rules {
			for _, r := range rules {
				if r.Program != prog || r.Decision < Allow || r.Decision > Forbidden {
					t.Fatalf("malformed rule %+v under %q", r, prog)
				}
				for _, tok := range r.Rest {
					if len(tok) == 0 {
						t.Fatalf("empty alternatives in %+v", r)
					}
				}
			}
		}
	})
}

// FuzzExampleTokenizer: splitting never panics, and quoting the words back
// gives a line that splits to the same words.
func FuzzExampleTokenizer(f *testing.F) {
	for _, s := range []string{`git commit -m 'fix bug'`, `echo "a b" c\ d`, `"it's" '$x'`, "a\\\nb # c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitExample(s)
		if err != nil {
			return
		}
		if strings.ContainsRune(s, 0) {
			return
		}
		line := joinExample(words)
		again, err := splitExample(line)
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("split(%q) = %q; join = %s; split again = %q, %v", s, words, line, again, err)
		}
	})
}

// FuzzRequirements: any requirements.toml content either yields
// well-formed prompt/forbidden requirement rules or fails with a *LoadError
// naming the file, without panicking. Seeds: testdata/fuzz/FuzzRequirements.
func FuzzRequirements(f *testing.F) {
	f.Add("[rules]\nprefix_rules = [{ pattern = [{ token = \"rm\" }], decision = \"forbidden\" }]\n")
	const name = "/etc/codex/requirements.toml"
	f.Fuzz(func(t *testing.T, src string) {
		rules, warnings, err := parseRequirements(name, []byte(src))
		for _, w := range warnings {
			if !strings.HasPrefix(w, "requirements "+name+": ") {
				t.Fatalf("warning does not name the file: %q", w)
			}
		}
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || le.File != name || !strings.HasPrefix(err.Error(), name+":") || rules != nil {
				t.Fatalf("error %v (%T) with %d rules", err, err, len(rules))
			}
			return
		}
		for _, r := range rules {
			if r.Program == "" || !r.Requirement || (r.Decision != Prompt && r.Decision != Forbidden) || r.Pos.File != name {
				t.Fatalf("malformed requirement rule %+v", r)
			}
			for _, tok := range r.Rest {
				if len(tok) == 0 || slices.Contains(tok, "") {
					t.Fatalf("empty token in %+v", r)
				}
			}
		}
	})
}
