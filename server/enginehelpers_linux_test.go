package server

import (
	"log/slog"
	"os"
	"testing"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testbin"
	"github.com/execgate/execgate/internal/testhelp"
)

// The server's tests of calls run the real engine: the execgate binary
// (built once per test process; the wrapper is a symlink to it) as sandbox
// helper and wrapper, the patched Bash, the real sandbox and escalate
// session, behind the real MCP front end.

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// testEngine is an engine over a private configuration home holding rules.
type testEngine struct {
	*engine.Engine
	home string
	opts *engine.Options
}

// newTestEngine builds an engine whose configuration home (EXECGATE_HOME)
// holds rules as rules/test.rules; edit may change the options first.
func newTestEngine(t testing.TB, rules string, edit func(*engine.Options)) *testEngine {
	t.Helper()
	return newTestEngineWith(t, testhelp.Execgate(t), rules, edit)
}

// newTestEngineWith is newTestEngine with self as the execgate binary.
func newTestEngineWith(t testing.TB, self, rules string, edit func(*engine.Options)) *testEngine {
	t.Helper()
	return newTestEngineLog(t, self, rules, edit, testhelp.Logger(nil))
}

// newTestEngineLog is newTestEngineWith logging the engine's messages to log.
func newTestEngineLog(t testing.TB, self, rules string, edit func(*engine.Options), log *slog.Logger) *testEngine {
	t.Helper()
	home := testhelp.RulesHome(t, rules)
	t.Setenv("EXECGATE_HOME", home)
	opts := engine.DefaultOptions()
	opts.Bash = testbash.Path(t)
	opts.Explicit["bash"] = true
	opts.Executable = self
	if edit != nil {
		edit(opts)
	}
	e, err := engine.New(opts, log)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return &testEngine{Engine: e, home: home, opts: opts}
}
