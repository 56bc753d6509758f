package engine

import (
	"context"
	"testing"
	"time"
)

func TestQuoteCommand(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/git", "status"}, "/usr/bin/git status"},
		{[]string{"/usr/bin/git", "commit", "-m", "fix: it's done"}, `/usr/bin/git commit -m "fix: it's done"`},
		{[]string{"echo", "a\nb"}, `echo 'a\nb'`},
		{[]string{"printf", "\x1b[2J\rok"}, `printf '\x1b[2J\rok'`},
		{[]string{"rm", "-rf", "$HOME"}, `rm -rf '$HOME'`},
		{[]string{"x", "nul\x00byte"}, `x nul\x00byte`},
	}
	for _, tt := range tests {
		if got := QuoteCommand(tt.argv); got != tt.want {
			t.Errorf("QuoteCommand(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, é 日本 \u00a0!", "plain text, é 日本 \u00a0!"},
		{"a\nRule: x\r\tb", `a\nRule: x\r\tb`},
		{"\x1b]0;title\x07\x1b[2K", `\x1b]0;title\x07\x1b[2K`},
		{"\x00\x7f", `\x00\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200b \u061c \ufeff", `bidi \u202eevil\u202c \u2066x\u2069 \u200b \u061c \ufeff`},
		{"sep \u2028\u2029", `sep \u2028\u2029`},
		{"bad \xff\xc3 utf8", `bad \xff\xc3 utf8`},
		{`back\slash`, `back\slash`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNoPrompterHint(t *testing.T) {
	tests := []struct {
		name string
		req  PromptRequest
		want string
	}{
		{
			"heuristic: suggest an allow rule",
			PromptRequest{Command: []string{"/usr/bin/git", "push", "--force"}},
			`cannot ask; to allow it, add prefix_rule(pattern=["git", "push", "--force"], decision="allow") to /c/rules/default.rules`,
		},
		{
			"prompt rule: say to change it",
			PromptRequest{Command: []string{"/usr/bin/git", "push"}, Rule: "/c/rules/default.rules:3"},
			`cannot ask; the rule at /c/rules/default.rules:3 requires approval: change its decision to "allow" to run this without asking`,
		},
		{
			"quotes are escaped",
			PromptRequest{Command: []string{"echo", `a"b`}},
			`cannot ask; to allow it, add prefix_rule(pattern=["echo", "a\"b"], decision="allow") to /c/rules/default.rules`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := NoPrompter{RulesFile: "/c/rules/default.rules", Why: "cannot ask"}.Prompt(context.Background(), tt.req)
			if err != nil || ans.Answer != Deny {
				t.Fatalf("got %v, %v; want a denial", ans, err)
			}
			if ans.Reason != tt.want {
				t.Errorf("reason:\n got %s\nwant %s", ans.Reason, tt.want)
			}
		})
	}
}

func TestDefaultRulesFile(t *testing.T) {
	t.Setenv("HOME", "/home/you")
	t.Setenv("EXECGATE_HOME", "")
	t.Setenv("CODEX_HOME", "")
	opts := DefaultOptions()
	if got := opts.DefaultRulesFile(); got != "~/.codex/rules/default.rules" {
		t.Errorf("default: %s", got)
	}
	t.Setenv("CODEX_HOME", "/srv/codex")
	if got := opts.DefaultRulesFile(); got != "/srv/codex/rules/default.rules" {
		t.Errorf("with CODEX_HOME: %s", got)
	}
	t.Setenv("EXECGATE_HOME", "/srv/eg") // policy.Home's order: always-allow rules go there
	if got := opts.DefaultRulesFile(); got != "/srv/eg/rules/default.rules" {
		t.Errorf("with EXECGATE_HOME: %s", got)
	}
	opts.CodexHome = "/home/you/codex-alt" // --codex-home beats both
	if got := opts.DefaultRulesFile(); got != "~/codex-alt/rules/default.rules" {
		t.Errorf("with --codex-home: %s", got)
	}
}

// waitPrompter answers after delay, or gives up with ctx.
type waitPrompter struct {
	delay time.Duration
	ans   PromptAnswer
}

func (w waitPrompter) Prompt(ctx context.Context, _ PromptRequest) (PromptAnswer, error) {
	select {
	case <-time.After(w.delay):
		return w.ans, nil
	case <-ctx.Done():
		return PromptAnswer{}, ctx.Err()
	}
}

func TestExpiring(t *testing.T) {
	once := PromptAnswer{Answer: AllowOnce}
	tests := []struct {
		name    string
		delay   time.Duration
		timeout time.Duration
		want    Answer
		reason  string
	}{
		{"answered in time", time.Millisecond, time.Minute, AllowOnce, ""},
		{"expires as deny", time.Minute, 20 * time.Millisecond, Deny, "no answer to the approval prompt within 20ms"},
		{"no timeout", time.Millisecond, 0, AllowOnce, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := Expiring{P: waitPrompter{tt.delay, once}, Timeout: tt.timeout}.Prompt(context.Background(), PromptRequest{})
			if err != nil || ans.Answer != tt.want || ans.Reason != tt.reason {
				t.Errorf("got %+v, %v; want %v %q", ans, err, tt.want, tt.reason)
			}
		})
	}
	// The caller's own cancellation is not dressed up as an expiry.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Expiring{P: waitPrompter{time.Minute, once}, Timeout: time.Minute}.Prompt(ctx, PromptRequest{})
	if err == nil {
		t.Error("cancelled prompt returned no error")
	}
}

func TestPausingStopsBudget(t *testing.T) {
	b := NewBudget(150 * time.Millisecond)
	defer b.Stop()
	p := pausing{P: waitPrompter{300 * time.Millisecond, PromptAnswer{Answer: AllowOnce}}, Budget: b}
	if _, err := p.Prompt(context.Background(), PromptRequest{}); err != nil {
		t.Fatal(err)
	}
	if expired(b) {
		t.Fatalf("budget expired during a 300ms prompt with 150ms limit (used %v)", b.Used())
	}
	select {
	case <-b.Expired():
	case <-time.After(5 * time.Second):
		t.Fatal("budget never expired after the prompt")
	}
}
