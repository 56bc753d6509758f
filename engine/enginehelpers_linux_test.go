package engine

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
	"github.com/execgate/execgate/internal/testhelp"
)

// The engine tests run the real thing: the execgate binary (built once per
// test process, static, as `make build` builds it; the wrapper is a symlink
// to it) as sandbox helper and wrapper, the patched Bash, the real sandbox
// and escalate session.

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// testEngine is an engine over a private configuration home holding rules.
type testEngine struct {
	*Engine
	home string
	opts *Options
}

// newTestEngine builds an engine whose configuration home (EXECGATE_HOME)
// holds rules as rules/test.rules; edit may change the options first.
func newTestEngine(t testing.TB, rules string, edit func(*Options)) *testEngine {
	t.Helper()
	return newTestEngineWith(t, testhelp.Execgate(t), rules, edit)
}

// newTestEngineWith is newTestEngine with self as the execgate binary.
func newTestEngineWith(t testing.TB, self, rules string, edit func(*Options)) *testEngine {
	t.Helper()
	return newTestEngineLog(t, self, rules, edit, testhelp.Logger(nil))
}

// newTestEngineLog is newTestEngineWith logging the engine's messages to log.
func newTestEngineLog(t testing.TB, self, rules string, edit func(*Options), log *slog.Logger) *testEngine {
	t.Helper()
	home := testhelp.RulesHome(t, rules)
	t.Setenv("EXECGATE_HOME", home)
	opts := DefaultOptions()
	opts.Bash = testbash.Path(t)
	opts.Explicit["bash"] = true
	if edit != nil {
		edit(opts)
	}
	e, err := newEngine(opts, log, self)
	if err != nil {
		t.Fatalf("newEngine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return &testEngine{Engine: e, home: home, opts: opts}
}

// shell runs command in workdir as a tools/call of the shell tool would,
// with the workspace roots ws and nobody to ask (the tests of prompts go
// through the MCP front end, in the server package), and returns the
// structured result.
func (te *testEngine) shell(t *testing.T, command, workdir string, ws ...string) ShellOutput {
	t.Helper()
	log := testhelp.Logger(t)
	res, err := Execute(context.Background(), te, te.opts, NewDecisionLog(log, nil), Request{
		ID: "t", Command: command, Workdir: workdir, Timeout: te.opts.Timeout,
		Mode: te.opts.Sandbox, Workspace: ws, Prompter: NoPrompter{},
	})
	if err != nil {
		t.Fatalf("call %q: %v", command, err)
	}
	return res.Structured()
}

// trivialCall runs one /bin/true in workdir ws with the engine's defaults
// and returns only the error: what the tests of an engine refusing to
// start a call look at.
func (te *testEngine) trivialCall(ws string) error {
	_, err := Execute(context.Background(), te, te.opts, nil, Request{ID: "t", Command: "/bin/true", Workdir: ws, Workspace: []string{ws}})
	return err
}
