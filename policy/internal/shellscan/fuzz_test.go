package shellscan

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzPlainCommands: scanning never panics, and commands it accepts,
// re-rendered with every word single-quoted, scan back to the same commands.
func FuzzPlainCommands(f *testing.F) {
	for _, s := range []string{"ls && pwd; echo 'hi there' | wc -l", `rg -n "foo" -g"*.py"`, "echo $(x)", "a\nb;", "(ls)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		cmds, ok := PlainCommands(script)
		if !ok {
			return
		}
		var lines []string
		for _, c := range cmds {
			if len(c) == 0 {
				t.Fatalf("empty command from %q", script)
			}
			words := make([]string, len(c))
			for i, w := range c {
				if strings.Contains(w, "'") {
					return // not expressible in single quotes
				}
				words[i] = "'" + w + "'"
			}
			lines = append(lines, strings.Join(words, " "))
		}
		again, ok := PlainCommands(strings.Join(lines, " && "))
		if len(cmds) == 0 {
			return
		}
		if !ok || !reflect.DeepEqual(again, cmds) {
			t.Fatalf("%q scanned to %q; re-rendered it scans to %q, %v", script, cmds, again, ok)
		}
	})
}
