//go:build !unix

package server

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"time"
)

// DefaultGrace is how long RunProcess waits for background processes.
const DefaultGrace = 250 * time.Millisecond

// NoteBackgroundKilled is the Outcome.Note when background processes were killed.
const NoteBackgroundKilled = "the script exited but background processes kept its output open; they were killed"

// RunProcess is not supported here: process groups are a Unix notion.
func RunProcess(context.Context, *exec.Cmd, io.Writer, *Budget, time.Duration) (Outcome, error) {
	return Outcome{}, errors.New("running shell calls is only supported on Unix")
}
