package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Elicitor prompts through MCP elicitation on the session of the tool call.
// Use it only when whyNoElicit finds nothing against that session.
type Elicitor struct {
	Session *mcp.ServerSession
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

// elicitSchema is a flat form: one single-select choice and an optional
// free-text reason (passed back to the agent on a denial). The choice uses
// enum + enumNames, the form every elicitation-capable client understands
// (2025-06-18); 2025-11-25 clients still accept it.
func elicitSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type: "object",
		Properties: map[string]*jsonschema.Schema{
			"decision": {
				Type:        "string",
				Title:       "Decision",
				Description: "Run this command outside the sandbox?",
				Enum:        []any{choiceOnce, choiceAlways, choiceDeny},
				Extra:       map[string]any{"enumNames": []any{"Allow once", "Always allow (adds an allow rule)", "Deny"}},
				Default:     []byte(`"` + choiceOnce + `"`),
			},
			"reason": {
				Type:        "string",
				Title:       "Reason",
				Description: "Optional note for the agent (shown with a denial)",
			},
		},
		Required: []string{"decision"},
	}
}

// ElicitMessage is the text shown to the user, one line per item: every
// string in it is made printable (see printable), so no part of it can add
// a line or rewrite another.
func ElicitMessage(req PromptRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Allow the agent to run `%s` in `%s`?", QuoteCommand(req.Command), printable(req.Workdir))
	if len(req.Env) > 0 {
		fmt.Fprintf(&b, "\nEnvironment set by the agent: %s", QuoteCommand(req.Env))
	}
	if req.Rule != "" {
		fmt.Fprintf(&b, "\nRule: %s", printable(req.Rule))
	}
	if req.Justification != "" {
		fmt.Fprintf(&b, "\nJustification: %s", printable(req.Justification))
	}
	return b.String()
}

// Prompt implements Prompter.
func (e Elicitor) Prompt(ctx context.Context, req PromptRequest) (PromptAnswer, error) {
	res, err := e.Session.Elicit(ctx, &mcp.ElicitParams{
		Mode:            "form",
		Message:         ElicitMessage(req),
		RequestedSchema: elicitSchema(),
	})
	if err != nil {
		return PromptAnswer{}, fmt.Errorf("elicitation: %w", err)
	}
	reason, _ := res.Content["reason"].(string)
	switch res.Action {
	case "accept":
		choice, _ := res.Content["decision"].(string)
		switch choice {
		case choiceAlways:
			return PromptAnswer{Answer: AlwaysAllow, Reason: reason}, nil
		case choiceDeny:
			return PromptAnswer{Answer: Deny, Reason: withUserReason("user denied execution", reason)}, nil
		default:
			// Accept without a choice (clients that auto-accept send no
			// content): the schema's default, allow once.
			return PromptAnswer{Answer: AllowOnce, Reason: reason}, nil
		}
	case "decline":
		return PromptAnswer{Answer: Deny, Reason: withUserReason("user declined execution", reason)}, nil
	default: // "cancel" and anything unknown
		return PromptAnswer{Answer: Deny, Reason: withUserReason("user cancelled execution", reason)}, nil
	}
}

func withUserReason(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + reason
}
