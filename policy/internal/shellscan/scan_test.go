package shellscan

import (
	"reflect"
	"testing"
)

func TestPlainCommands(t *testing.T) {
	tests := []struct {
		script string
		want   [][]string // nil: rejected
	}{
		{"ls && pwd; echo 'hi there' | wc -l", [][]string{{"ls"}, {"pwd"}, {"echo", "hi there"}, {"wc", "-l"}}},
		{"git commit -m \"line1\nline2\"", [][]string{{"git", "commit", "-m", "line1\nline2"}}},
		{`rg -n "foo" -g"*.py"`, [][]string{{"rg", "-n", "foo", "-g*.py"}}},
		{`"/usr"'/'"local"/bin`, [][]string{{"/usr/local/bin"}}},
		{"echo 123 456", [][]string{{"echo", "123", "456"}}},
		{"ls\npwd", [][]string{{"ls"}, {"pwd"}}},
		{"ls;", [][]string{{"ls"}}},
		{"ls &&\n  pwd\n", [][]string{{"ls"}, {"pwd"}}},
		{"ls || true", [][]string{{"ls"}, {"true"}}},
		{"", [][]string{}},
		{"   \n ", [][]string{}},
		{`echo ""`, [][]string{{"echo", ""}}},
		{"rm -rf x", [][]string{{"rm", "-rf", "x"}}},
		{"(ls)", nil},
		{"ls || (pwd && echo hi)", nil},
		{"ls > out.txt", nil},
		{"cat < in", nil},
		{"echo hi & echo bye", nil},
		{"echo hi &", nil},
		{"echo $(pwd)", nil},
		{"echo `pwd`", nil},
		{"echo $HOME", nil},
		{`echo "hi $USER"`, nil},
		{"FOO=bar ls", nil},
		{"ls &&", nil},
		{"ls |", nil},
		{"; ls", nil},
		{"ls ;; pwd", nil},
		{`rg -g"$VAR" x`, nil},
		{"ls # c", nil},
		{"if true; then ls; fi", nil},
		{"for x in a; do ls; done", nil},
		{"{ ls; }", nil},
		{"! ls", nil},
		{"ls 2>&1", nil},
		{"echo a\\ b", nil},
		{`echo "a\"b"`, nil},
		{"echo 'unterminated", nil},
		{`echo ''""`, nil},
		{"ls |& cat", nil},
		{"cat <<EOF\nx\nEOF", nil},
		{"f() { ls; }", nil},
	}
	for _, tt := range tests {
		got, ok := PlainCommands(tt.script)
		if tt.want == nil {
			if ok {
				t.Errorf("PlainCommands(%q) = %q, want rejection", tt.script, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("PlainCommands(%q) = %q, %v; want %q", tt.script, got, ok, tt.want)
		}
	}
}
