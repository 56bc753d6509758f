package engine

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// MaxCommandBytes bounds a call's script. Far above what a model writes in
// one call; content beyond it belongs in a file written over several
// calls.
const MaxCommandBytes = 1 << 20

// argvScriptMax is the largest script passed as Bash's -c argument. The
// kernel limits one argument to 128 KiB (MAX_ARG_STRLEN) and all of argv
// and the environment together to a quarter of the stack limit (ARG_MAX):
// a longer script goes to Bash on a pipe instead (scriptOnStdin).
const argvScriptMax = 64 << 10

// scriptOnStdin is the -c argument that runs the script written to Bash's
// stdin. The command substitution reads the whole script before eval runs
// it, and eval's stdin is /dev/null, as a -c script's is: commands of the
// script cannot read the script's own text. It keeps what `bash -c SCRIPT`
// gives a script ($0 is Bash, `exit` ends the shell, each command is parsed
// after the previous one ran); BASH_EXECUTION_STRING is this line rather
// than the script.
const scriptOnStdin = `eval "$(</dev/stdin)" </dev/null`

// checkCommand refuses a script Bash could not run as given, naming why.
func checkCommand(cmd string) error {
	if len(cmd) > MaxCommandBytes {
		return fmt.Errorf("command: %d bytes, over the limit of %d bytes; write large content to a file in several calls", len(cmd), MaxCommandBytes)
	}
	if i := bytes.IndexByte([]byte(cmd), 0); i >= 0 {
		return fmt.Errorf("command: holds a NUL byte at offset %d, which Bash cannot take in a script; write binary data with printf '\\0' or read it from a file", i)
	}
	return nil
}

// bashArgs returns the arguments after Bash's path for running script
// (flag is -c or -lc), and the file to give Bash as stdin: nil for
// /dev/null, else the read end of a pipe a goroutine is writing the script
// to. The caller closes stdin when the call is over; the goroutine ends
// when the script is written or no reader is left.
func bashArgs(flag, script string) (args []string, stdin *os.File, err error) {
	if len(script) <= argvScriptMax {
		return []string{flag, script}, nil, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("script pipe: %w", err)
	}
	go func() {
		defer pw.Close()
		_, _ = io.WriteString(pw, script) // fails only when Bash is gone
	}()
	return []string{flag, scriptOnStdin}, pr, nil
}
