package escalate_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"

	"github.com/execgate/execgate/escalate"
)

// A tool call wires a session to a shell like this: the child end becomes
// fd 3 of the shell, the session serves until the shell is done, and
// cancelling it kills whatever escalated command is left.
func ExampleSession() {
	decide := escalate.DeciderFunc(func(ctx context.Context, e escalate.Exec) escalate.Decision {
		if e.File == "/usr/bin/git" && len(e.Argv) > 1 && e.Argv[1] == "push" {
			return escalate.Decision{Action: escalate.Deny, Reason: "no pushing from here"}
		}
		return escalate.Decision{Action: escalate.Run}
	})
	s, err := escalate.NewSession(decide, escalate.Options{
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, nil)),
		OnDecision: func(r escalate.Record) { /* keep r for the tool result */ },
	})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()

	cmd := exec.Command("/path/to/patched/bash", "-c", "git status")
	cmd.ExtraFiles = []*os.File{s.ChildFile()}
	cmd.Env = append(os.Environ(), escalate.ShellEnv(3, "/path/to/codex-execve-wrapper")...)
	err = cmd.Start()
	s.CloseChild()
	if err == nil {
		cmd.Wait()
	}
	cancel()
	<-served
}
