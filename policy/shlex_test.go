package policy

import (
	"slices"
	"testing"
)

func TestSplitExample(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"git commit -m 'fix bug'", []string{"git", "commit", "-m", "fix bug"}, false},
		{`echo "a b" c\ d`, []string{"echo", "a b", "c d"}, false},
		{`ls | grep x`, []string{"ls", "|", "grep", "x"}, false},
		{`echo $HOME`, []string{"echo", "$HOME"}, false},
		{`ls # comment`, []string{"ls"}, false},
		{`a#b`, []string{"a#b"}, false},
		{`"it's" 'say "hi"'`, []string{"it's", `say "hi"`}, false},
		{`"a\"b\\c\$d\x"`, []string{`a"b\c$d\x`}, false},
		{"a\\\nb", []string{"ab"}, false},
		{`''`, []string{""}, false},
		{"  \t ", nil, false},
		{`echo 'unterminated`, nil, true},
		{`echo "unterminated`, nil, true},
		{`trailing\`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitExample(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("splitExample(%q) = %q, %v; want %q, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestJoinExample(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"git", "a b", "it's"}, `git 'a b' "it's"`},
		{[]string{"", "-x", "a=b,c"}, `'' -x a=b,c`},
		{[]string{`it's "$x"`}, `"it's \"\$x\""`},
		{[]string{"a\x00b"}, "unable to render example"},
	}
	for _, tt := range tests {
		if got := joinExample(tt.in); got != tt.want {
			t.Errorf("joinExample(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
