package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/execgate/execgate/policy"
)

// Answer is the user's reply to a prompt about one exec.
type Answer int

// The possible answers. The zero value denies, so a forgotten field fails closed.
const (
	Deny        Answer = iota // refuse this exec
	AllowOnce                 // run this exec
	AlwaysAllow               // run it, and add an allow rule so it is not asked again
)

func (a Answer) String() string {
	switch a {
	case AllowOnce:
		return "allow once"
	case AlwaysAllow:
		return "always allow"
	default:
		return "deny"
	}
}

// PromptRequest describes the exec the user is asked about.
type PromptRequest struct {
	Command []string // resolved program path first, then argv[1:]
	Workdir string
	// Env is what the agent's shell sets in the program's environment if
	// it runs outside the sandbox (escalate.Exec.Env): NAME=VALUE entries
	// that differ from the server's.
	Env           []string
	Justification string // the rule's justification, if any
	Rule          string // the rule that asked for the prompt (file:line), empty for a heuristic
	// AlwaysAllow is the prefix an "always allow" answer adds an allow
	// rule for (the program named as rules name it), when it adds one.
	AlwaysAllow []string
}

// PromptAnswer is the outcome of a prompt.
type PromptAnswer struct {
	Answer Answer
	// Reason is the user's optional comment, or why the prompt was denied
	// without asking (expired, no way to ask). It reaches the agent in the
	// denial message.
	Reason string
}

// Prompter asks the user whether an exec may run. Implementations must deny
// rather than fail when nobody can answer; an error means the prompt could not
// be made at all (the caller then denies, naming the error).
type Prompter interface {
	Prompt(ctx context.Context, req PromptRequest) (PromptAnswer, error)
}

// NoPrompter denies every prompt, explaining how to allow the command without
// asking: it serves clients that cannot prompt (no elicitation capability).
type NoPrompter struct {
	// RulesFile is where "always allow" rules go, shown in the hint.
	RulesFile string
	// Why says why no prompt is possible (e.g. "the MCP client does not support elicitation").
	Why string
}

// Prompt implements Prompter.
func (p NoPrompter) Prompt(_ context.Context, req PromptRequest) (PromptAnswer, error) {
	return PromptAnswer{Answer: Deny, Reason: p.Why + "; " + AllowHint(req, p.RulesFile)}, nil
}

// AllowHint tells the user how to let req run without a prompt.
func AllowHint(req PromptRequest, rulesFile string) string {
	if req.AlwaysAllow != nil {
		return fmt.Sprintf("to allow it, add %s to %s", allowRule(req.AlwaysAllow), rulesFile)
	}
	if req.Rule != "" {
		// A prompt rule outranks any allow rule, so adding one would not help.
		return fmt.Sprintf("the rule at %s requires approval: change its decision to \"allow\" to run this without asking", req.Rule)
	}
	cmd := slices.Clone(req.Command)
	if len(cmd) > 0 {
		cmd[0] = filepath.Base(cmd[0]) // as rules name programs
	}
	return fmt.Sprintf("to allow it, add %s to %s", allowRule(cmd), rulesFile)
}

// allowRule is a Starlark prefix_rule allowing commands starting with
// tokens.
func allowRule(tokens []string) string {
	words := make([]string, len(tokens))
	for i, a := range tokens {
		// Go's quoted-string escapes are a subset of Starlark's.
		words[i] = strconv.Quote(a)
	}
	return fmt.Sprintf("prefix_rule(pattern=[%s], decision=\"allow\")", strings.Join(words, ", "))
}

// DefaultRulesFile is where "always allow" rules go (policy.DefaultRulesFile
// in the configuration home, Home), as shown to the user: with ~ for the
// home directory.
func (o *Options) DefaultRulesFile() string {
	home, err := o.Home()
	if err != nil {
		return policy.DefaultRulesFile("~/.codex") // policy.Home's default
	}
	file := policy.DefaultRulesFile(home)
	if u, err := os.UserHomeDir(); err == nil && filepath.IsAbs(u) {
		if rel, ok := strings.CutPrefix(file, strings.TrimSuffix(u, "/")+"/"); ok {
			return "~/" + rel
		}
	}
	return file
}

// Expiring bounds each prompt of P to Timeout; an unanswered prompt is a denial.
type Expiring struct {
	P       Prompter
	Timeout time.Duration
}

// Prompt implements Prompter.
func (e Expiring) Prompt(ctx context.Context, req PromptRequest) (PromptAnswer, error) {
	if e.Timeout <= 0 {
		return e.P.Prompt(ctx, req)
	}
	pctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	ans, err := e.P.Prompt(pctx, req)
	if ctx.Err() == nil && errors.Is(pctx.Err(), context.DeadlineExceeded) {
		return PromptAnswer{Answer: Deny, Reason: fmt.Sprintf("no answer to the approval prompt within %v", e.Timeout)}, nil
	}
	return ans, err
}

// pausing stops Budget while P's prompt is open, so the time the user takes
// to answer is not charged to the command's timeout.
type pausing struct {
	P      Prompter
	Budget *Budget
}

// Prompt implements Prompter.
func (p pausing) Prompt(ctx context.Context, req PromptRequest) (PromptAnswer, error) {
	p.Budget.Pause()
	defer p.Budget.Resume()
	return p.P.Prompt(ctx, req)
}
