package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/execgate/execgate/engine"
)

// ttyPrompter asks on the controlling terminal (for `execgate run`):
// y = allow once, a = always allow, n = deny. Without a terminal it denies.
// Prompts are serialized: two execs asking at once would interleave.
type ttyPrompter struct {
	// Path is the terminal to open; empty means /dev/tty.
	Path string
	// RulesFile is shown in the denial when no terminal is available.
	RulesFile string

	mu sync.Mutex
}

// Prompt implements Prompter.
func (p *ttyPrompter) Prompt(ctx context.Context, req engine.PromptRequest) (engine.PromptAnswer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	path := p.Path
	if path == "" {
		path = "/dev/tty"
	}
	tty, err := os.OpenFile(path, os.O_RDWR|noCTTY, 0)
	if err != nil {
		return engine.NoPrompter{RulesFile: p.RulesFile, Why: fmt.Sprintf("no terminal to ask on (%v)", err)}.Prompt(ctx, req)
	}
	defer tty.Close()

	// Unblock the read when ctx ends (expiry, cancellation). A terminal is
	// pollable, so a read deadline interrupts it.
	stop := context.AfterFunc(ctx, func() { tty.SetReadDeadline(time.Now()) })
	defer stop()

	fmt.Fprintf(tty, "\nexecgate: %s\n", strings.ReplaceAll(elicitMessage(req), "\n", "\n  "))
	r := bufio.NewReader(tty)
	for {
		fmt.Fprint(tty, "[y] allow once  [a] always allow  [n] deny: ")
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(tty)
				return engine.PromptAnswer{Answer: engine.Deny, Reason: "prompt ended: " + context.Cause(ctx).Error()}, nil
			}
			if err == io.EOF {
				return engine.PromptAnswer{Answer: engine.Deny, Reason: "terminal closed without an answer"}, nil
			}
			return engine.PromptAnswer{}, fmt.Errorf("reading answer from %s: %w", path, err)
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return engine.PromptAnswer{Answer: engine.AllowOnce}, nil
		case "a", "always":
			return engine.PromptAnswer{Answer: engine.AlwaysAllow}, nil
		case "n", "no":
			return engine.PromptAnswer{Answer: engine.Deny, Reason: "user denied execution"}, nil
		}
	}
}
