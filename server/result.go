package server

import (
	"bytes"
	"encoding/json"
	"time"
)

// Verdict is what happened to one intercepted exec.
type Verdict string

// The three exec outcomes, as Codex's wrapper protocol names them (lower case).
const (
	VerdictRun      Verdict = "run"      // ran in place, inside the sandbox
	VerdictEscalate Verdict = "escalate" // ran outside the sandbox on the wrapper's behalf
	VerdictDeny     Verdict = "deny"     // refused
)

// Decision records one exec decided during a call.
type Decision struct {
	Program  string   `json:"program" jsonschema:"absolute path of the program as the script named it (what rules match)"`
	Argv     []string `json:"argv" jsonschema:"argument vector, argv[0] first; for an escalation, as the program received it (argv[0] is the name the rule matched)"`
	Decision Verdict  `json:"decision" jsonschema:"run (sandboxed), escalate (outside the sandbox) or deny"`
	Rule     string   `json:"rule,omitempty" jsonschema:"the rule that decided, as file:line, if any"`
	Reason   string   `json:"reason,omitempty" jsonschema:"why, for a denial or a prompt answer"`
	// note goes to the wrapper with a Run answer, which prints it on the
	// program's stderr; the record says the same in Reason.
	note string
	// Executable is set for escalations only.
	Executable string `json:"executable,omitempty" jsonschema:"for an escalation: the file that ran outside the sandbox, every symbolic link resolved"`

	argv0 string // for an escalation: the argv[0] Decide chose (escalate.Decision.Argv0)
}

// Result is everything a shell call reports.
type Result struct {
	ExitCode  int
	Output    string
	Duration  time.Duration
	TimedOut  bool
	Decisions []Decision
	// Note says something the exit code cannot, e.g. that a background job
	// still holding the output pipe was killed after Bash exited.
	Note string
}

// codexDuration is serde's encoding of std::time::Duration.
type codexDuration struct {
	Secs  uint64 `json:"secs" jsonschema:"whole seconds"`
	Nanos uint32 `json:"nanos" jsonschema:"nanoseconds past secs"`
}

func toCodexDuration(d time.Duration) codexDuration {
	if d < 0 {
		d = 0
	}
	return codexDuration{Secs: uint64(d / time.Second), Nanos: uint32(d % time.Second)}
}

// codexResult is Codex's shell-tool-mcp ExecResult, field order included:
// Codex users parse this text, so it must stay byte-compatible.
type codexResult struct {
	ExitCode int           `json:"exit_code"`
	Output   string        `json:"output"`
	Duration codexDuration `json:"duration"`
	TimedOut bool          `json:"timed_out"`
}

// CodexJSON renders r as the text Codex's shell tool returns. Like serde_json
// it does not escape <, > and &. (encoding/json still escapes U+2028 and
// U+2029, which serde_json writes raw: the same JSON value either way.)
func (r *Result) CodexJSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	// Encoding a struct of strings, ints and bools cannot fail.
	_ = enc.Encode(codexResult{
		ExitCode: r.ExitCode,
		Output:   r.Output,
		Duration: toCodexDuration(r.Duration),
		TimedOut: r.TimedOut,
	})
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// ShellOutput is the tool's structuredContent (its outputSchema is derived
// from this type).
type ShellOutput struct {
	ExitCode   int           `json:"exit_code" jsonschema:"exit status of the script; 128+N if killed by signal N"`
	Output     string        `json:"output" jsonschema:"stdout and stderr interleaved, possibly shortened around an omission line"`
	Duration   codexDuration `json:"duration" jsonschema:"wall-clock time, as Codex reports it"`
	DurationMs int64         `json:"duration_ms" jsonschema:"wall-clock time in milliseconds"`
	TimedOut   bool          `json:"timed_out" jsonschema:"the call hit its timeout and was killed"`
	Decisions  []Decision    `json:"decisions" jsonschema:"every program start the script made, in order, and what was decided"`
	Note       string        `json:"note,omitempty" jsonschema:"extra information, e.g. a background job killed after the script exited"`
}

// Structured returns the structuredContent form of r.
func (r *Result) Structured() ShellOutput {
	ds := r.Decisions
	if ds == nil {
		ds = []Decision{}
	}
	return ShellOutput{
		ExitCode:   r.ExitCode,
		Output:     r.Output,
		Duration:   toCodexDuration(r.Duration),
		DurationMs: r.Duration.Milliseconds(),
		TimedOut:   r.TimedOut,
		Decisions:  ds,
		Note:       r.Note,
	}
}
