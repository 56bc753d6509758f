package engine

import "time"

// ExitTimeout is the exit status of a call that hit its timeout, as
// timeout(1) exits.
const ExitTimeout = 124

// DefaultGrace is how long a call waits, after the script exits, for
// processes it left in the background to close the output pipe.
const DefaultGrace = 250 * time.Millisecond

// NoteBackgroundKilled is the Outcome.Note when processes still holding the
// output after the script exited had to be killed.
const NoteBackgroundKilled = "the script exited but background processes kept its output open; they were killed"

// noteNestedBashUnpatched is the Outcome.Note of a sandboxed call on a
// machine without user namespaces: the sandbox cannot mount the patched Bash
// over the system's, so a Bash the script starts itself does not ask the
// server before it runs a program. What still decides those programs
// depends on the call's kernel gate (see nestedBashNote).
const noteNestedBashUnpatched = "nested Bash (bash -c, /bin/bash, #!/bin/bash scripts) is the system's unpatched Bash here " +
	"(no user namespaces): "

// nestedBashNote is noteNestedBashUnpatched completed with what the rules
// still do to the programs such a Bash starts: with the kernel gate they
// are checked as any program another program starts (forbidden and prompt
// rules hold), but only the shell's own program starts can be escalated.
func nestedBashNote(gated bool) string {
	if gated {
		return noteNestedBashUnpatched + "the kernel gate applies the rules to the programs it starts, but allow rules do not escalate them (they run in the sandbox)"
	}
	return noteNestedBashUnpatched + "the rules do not decide the programs it starts, and allow rules do not escalate them"
}
