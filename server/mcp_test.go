package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/buildinfo"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/server/stdio"
)

// scriptEngine stands in for the execution engine, which lives outside this
// package's reach until the glue lands: it runs the script with plain Bash
// (no sandbox) through RunProcess, and understands two test commands:
//   - "ask PROG ARGS...": prompt for that exec through call.Ask, record
//     the decision, and print what the wrapper would;
//   - "state": print the sandbox state and workspace the call received.
type scriptEngine struct{}

func (scriptEngine) Exec(ctx context.Context, call *engine.Call) (engine.Outcome, error) {
	switch {
	case strings.HasPrefix(call.Command, "ask "):
		argv := strings.Fields(strings.TrimPrefix(call.Command, "ask "))
		ans, ok := call.Ask(ctx, engine.PromptRequest{Command: argv, Workdir: call.Workdir, Rule: "test.rules:1", Justification: "test rule"})
		d := engine.Record{Program: argv[0], Argv: argv, Rule: "test.rules:1", Reason: ans.Reason}
		if !ok {
			d.Decision = escalate.Deny
			call.Decisions.Record(d)
			fmt.Fprintf(call.Output, "Execution denied: %s\n", ans.Reason)
			return engine.Outcome{ExitCode: 1}, nil
		}
		d.Decision = escalate.Escalate
		call.Decisions.Record(d)
		fmt.Fprintf(call.Output, "ran (%s)\n", ans.Answer)
		return engine.Outcome{}, nil
	case call.Command == "state":
		b, _ := json.Marshal(map[string]any{"mode": call.Mode, "sandbox": call.Sandbox, "workspace": call.Workspace, "login": call.Login})
		call.Output.Write(b)
		return engine.Outcome{}, nil
	}
	// Never a login shell here: this machine's profile files are slow and
	// not what these tests are about (call.Login is reported by "state").
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", call.Command)
	cmd.Dir = call.Workdir
	return RunProcess(ctx, cmd, call.Output, call.Budget, engine.DefaultGrace)
}

type harness struct {
	srv    *mcpServer
	client *mcp.Client
	cs     *mcp.ClientSession
	opts   *engine.Options
}

// testProtocol is what Codex and Claude Code speak; the go-sdk client would
// otherwise ask for 2026-07-28, where a server cannot elicit during a call.
const testProtocol = "2025-06-18"

func newHarness(t *testing.T, opts *engine.Options, eng engine.Executor, copts *mcp.ClientOptions, roots ...string) *harness {
	return newHarnessVersion(t, testProtocol, opts, eng, copts, roots...)
}

func newHarnessVersion(t *testing.T, version string, opts *engine.Options, eng engine.Executor, copts *mcp.ClientOptions, roots ...string) *harness {
	t.Helper()
	if opts == nil {
		opts = engine.DefaultOptions()
	}
	log := testhelp.Logger(t)
	srv, err := newServer(opts, eng, log, engine.NewDecisionLog(log, nil))
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx, st); close(done) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "0"}, copts)
	for _, r := range roots {
		//lint:ignore SA1019 the server supports clients that send roots
		client.AddRoots(&mcp.Root{URI: "file://" + r})
	}
	if err := mcp.AddSendingCustomMethod[*rawParams, *emptyResult](client, sandboxStateMethod); err != nil {
		t.Fatal(err)
	}
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); cancel(); <-done })
	return &harness{srv: srv, client: client, cs: cs, opts: opts}
}

// rawParams sends Body verbatim as a custom method's params.
type rawParams struct {
	mcp.ParamsBase
	Body json.RawMessage
}

func (p *rawParams) MarshalJSON() ([]byte, error) { return p.Body, nil }

type emptyResult struct{ mcp.ResultBase }

func (h *harness) call(t *testing.T, args map[string]any, meta mcp.Meta) *mcp.CallToolResult {
	t.Helper()
	res, err := h.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: args, Meta: meta})
	if err != nil {
		t.Fatalf("tools/call: %v", err)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// structured decodes a successful result, checking the Codex text agrees.
func structured(t *testing.T, res *mcp.CallToolResult) engine.ShellOutput {
	t.Helper()
	if res.IsError {
		t.Fatalf("unexpected tool error: %s", text(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var out engine.ShellOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("structuredContent %s: %v", raw, err)
	}
	var codex struct {
		ExitCode int    `json:"exit_code"`
		Output   string `json:"output"`
		Duration struct {
			Secs  uint64 `json:"secs"`
			Nanos uint32 `json:"nanos"`
		} `json:"duration"`
		TimedOut bool `json:"timed_out"`
	}
	if err := json.Unmarshal([]byte(text(res)), &codex); err != nil {
		t.Fatalf("text content %q is not Codex JSON: %v", text(res), err)
	}
	if codex.ExitCode != out.ExitCode || codex.Output != out.Output || codex.TimedOut != out.TimedOut ||
		codex.Duration.Secs != out.Duration.Secs || codex.Duration.Nanos != out.Duration.Nanos {
		t.Errorf("text %s disagrees with structuredContent %s", text(res), raw)
	}
	return out
}

func TestInitializeAndListTools(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	init := h.cs.InitializeResult()
	if init.ServerInfo.Name != "execgate" || init.ServerInfo.Version != buildinfo.Current() {
		t.Errorf("serverInfo = %+v", init.ServerInfo)
	}
	caps := init.Capabilities
	// Tools, and no logging: the server sends no log notifications.
	if raw, _ := json.Marshal(caps); caps.Tools == nil || strings.Contains(string(raw), `"logging"`) {
		t.Errorf("capabilities = %s, want tools and no logging", raw)
	}
	exp, _ := json.Marshal(caps.Experimental)
	if string(exp) != `{"codex/sandbox-state":{"version":"1.0.0"},"codex/sandbox-state-meta":{"version":"1.0.0"}}` {
		t.Errorf("experimental = %s", exp)
	}
	tools, err := h.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 1 || tools.Tools[0].Name != "shell" {
		t.Fatalf("tools = %+v", tools.Tools)
	}
	tool := tools.Tools[0]
	in, _ := json.Marshal(tool.InputSchema)
	var schema struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
		Additional json.RawMessage            `json:"additionalProperties"`
	}
	json.Unmarshal(in, &schema)
	if strings.Join(schema.Required, ",") != "command,workdir" {
		t.Errorf("required = %v", schema.Required)
	}
	for _, p := range []string{"command", "workdir", "timeout_ms", "login"} {
		if !strings.Contains(string(schema.Properties[p]), `"description"`) {
			t.Errorf("property %s lacks a description: %s", p, schema.Properties[p])
		}
	}
	if !strings.Contains(string(schema.Properties["login"]), `"default":true`) {
		t.Errorf("login lacks default true: %s", schema.Properties["login"])
	}
	out, _ := json.Marshal(tool.OutputSchema)
	for _, f := range []string{"exit_code", "output", "duration", "duration_ms", "timed_out", "decisions", "note"} {
		if !strings.Contains(string(out), `"`+f+`"`) {
			t.Errorf("output schema lacks %s: %s", f, out)
		}
	}
	if tool.Description == "" {
		t.Error("no tool description")
	}
}

func TestShellCall(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     map[string]any
		wantCode int
		wantOut  string
	}{
		{"exit code and both streams", map[string]any{"command": "echo out; echo err >&2; exit 3", "workdir": dir}, 3, "out\nerr\n"},
		{"invalid UTF-8 replaced", map[string]any{"command": `printf 'a\377b'`, "workdir": dir}, 0, "a\uFFFDb"},
		{"runs in workdir", map[string]any{"command": "pwd", "workdir": dir, "login": false}, 0, dir + "\n"},
		{"html-ish text", map[string]any{"command": "echo '<a & b>'", "workdir": dir}, 0, "<a & b>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(t, tt.args, nil)
			out := structured(t, res)
			if out.ExitCode != tt.wantCode || out.Output != tt.wantOut || out.TimedOut {
				t.Errorf("got %+v, want code %d output %q", out, tt.wantCode, tt.wantOut)
			}
			if !strings.HasPrefix(text(res), fmt.Sprintf(`{"exit_code":%d,"output":`, tt.wantCode)) || !strings.HasSuffix(text(res), `"timed_out":false}`) {
				t.Errorf("Codex text shape: %s", text(res))
			}
			if out.Decisions == nil {
				t.Error("decisions is null, want []")
			}
		})
	}
}

func TestShellArgumentErrors(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	tests := []struct {
		name string
		args map[string]any
		want []string // substrings of the error text
	}{
		{"missing command", map[string]any{"workdir": dir}, []string{"command"}},
		{"missing workdir", map[string]any{"command": "true"}, []string{"workdir"}},
		{"command not a string", map[string]any{"command": 5, "workdir": dir}, []string{"command"}},
		{"empty command", map[string]any{"command": "", "workdir": dir}, []string{"command"}},
		{"timeout not an integer", map[string]any{"command": "true", "workdir": dir, "timeout_ms": "soon"}, []string{"timeout_ms"}},
		{"timeout zero", map[string]any{"command": "true", "workdir": dir, "timeout_ms": 0}, []string{"timeout_ms"}},
		{"login not a bool", map[string]any{"command": "true", "workdir": dir, "login": "yes"}, []string{"login"}},
		{"unknown argument", map[string]any{"command": "true", "workdir": dir, "cwd": dir}, []string{"cwd"}},
		{"relative workdir", map[string]any{"command": "true", "workdir": "src"}, []string{"workdir", `"src"`, "not an absolute path"}},
		{"missing directory", map[string]any{"command": "true", "workdir": dir + "/nope"}, []string{"workdir", dir + "/nope", "no such file"}},
		{"workdir is a file", map[string]any{"command": "true", "workdir": file}, []string{"workdir", file, "not a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(t, tt.args, nil)
			if !res.IsError {
				t.Fatalf("no error; result %s", text(res))
			}
			for _, w := range tt.want {
				if !strings.Contains(text(res), w) {
					t.Errorf("error %q does not mention %q", text(res), w)
				}
			}
		})
	}
	_, err := h.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "bash", Arguments: map[string]any{}})
	if err == nil || !strings.Contains(err.Error(), "bash") {
		t.Errorf("unknown tool: err = %v, want an error naming it", err)
	}
}

func TestTimeoutOverMCP(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	start := time.Now()
	res := h.call(t, map[string]any{"command": "echo partial; sleep 30", "workdir": t.TempDir(), "timeout_ms": 300, "login": false}, nil)
	out := structured(t, res)
	if !out.TimedOut || out.Output != "partial\n" {
		t.Errorf("got %+v, want timed out with partial output", out)
	}
	if d := time.Since(start); d > 1300*time.Millisecond {
		t.Errorf("timed-out call took %v", d)
	}
	if !strings.Contains(text(res), `"timed_out":true`) {
		t.Errorf("Codex text: %s", text(res))
	}
}

func TestCancellationKillsTheCall(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{
		"command": "sleep 30 & echo $! > " + pidFile + "; wait", "workdir": t.TempDir(), "login": false,
	}})
	if err == nil {
		t.Fatal("cancelled call returned no error")
	}
	testhelp.WaitGone(t, pidFile)
}

// elicitClient answers every elicitation with answer (after delay), and
// records the messages it was shown.
type elicitClient struct {
	mu       sync.Mutex
	messages []string
	delay    time.Duration
	answer   func(msg string) *mcp.ElicitResult
}

func (e *elicitClient) handle(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	e.mu.Lock()
	e.messages = append(e.messages, req.Params.Message)
	e.mu.Unlock()
	select {
	case <-time.After(e.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.answer(req.Params.Message), nil
}

func TestPrompts(t *testing.T) {
	accept := func(content map[string]any) func(string) *mcp.ElicitResult {
		return func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "accept", Content: content} }
	}
	tests := []struct {
		name       string
		noElicit   bool
		protocol   string
		answer     func(string) *mcp.ElicitResult
		delay      time.Duration
		promptTO   time.Duration
		timeoutMs  int
		wantCode   int
		wantOut    string
		wantVerd   escalate.Action
		wantReason string
	}{
		{name: "allow once", answer: accept(map[string]any{"decision": "allow_once"}), wantOut: "ran (allow once)\n", wantVerd: escalate.Escalate},
		{name: "always allow", answer: accept(map[string]any{"decision": "always_allow"}), wantOut: "ran (always allow)\n", wantVerd: escalate.Escalate},
		{name: "accept without content", answer: accept(nil), wantOut: "ran (allow once)\n", wantVerd: escalate.Escalate},
		{name: "accept with empty content", answer: accept(map[string]any{}), wantOut: "ran (allow once)\n", wantVerd: escalate.Escalate},
		{name: "deny choice with reason", answer: accept(map[string]any{"decision": "deny", "reason": "use --dry-run"}),
			wantCode: 1, wantOut: "Execution denied: user denied execution: use --dry-run\n", wantVerd: escalate.Deny, wantReason: "user denied execution: use --dry-run"},
		{name: "decline", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "decline"} }, delay: humanDelay + 100*time.Millisecond,
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "user declined execution"},
		{name: "cancel", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "cancel"} }, delay: humanDelay + 100*time.Millisecond,
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "user cancelled execution"},
		{name: "decline at once is the client's", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "decline"} },
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "the client declined to ask the user (it declined the prompt after "},
		{name: "cancel at once is the client's", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "cancel"} },
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "the client declined to ask the user (it cancelled the prompt after "},
		{name: "bad content fails closed", answer: accept(map[string]any{"decision": "sudo"}),
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "could not ask the user: elicitation:"},
		{name: "no elicitation capability", noElicit: true, wantCode: 1, wantVerd: escalate.Deny,
			wantReason: "approval needed but the MCP client cannot prompt (no elicitation capability); the rule at test.rules:1 requires approval"},
		{name: "MRTR-only protocol", protocol: "2026-07-28", answer: accept(nil), wantCode: 1, wantVerd: escalate.Deny,
			wantReason: "approval needed but the MCP client's protocol 2026-07-28 does not allow prompting during a call; the rule at test.rules:1"},
		{name: "prompt expires", answer: accept(nil), delay: time.Hour, promptTO: 200 * time.Millisecond,
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "no answer to the approval prompt within 200ms"},
		{name: "timeout paused while asking", answer: accept(nil), delay: 600 * time.Millisecond, timeoutMs: 300,
			wantOut: "ran (allow once)\n", wantVerd: escalate.Escalate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec := &elicitClient{answer: tt.answer, delay: tt.delay}
			copts := &mcp.ClientOptions{ElicitationHandler: ec.handle}
			if tt.noElicit {
				copts = nil
			}
			opts := engine.DefaultOptions()
			if tt.promptTO > 0 {
				opts.PromptTimeout = tt.promptTO
			}
			if tt.protocol == "" {
				tt.protocol = testProtocol
			}
			h := newHarnessVersion(t, tt.protocol, opts, scriptEngine{}, copts)
			args := map[string]any{"command": "ask /usr/bin/git push origin main", "workdir": "/"}
			if tt.timeoutMs > 0 {
				args["timeout_ms"] = tt.timeoutMs
			}
			out := structured(t, h.call(t, args, nil))
			if out.ExitCode != tt.wantCode || (tt.wantOut != "" && out.Output != tt.wantOut) || out.TimedOut {
				t.Errorf("got code %d output %q timedOut %v; want %d %q", out.ExitCode, out.Output, out.TimedOut, tt.wantCode, tt.wantOut)
			}
			if len(out.Decisions) != 1 {
				t.Fatalf("decisions = %+v", out.Decisions)
			}
			d := out.Decisions[0]
			if d.Decision != tt.wantVerd || !strings.HasPrefix(d.Reason, tt.wantReason) {
				t.Errorf("decision %+v, want %s with reason %q", d, tt.wantVerd, tt.wantReason)
			}
			if !tt.noElicit && tt.protocol == testProtocol {
				ec.mu.Lock()
				defer ec.mu.Unlock()
				if len(ec.messages) != 1 || ec.messages[0] != "Allow the agent to run `/usr/bin/git push origin main` in `/`?\nRule: test.rules:1\nJustification: test rule" {
					t.Errorf("elicitation messages %q", ec.messages)
				}
			}
		})
	}
}

func TestConcurrentCallsAreIndependent(t *testing.T) {
	ec := &elicitClient{answer: func(msg string) *mcp.ElicitResult {
		if strings.Contains(msg, "allowed") {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "allow_once"}}
		}
		return &mcp.ElicitResult{Action: "decline"}
	}, delay: humanDelay + 50*time.Millisecond} // a person's decline, not the client's
	h := newHarness(t, nil, scriptEngine{}, &mcp.ClientOptions{ElicitationHandler: ec.handle})
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			var cmd, want string
			var code int
			switch i % 3 {
			case 0:
				cmd, want = fmt.Sprintf("sleep 0.1; echo call %d", i), fmt.Sprintf("call %d\n", i)
			case 1:
				cmd, want = fmt.Sprintf("ask /bin/allowed %d", i), "ran (allow once)\n"
			case 2:
				cmd, want, code = fmt.Sprintf("ask /bin/refused %d", i), "Execution denied: user declined execution\n", 1
			}
			res, err := h.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": cmd, "workdir": dir, "login": false}})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			out := structured(t, res)
			if out.Output != want || out.ExitCode != code {
				t.Errorf("call %d: got %d %q, want %d %q", i, out.ExitCode, out.Output, code, want)
			}
			if i%3 != 0 && (len(out.Decisions) != 1 || out.Decisions[0].Argv[1] != fmt.Sprint(i)) {
				t.Errorf("call %d got decisions of another call: %+v", i, out.Decisions)
			}
		})
	}
	wg.Wait()
}

func TestClientDisconnectKillsCalls(t *testing.T) {
	log := testhelp.Logger(t)
	srv, err := newServer(engine.DefaultOptions(), scriptEngine{}, log, engine.NewDecisionLog(log, nil))
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go io.Copy(io.Discard, outR)
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background(), &stdio.Transport{Reader: inR, Writer: outW}) }()
	pidFile := filepath.Join(t.TempDir(), "pid")
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"command":"sleep 30 & echo $! > ` + pidFile + `; wait","workdir":"/","login":false}}}`,
	} {
		io.WriteString(inW, line+"\n")
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(pidFile); err == nil && len(data) > 0 && data[len(data)-1] == '\n' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("call never started")
		}
	}
	start := time.Now()
	inW.Close() // the client goes away
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil at end of input", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the client disconnected")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	testhelp.WaitGone(t, pidFile)
}

func TestFiftyMegabytesThroughACall(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	out := structured(t, h.call(t, map[string]any{
		"command": "echo BEGIN; head -c 52428800 /dev/zero | tr '\\0' x; echo; echo END", "workdir": "/", "login": false, "timeout_ms": 60000,
	}, nil))
	if out.ExitCode != 0 || out.TimedOut {
		t.Fatalf("exit %d timedOut %v", out.ExitCode, out.TimedOut)
	}
	if !strings.HasPrefix(out.Output, "BEGIN\nxxx") || !strings.HasSuffix(out.Output, "xxx\nEND\n") {
		t.Errorf("head or tail lost: %q ... %q", out.Output[:10], out.Output[len(out.Output)-10:])
	}
	if !strings.Contains(out.Output, " bytes omitted ...]\n") || len(out.Output) > h.opts.MaxOutput+100 {
		t.Errorf("output of %d bytes not capped at %d with a marker", len(out.Output), h.opts.MaxOutput)
	}
}
