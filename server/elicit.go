package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// elicitor prompts through MCP elicitation on the session of the tool call.
// Use it only when whyNoElicit finds nothing against that session.
type elicitor struct {
	Session *mcp.ServerSession
	// RulesFile is where an allow rule would go, for the hint given when
	// the client refuses to ask anyone.
	RulesFile string
}

// mrtrProtocol is the first protocol version in which a server may not send
// requests while serving one (SEP-2322: multi round-trip requests instead).
// A Bash process blocked in execve cannot be suspended into such a round
// trip, so those clients are treated as unable to prompt.
const mrtrProtocol = "2026-07-28"

// whyNoElicit says why the client of ss cannot be asked, or "" if it can.
func whyNoElicit(ss *mcp.ServerSession) string {
	p := ss.InitializeParams()
	if p == nil || p.Capabilities == nil || p.Capabilities.Elicitation == nil {
		return "approval needed but the MCP client cannot prompt (no elicitation capability)"
	}
	if e := p.Capabilities.Elicitation; e.Form == nil && e.URL != nil {
		// An empty elicitation capability means form (the pre-2025-11-25 meaning).
		return "approval needed but the MCP client cannot prompt (it supports only URL elicitation)"
	}
	if p.ProtocolVersion >= mrtrProtocol {
		return fmt.Sprintf("approval needed but the MCP client's protocol %s does not allow prompting during a call", p.ProtocolVersion)
	}
	return ""
}

// The values of the "decision" field of the elicitation form.
const (
	choiceOnce   = "allow_once"
	choiceAlways = "always_allow"
	choiceDeny   = "deny"
)

// choices are the values of "decision" and their labels, in order.
var choices = [...]struct{ value, title string }{
	{choiceOnce, "Allow once"},
	{choiceAlways, "Always allow (adds an allow rule)"},
	{choiceDeny, "Deny"},
}

// titledEnumProtocol is the first protocol version whose elicitation
// schema titles enum values with oneOf/const/title; before it, enumNames
// (now deprecated) did.
const titledEnumProtocol = "2025-11-25"

// elicitSchema is a form with a single field: the choice, a single select
// whose default is to allow once. It is deliberately not required and
// comes with no other field. Codex answers an approval from its TUI with
// an accept whose content may be empty (0.97 sends {}), which must mean the
// default rather than fail validation; and Codex 0.171's TUI cannot submit a
// form whose optional text field is left empty, so a "reason" field would
// leave the user no way to approve. The values are titled with enumNames
// for clients speaking a protocol before 2025-11-25 (Codex 0.171 still
// speaks 2025-06-18), with oneOf and const/title from it on.
func elicitSchema(protocol string) *jsonschema.Schema {
	decision := &jsonschema.Schema{
		Type:        "string",
		Title:       "Decision",
		Description: "Run this command outside the sandbox?",
		Default:     []byte(`"` + choiceOnce + `"`),
	}
	if protocol >= titledEnumProtocol {
		for _, c := range choices {
			decision.OneOf = append(decision.OneOf, &jsonschema.Schema{Const: jsonschema.Ptr[any](c.value), Title: c.title})
		}
	} else {
		var names []any
		for _, c := range choices {
			decision.Enum = append(decision.Enum, c.value)
			names = append(names, c.title)
		}
		decision.Extra = map[string]any{"enumNames": names}
	}
	return &jsonschema.Schema{
		Type:       "object",
		Properties: map[string]*jsonschema.Schema{"decision": decision},
	}
}

// humanDelay is the shortest time in which a person could have read a
// prompt and answered it. A decline or cancel that comes sooner is the
// client's (codex exec answers every prompt so, within a millisecond), and
// the denial says so instead of blaming a user who was never asked.
const humanDelay = 500 * time.Millisecond

// elicitMessage is the text shown to the user, one line per item: every
// string in it is made printable (see printable), so no part of it can add
// a line or rewrite another.
func elicitMessage(req engine.PromptRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Allow the agent to run `%s` in `%s`?", engine.QuoteCommand(req.Command), engine.Printable(req.Workdir))
	if len(req.Env) > 0 {
		fmt.Fprintf(&b, "\nEnvironment set by the agent: %s", engine.QuoteCommand(req.Env))
	}
	if req.Rule != "" {
		fmt.Fprintf(&b, "\nRule: %s", engine.Printable(req.Rule))
	}
	if req.Justification != "" {
		fmt.Fprintf(&b, "\nJustification: %s", engine.Printable(req.Justification))
	}
	return b.String()
}

// Prompt implements Prompter.
func (e elicitor) Prompt(ctx context.Context, req engine.PromptRequest) (engine.PromptAnswer, error) {
	protocol := ""
	if p := e.Session.InitializeParams(); p != nil {
		protocol = p.ProtocolVersion
	}
	start := time.Now()
	res, err := e.Session.Elicit(ctx, &mcp.ElicitParams{
		Mode:            "form",
		Message:         elicitMessage(req),
		RequestedSchema: elicitSchema(protocol),
	})
	if err != nil {
		return engine.PromptAnswer{}, fmt.Errorf("elicitation: %w", err)
	}
	return answerOf(res, time.Since(start), req, e.RulesFile), nil
}

// answerOf reads an elicitation result that came back after took. A
// client may send a "reason" the form does not ask for; it reaches the
// agent with a denial.
func answerOf(res *mcp.ElicitResult, took time.Duration, req engine.PromptRequest, rulesFile string) engine.PromptAnswer {
	reason, _ := res.Content["reason"].(string)
	switch res.Action {
	case "accept":
		choice, _ := res.Content["decision"].(string)
		switch choice {
		case choiceAlways:
			return engine.PromptAnswer{Answer: engine.AlwaysAllow, Reason: reason}
		case choiceDeny:
			return engine.PromptAnswer{Answer: engine.Deny, Reason: withUserReason("user denied execution", reason)}
		default:
			// Accept with no choice (Codex's TUI sends {} or no
			// content): the form's default, allow once. The SDK has
			// already refused a choice that is not one of the values.
			return engine.PromptAnswer{Answer: engine.AllowOnce, Reason: reason}
		}
	}
	what := "cancelled" // "cancel" and anything unknown
	if res.Action == "decline" {
		what = "declined"
	}
	if took < humanDelay {
		return engine.PromptAnswer{Answer: engine.Deny, Reason: fmt.Sprintf("the client declined to ask the user (it %s the prompt after %v, before anyone could read it); %s",
			what, took.Truncate(time.Microsecond), engine.AllowHint(req, rulesFile))}
	}
	return engine.PromptAnswer{Answer: engine.Deny, Reason: withUserReason("user "+what+" execution", reason)}
}

func withUserReason(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + reason
}
