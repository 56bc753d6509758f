package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/execgate/execgate/escalate"
)

// Record is what the audit log and the tool result say of one exec decided
// during a call.
type Record struct {
	Program  string          `json:"program" jsonschema:"absolute path of the program as the script named it (what rules match)"`
	Argv     []string        `json:"argv" jsonschema:"argument vector, argv[0] first; for an escalation, as the program received it (argv[0] is the name the rule matched)"`
	Decision escalate.Action `json:"decision" jsonschema:"run (sandboxed), escalate (outside the sandbox) or deny"`
	Rule     string          `json:"rule,omitempty" jsonschema:"the rule that decided, as file:line, if any"`
	Reason   string          `json:"reason,omitempty" jsonschema:"why, for a denial or a prompt answer"`
	// Executable is set for escalations only.
	Executable string `json:"executable,omitempty" jsonschema:"for an escalation: the file that ran outside the sandbox, every symbolic link resolved"`
	// Via is "kernel" for a program start the shell did not see, which
	// the kernel gate checked (it can run inside the sandbox or be denied,
	// never escalated).
	Via string `json:"via,omitempty" jsonschema:"kernel: a program start the shell did not see (started by another program), checked by the kernel gate; it ran inside the sandbox or was denied"`
}

// newRecord is the record of ex answered with dec. For an escalation the
// caller sets what ran (Executable, Argv).
func newRecord(ex escalate.Exec, dec escalate.Decision) Record {
	return Record{Program: ex.File, Argv: ex.Argv, Decision: dec.Action, Rule: dec.Rule, Reason: dec.Reason}
}

// Result is everything a shell call reports.
type Result struct {
	ExitCode  int
	Output    string
	Duration  time.Duration
	TimedOut  bool
	Decisions []Record
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
//
// Clients may show the model this object as JSON with its keys sorted and
// cut long results out of the middle (Codex 0.171 shows
// "Wall time: ...\nOutput:\n" + the JSON, and keeps about 6 KB of each
// end). Sorted, every key before "output" comes first, so those fields are
// kept small (see Structured): exit_code and the head of the output stay in
// the part kept at the start, timed_out and the tail of the output in the
// part kept at the end, however much the script ran or printed.
type ShellOutput struct {
	ExitCode   int           `json:"exit_code" jsonschema:"exit status of the script; 128+N if killed by signal N"`
	Output     string        `json:"output" jsonschema:"stdout and stderr interleaved, possibly shortened around an omission line"`
	Duration   codexDuration `json:"duration" jsonschema:"wall-clock time, as Codex reports it"`
	DurationMs int64         `json:"duration_ms" jsonschema:"wall-clock time in milliseconds"`
	TimedOut   bool          `json:"timed_out" jsonschema:"the call hit its timeout and was killed"`
	Decisions  []Record      `json:"decisions" jsonschema:"program starts of the script, in order, and what was decided: the first ones and every escalation and denial, within a size bound (long arguments shortened)"`
	// DecisionsOmitted counts the decisions left out of Decisions.
	DecisionsOmitted int    `json:"decisions_omitted,omitempty" jsonschema:"how many further program starts ran sandboxed (or, past the size bound, were decided otherwise) and are not listed; the audit log has them all"`
	Note             string `json:"note,omitempty" jsonschema:"extra information, e.g. a background job killed after the script exited"`
}

// Bounds on what the result lists of a call's decisions.
const (
	listedFirst     = 20      // decisions listed whatever they are
	decisionsBudget = 3 << 10 // bytes of JSON for the listed decisions
	maxListedArg    = 200     // bytes of one argument or path
	maxListedArgs   = 24      // arguments of one argv
	maxListedReason = 600     // bytes of a reason: it says how to get a command through
	maxNoteBytes    = 1 << 10
)

// Structured returns the structuredContent form of r. It lists the first
// listedFirst decisions and, after them, every one that did not simply run
// in the sandbox, shortened and within decisionsBudget; DecisionsOmitted
// counts the rest. The full list is in r.Decisions, the logs and the audit
// file.
func (r *Result) Structured() ShellOutput {
	ds := []Record{}
	omitted, size := 0, 0
	for i, d := range r.Decisions {
		if i >= listedFirst && d.Decision == escalate.Run && d.Reason == "" {
			omitted++
			continue
		}
		d = shortDecision(d)
		n := decisionSize(d)
		if size+n > decisionsBudget {
			omitted++
			continue
		}
		size += n
		ds = append(ds, d)
	}
	return ShellOutput{
		ExitCode:         r.ExitCode,
		Output:           r.Output,
		Duration:         toCodexDuration(r.Duration),
		DurationMs:       r.Duration.Milliseconds(),
		TimedOut:         r.TimedOut,
		Decisions:        ds,
		DecisionsOmitted: omitted,
		Note:             shorten(r.Note, maxNoteBytes),
	}
}

// shortDecision bounds what one decision takes in the result.
func shortDecision(d Record) Record {
	argv := d.Argv
	if len(argv) > maxListedArgs {
		argv = append(slices.Clip(argv[:maxListedArgs-1]), fmt.Sprintf("[... %d more arguments]", len(argv)-maxListedArgs+1))
	}
	short := make([]string, len(argv))
	for i, a := range argv {
		short[i] = shorten(a, maxListedArg)
	}
	d.Argv = short
	d.Program = shorten(d.Program, maxListedArg)
	d.Executable = shorten(d.Executable, maxListedArg)
	d.Rule = shorten(d.Rule, maxListedArg)
	d.Reason = shorten(d.Reason, maxListedReason)
	return d
}

// decisionSize is the JSON size of d in the result.
func decisionSize(d Record) int {
	b, _ := json.Marshal(d) // strings only: cannot fail
	return len(b) + 1
}

// shorten cuts s to about max bytes (on a UTF-8 boundary), saying how much
// was left out.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s[... %d bytes]", s[:cut], len(s)-cut)
}
