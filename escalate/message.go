package escalate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Request is what the wrapper asks for one exec (Codex's EscalateRequest).
// File may be relative; the server resolves it against Workdir.
type Request struct {
	File    string            `json:"file"`
	Argv    []string          `json:"argv"`
	Workdir string            `json:"workdir"`
	Env     map[string]string `json:"env"`
}

// Action is the server's answer to a Request.
type Action int

const (
	// Run: the wrapper execs the file in place, inside the sandbox.
	Run Action = iota
	// Escalate: the wrapper passes its stdio and the server runs the file
	// outside the sandbox.
	Escalate
	// Deny: the wrapper prints the reason and exits 1.
	Deny
)

func (a Action) String() string {
	switch a {
	case Run:
		return "run"
	case Escalate:
		return "escalate"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// MarshalText encodes a as its lower-case name ("run", "escalate", "deny"):
// the form the server's records of decisions and its logs use. It does not
// fail, so that a log line about a bad action still shows it (as
// "Action(N)", which UnmarshalText refuses). The wire encodes actions in
// Response, its own way.
func (a Action) MarshalText() ([]byte, error) {
	return []byte(a.String()), nil
}

// UnmarshalText decodes a name MarshalText wrote.
func (a *Action) UnmarshalText(b []byte) error {
	for _, c := range [...]Action{Run, Escalate, Deny} {
		if string(b) == c.String() {
			*a = c
			return nil
		}
	}
	return fmt.Errorf("escalate: unknown action %q, want run, escalate or deny", b)
}

// Response is Codex's EscalateResponse. On the wire it is serde's externally
// tagged enum: {"action":"Run"}, {"action":"Escalate"} or
// {"action":{"Deny":{"reason":"text"}}} where reason may be null.
//
// A Run answer may also carry {"action":"Run","note":"text"}, an execgate
// extension: Codex's wrapper decodes EscalateResponse with serde's default,
// which ignores fields it does not know, and runs the program as for any Run.
type Response struct {
	Action Action
	// Reason is only meaningful for Deny; empty is sent as null.
	Reason string
	// Note is only meaningful for Run: a line the wrapper prints on the
	// program's stderr before running it (why a program a rule allows
	// runs inside the sandbox). Empty is not sent.
	Note string
}

// MarshalJSON writes the Codex wire form.
func (r Response) MarshalJSON() ([]byte, error) {
	switch r.Action {
	case Run:
		if r.Note == "" {
			return slices.Clone(runResponse), nil
		}
		b := []byte(`{"action":"Run","note":`)
		return append(appendJSONString(b, r.Note), '}'), nil
	case Escalate:
		return slices.Clone(escalateResponse), nil
	case Deny:
		b := []byte(`{"action":{"Deny":{"reason":`)
		if r.Reason == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, r.Reason)
		}
		return append(b, "}}}"...), nil
	}
	return nil, fmt.Errorf("escalate: cannot encode unknown action %d", int(r.Action))
}

// UnmarshalJSON accepts exactly the three Codex forms. The error answer
// (see serverError) decodes to a *serverError.
func (r *Response) UnmarshalJSON(data []byte) error {
	var outer struct {
		Action json.RawMessage `json:"action"`
		Note   string          `json:"note"`
		Error  *string         `json:"error"`
	}
	if err := strictUnmarshal(data, &outer); err != nil {
		return fmt.Errorf("escalate response: %w", err)
	}
	if outer.Error != nil {
		return &serverError{Msg: *outer.Error}
	}
	if outer.Action == nil {
		return fmt.Errorf("escalate response: missing field \"action\"")
	}
	var name string
	if err := json.Unmarshal(outer.Action, &name); err == nil {
		switch name {
		case "Run":
			*r = Response{Action: Run, Note: outer.Note}
			return nil
		case "Escalate":
			*r = Response{Action: Escalate}
			return nil
		}
		return fmt.Errorf("escalate response: unknown action %q", name)
	}
	var deny struct {
		Deny *struct {
			Reason *string `json:"reason"`
		} `json:"Deny"`
	}
	if err := strictUnmarshal(outer.Action, &deny); err != nil || deny.Deny == nil {
		return fmt.Errorf("escalate response: action must be \"Run\", \"Escalate\" or {\"Deny\":{...}}, got %s", truncate(outer.Action))
	}
	*r = Response{Action: Deny}
	if deny.Deny.Reason != nil {
		r.Reason = *deny.Deny.Reason
	}
	return nil
}

// serverError is execgate's answer for an exec the server will not decide
// (too many at once, a request too large): {"error":"text"} on the wire,
// instead of an EscalateResponse. It is not a denial by the policy: the
// wrapper reports it and fails closed (exit 126) like any protocol failure.
// A Codex wrapper, which does not know the form, fails closed too.
type serverError struct{ Msg string }

func (e *serverError) Error() string { return "execgate server: " + e.Msg }

// MarshalJSON writes the wire form.
func (e *serverError) MarshalJSON() ([]byte, error) {
	b := appendJSONString([]byte(`{"error":`), e.Msg)
	return append(b, '}'), nil
}

// SuperExec follows an Escalate answer: the wrapper lists the fds it sends
// (in SCM_RIGHTS on the same frame) and which descriptor each becomes.
type SuperExec struct {
	Fds []int `json:"fds"`
}

// SuperExecResult reports the escalated command's end. ExitCode follows the
// shell convention (128+N for death by signal N), which is all a Codex
// wrapper reads; Signal is our extension so an execgate wrapper can re-raise
// the signal and its parent Bash sees exactly what it would have seen.
type SuperExecResult struct {
	ExitCode int `json:"exit_code"`
	Signal   int `json:"signal,omitempty"`
}

// Forward is an extension frame the wrapper sends after SuperExec to forward a
// signal it received to the escalated process group. A Codex server never
// reads past SuperExec, so it ignores these.
type Forward struct {
	Signal int `json:"signal"`
}

// strictUnmarshal decodes one JSON value and rejects unknown fields and
// trailing data, so a malformed peer gets an error that says what is wrong.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

func truncate(b []byte) string {
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
