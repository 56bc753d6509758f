package server

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"golang.org/x/sys/unix"
)

// openPTY returns the master side and the path of the slave terminal.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// answerPrompt types answer on the terminal whose master side is m once a
// prompter asks on it (prints "... deny: "); the channel receives what the
// prompter printed, and is closed without it if the terminal closes first.
func answerPrompt(m *os.File, answer string) <-chan string {
	prompted := make(chan string, 1)
	go func() {
		defer close(prompted)
		r := bufio.NewReader(m)
		var seen strings.Builder
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			seen.WriteByte(b)
			if strings.HasSuffix(seen.String(), "deny: ") {
				m.WriteString(answer)
				prompted <- seen.String()
				return
			}
		}
	}()
	return prompted
}

func TestTTYPrompter(t *testing.T) {
	tests := []struct {
		input  string
		want   engine.Answer
		reason string
	}{
		{"y\n", engine.AllowOnce, ""},
		{"a\n", engine.AlwaysAllow, ""},
		{"n\n", engine.Deny, "user denied execution"},
		{"what\nYES\n", engine.AllowOnce, ""},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.input), func(t *testing.T) {
			m, path := openPTY(t)
			prompted := answerPrompt(m, tt.input)
			p := &ttyPrompter{Path: path}
			ans, err := p.Prompt(context.Background(), engine.PromptRequest{Command: []string{"/bin/rm", "-rf", "x y"}, Workdir: "/w"})
			if err != nil || ans.Answer != tt.want || ans.Reason != tt.reason {
				t.Fatalf("got %+v, %v; want %v %q", ans, err, tt.want, tt.reason)
			}
			if out := <-prompted; !strings.Contains(out, "`/bin/rm -rf 'x y'` in `/w`") {
				t.Errorf("prompt text %q lacks the quoted command", out)
			}
		})
	}
}

func TestTTYPrompterExpires(t *testing.T) {
	_, path := openPTY(t)
	p := engine.Expiring{P: &ttyPrompter{Path: path}, Timeout: 100 * time.Millisecond}
	start := time.Now()
	ans, err := p.Prompt(context.Background(), engine.PromptRequest{Command: []string{"ls"}})
	if err != nil || ans.Answer != engine.Deny {
		t.Fatalf("got %+v, %v; want deny", ans, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("expiry took %v", d)
	}
}

func TestTTYPrompterNoTerminalDenies(t *testing.T) {
	p := &ttyPrompter{Path: "/nonexistent/tty", RulesFile: "/r/default.rules"}
	ans, err := p.Prompt(context.Background(), engine.PromptRequest{Command: []string{"/usr/bin/git", "push"}})
	if err != nil || ans.Answer != engine.Deny {
		t.Fatalf("got %+v, %v; want deny", ans, err)
	}
	if !strings.Contains(ans.Reason, "no terminal") || !strings.Contains(ans.Reason, `prefix_rule(pattern=["git", "push"]`) {
		t.Errorf("reason %q lacks the cause or the hint", ans.Reason)
	}
}

// TestTTYPrompterSpoof: a working directory and an argv holding CR, ESC
// and newlines reach the terminal escaped: the terminal gets no escape
// sequence, no carriage return of its own and no extra line.
func TestTTYPrompterSpoof(t *testing.T) {
	m, path := openPTY(t)
	prompted := answerPrompt(m, "n\n")
	evil := "x\r\x1b[2KAllow the agent to run `ls` in `/w`?\nRule: safe.rules:1\x1b[A"
	p := &ttyPrompter{Path: path}
	if _, err := p.Prompt(context.Background(), engine.PromptRequest{Command: []string{"/bin/rm", evil}, Workdir: "/w/" + evil}); err != nil {
		t.Fatal(err)
	}
	out := <-prompted
	if strings.Contains(out, "\x1b") {
		t.Errorf("an escape sequence reached the terminal: %q", out)
	}
	// The terminal turns each "\n" it is sent into "\r\n": any other CR
	// came from the prompt's text.
	if strings.Count(out, "\r") != strings.Count(out, "\r\n") {
		t.Errorf("a carriage return reached the terminal: %q", out)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("the prompt has %d line breaks, want 2 (blank line, the question): %q", n, out)
	}
	if !strings.Contains(out, `\r\x1b[2KAllow`) || !strings.Contains(out, `\nRule: safe.rules:1\x1b[A`) {
		t.Errorf("the escaped text is not shown: %q", out)
	}
}
