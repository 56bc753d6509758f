package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestEngineDecisions(t *testing.T) {
	out := testhelp.PrivateDir(t)
	te := newTestEngine(t, testhelp.EngineRules(out), nil)
	if err := os.WriteFile(filepath.Join(out, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	tests := []struct {
		name     string
		command  string
		wantCode int
		wantOut  []string
		wantVerd []escalate.Action // of the decisions, in order
		check    func(t *testing.T)
	}{
		{name: "allow rule runs outside the sandbox", command: "touch " + out + "/allowed && echo done",
			wantOut: []string{"done\n"}, wantVerd: []escalate.Action{escalate.Escalate},
			check: func(t *testing.T) {
				if !testhelp.Exists(filepath.Join(out, "allowed")) {
					t.Error("the escalated touch did not write outside the writable roots")
				}
			}},
		{name: "unmatched runs sandboxed", command: "touch " + out + "/other", wantCode: 1,
			wantOut: []string{"cannot touch"}, wantVerd: []escalate.Action{escalate.Run},
			check: func(t *testing.T) {
				if testhelp.Exists(filepath.Join(out, "other")) {
					t.Error("the sandboxed touch wrote outside the writable roots")
				}
			}},
		{name: "forbidden is denied", command: "rm " + out + "/keep", wantCode: 1,
			wantOut: []string{"Execution denied: keep it\n"}, wantVerd: []escalate.Action{escalate.Deny},
			check: func(t *testing.T) {
				if !testhelp.Exists(filepath.Join(out, "keep")) {
					t.Error("the forbidden rm ran")
				}
			}},
		{name: "workspace is writable", command: "echo hi > " + ws + "/f && cat " + ws + "/f",
			wantOut: []string{"hi\n"}, wantVerd: []escalate.Action{escalate.Run}},
		{name: "dangerous command runs confined without a prompt", command: "mkdir " + ws + "/d && rm -rf " + ws + "/d && echo gone",
			wantOut: []string{"gone\n"}, wantVerd: []escalate.Action{escalate.Run, escalate.Run}},
		{name: "exit status passes through", command: "/bin/false || exit 7", wantCode: 7, wantVerd: []escalate.Action{escalate.Run}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := structured(t, h.call(t, map[string]any{"command": tt.command, "workdir": ws, "login": false}, nil))
			if res.ExitCode != tt.wantCode || res.TimedOut {
				t.Errorf("exit %d timedOut %v, want %d (output %q)", res.ExitCode, res.TimedOut, tt.wantCode, res.Output)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(res.Output, w) {
					t.Errorf("output %q lacks %q", res.Output, w)
				}
			}
			var got []escalate.Action
			for _, d := range res.Decisions {
				got = append(got, d.Decision)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantVerd) {
				t.Errorf("decisions %+v, want %v", res.Decisions, tt.wantVerd)
			}
			for _, d := range res.Decisions {
				if d.Decision == escalate.Escalate && !strings.HasPrefix(d.Rule, te.home) {
					t.Errorf("escalation without its rule: %+v", d)
				}
				if !filepath.IsAbs(d.Program) {
					t.Errorf("program %q is not the resolved path", d.Program)
				}
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

func TestEnginePrompts(t *testing.T) {
	accept := func(choice string) func(string) *mcp.ElicitResult {
		return func(string) *mcp.ElicitResult {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": choice}}
		}
	}
	tests := []struct {
		name       string
		noElicit   bool
		answer     func(string) *mcp.ElicitResult
		delay      time.Duration
		wantCode   int
		wantVerd   escalate.Action
		wantReason string
	}{
		{name: "allow once escalates", answer: accept("allow_once"), wantVerd: escalate.Escalate},
		{name: "always allow escalates", answer: accept("always_allow"), wantVerd: escalate.Escalate},
		{name: "deny choice", answer: accept("deny"), wantCode: 1, wantVerd: escalate.Deny, wantReason: "user denied execution"},
		{name: "decline", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "decline"} }, delay: humanDelay + 100*time.Millisecond,
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "user declined execution"},
		{name: "cancel", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "cancel"} }, delay: humanDelay + 100*time.Millisecond,
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "user cancelled execution"},
		{name: "decline at once", answer: func(string) *mcp.ElicitResult { return &mcp.ElicitResult{Action: "decline"} },
			wantCode: 1, wantVerd: escalate.Deny, wantReason: "the client declined to ask the user"},
		{name: "client without elicitation", noElicit: true, wantCode: 1, wantVerd: escalate.Deny,
			wantReason: "approval needed but the MCP client cannot prompt (no elicitation capability); the rule at "},
		{name: "never answered", answer: accept("allow_once"), delay: time.Hour, wantCode: 1, wantVerd: escalate.Deny,
			wantReason: "no answer to the approval prompt within 1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := testhelp.PrivateDir(t)
			// Longer than a person's decline (humanDelay) takes.
			te := newTestEngine(t, testhelp.EngineRules(out), func(o *engine.Options) { o.PromptTimeout = 1500 * time.Millisecond })
			ec := &elicitClient{answer: tt.answer, delay: tt.delay}
			copts := &mcp.ClientOptions{ElicitationHandler: ec.handle}
			if tt.noElicit {
				copts = nil
			}
			ws := t.TempDir()
			h := newHarness(t, te.opts, te, copts, ws)
			target := filepath.Join(out, "prompted")
			res := structured(t, h.call(t, map[string]any{"command": "touch " + target, "workdir": ws, "login": false}, nil))
			if res.ExitCode != tt.wantCode {
				t.Errorf("exit %d, want %d (output %q)", res.ExitCode, tt.wantCode, res.Output)
			}
			if len(res.Decisions) != 1 {
				t.Fatalf("decisions %+v", res.Decisions)
			}
			d := res.Decisions[0]
			if d.Decision != tt.wantVerd || !strings.HasPrefix(d.Reason, tt.wantReason) || !strings.Contains(d.Rule, "test.rules:3:") {
				t.Errorf("decision %+v, want %s, reason %q, rule test.rules:3", d, tt.wantVerd, tt.wantReason)
			}
			if got := testhelp.Exists(target); got != (tt.wantVerd == escalate.Escalate) {
				t.Errorf("%s exists = %v after %s", target, got, d.Decision)
			}
			if tt.wantVerd == escalate.Deny && !strings.Contains(res.Output, "Execution denied: "+tt.wantReason) {
				t.Errorf("output %q lacks the denial", res.Output)
			}
			if !tt.noElicit {
				ec.mu.Lock()
				msgs := ec.messages
				ec.mu.Unlock()
				if len(msgs) != 1 || !strings.Contains(msgs[0], "`/usr/bin/touch "+target+"`") || !strings.Contains(msgs[0], "Justification: needs a human") {
					t.Errorf("elicitation messages %q", msgs)
				}
			}
		})
	}
}

// "Always allow" on a dangerous command an allow rule does not name writes
// an allow rule for its prefix; on a prompt rule (which no allow rule can
// outrank) it holds for the server's lifetime. Either way the next call
// does not ask.
func TestEngineAlwaysAllow(t *testing.T) {
	out := testhelp.PrivateDir(t)
	te := newTestEngine(t, testhelp.EngineRules(out)+`prefix_rule(pattern=["rm"], decision="allow")`+"\n", nil)
	ec := &elicitClient{answer: func(string) *mcp.ElicitResult {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "always_allow"}}
	}}
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, &mcp.ClientOptions{ElicitationHandler: ec.handle}, ws)
	tests := []struct {
		name            string
		first, second   string // the commands of the first and second call
		first1, second2 escalate.Action
	}{
		{"dangerous command, allow rule not naming it", "rm -f " + filepath.Join(out, "victim"), "rm -f " + filepath.Join(out, "other"), escalate.Escalate, escalate.Escalate},
		{"prompt rule", "touch " + filepath.Join(out, "prompted"), "touch " + filepath.Join(out, "prompted"), escalate.Escalate, escalate.Escalate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec.mu.Lock()
			ec.messages = nil
			ec.mu.Unlock()
			for i, c := range []struct {
				command string
				want    escalate.Action
			}{{tt.first, tt.first1}, {tt.second, tt.second2}} {
				res := structured(t, h.call(t, map[string]any{"command": c.command, "workdir": ws, "login": false}, nil))
				if len(res.Decisions) != 1 || res.Decisions[0].Decision != c.want {
					t.Errorf("call %d: decisions %+v, want %s", i+1, res.Decisions, c.want)
				}
			}
			ec.mu.Lock()
			defer ec.mu.Unlock()
			if len(ec.messages) != 1 {
				t.Errorf("asked %d times, want once: %q", len(ec.messages), ec.messages)
			}
		})
	}
	rules, err := os.ReadFile(filepath.Join(te.home, "rules", "default.rules"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `prefix_rule(pattern=["rm", "-f"], decision="allow")` + "\n"; string(rules) != want {
		t.Errorf("default.rules = %q, want %q", rules, want)
	}
}

func TestEngineSandboxState(t *testing.T) {
	out := testhelp.PrivateDir(t)
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil)
	write := func(t *testing.T, dir string, meta mcp.Meta) engine.ShellOutput {
		t.Helper()
		return structured(t, h.call(t, map[string]any{"command": "echo x > " + dir + "/f && echo wrote", "workdir": ws, "login": false}, meta))
	}
	update := func(t *testing.T, body string) {
		t.Helper()
		if _, err := mcp.CallCustomMethod[*rawParams, *emptyResult](context.Background(), h.cs, sandboxStateMethod, &rawParams{Body: json.RawMessage(body)}); err != nil {
			t.Fatal(err)
		}
	}
	meta := func(policy string) mcp.Meta {
		return mcp.Meta{sandboxStateMetaKey: map[string]any{"sandboxPolicy": json.RawMessage(policy), "sandboxCwd": ws}}
	}

	update(t, `{"sandboxPolicy":{"type":"read-only"},"sandboxCwd":"`+ws+`"}`)
	if r := write(t, ws, nil); r.ExitCode == 0 {
		t.Errorf("read-only state: wrote the workspace: %q", r.Output)
	}
	if r := write(t, ws, meta(`{"type":"workspace-write"}`)); r.ExitCode != 0 {
		t.Errorf("per-call workspace-write: %d %q", r.ExitCode, r.Output)
	}
	if r := write(t, out, meta(`{"type":"workspace_write","writable_roots":["`+out+`"]}`)); r.ExitCode != 0 {
		t.Errorf("per-call writable root (snake_case): %d %q", r.ExitCode, r.Output)
	}
	if r := write(t, out, meta(`{"type":"danger-full-access"}`)); r.ExitCode != 0 {
		t.Errorf("per-call danger-full-access: %d %q", r.ExitCode, r.Output)
	}
	update(t, `{"sandbox_policy":{"type":"workspace-write"},"sandbox_cwd":"`+ws+`"}`)
	if r := write(t, ws, nil); r.ExitCode != 0 {
		t.Errorf("workspace-write state: %d %q", r.ExitCode, r.Output)
	}
	if r := write(t, out, nil); r.ExitCode == 0 {
		t.Errorf("workspace-write state: wrote outside the roots")
	}
	// Refused with an error, and calls then run read-only, not under the
	// previous workspace-write.
	if _, err := mcp.CallCustomMethod[*rawParams, *emptyResult](context.Background(), h.cs, sandboxStateMethod,
		&rawParams{Body: json.RawMessage(`{"sandboxPolicy":{"type":"no-such-mode"},"sandboxCwd":"` + ws + `"}`)}); err == nil || !strings.Contains(err.Error(), "sandboxPolicy") {
		t.Errorf("unknown mode accepted: %v", err)
	}
	if r := write(t, ws, nil); r.ExitCode == 0 {
		t.Errorf("unknown mode did not fall back to read-only: %q", r.Output)
	}
}

// A timeout or a cancellation ends every process of the call: sandboxed,
// setsid'd and escalated ones, and keeps the output so far.
func TestEngineEndsEveryProcess(t *testing.T) {
	marker := testhelp.UniqueMarker(t)
	te := newTestEngine(t, `prefix_rule(pattern=["sleep"], decision="allow")`+"\n", nil)
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	// Escalated: the sleeps run by Bash. Sandboxed: the setsid'd one, the
	// one env starts, the nested Bash's.
	script := fmt.Sprintf("export %s=%s; echo partial; sleep 30 & setsid sleep 31 & /usr/bin/env sleep 32 & bash --norc -c 'sleep 33; :' & sleep 34", testhelp.MarkEnv, marker)
	tests := []struct {
		name   string
		mode   string
		cancel bool
	}{
		{name: "timeout", mode: "workspace-write"},
		// No pid namespace there: the helper's subreaper cleanup.
		{name: "timeout without sandbox", mode: "danger-full-access"},
		{name: "cancellation", mode: "workspace-write", cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := map[string]any{"command": script, "workdir": ws, "login": false, "timeout_ms": 1000}
			meta := mcp.Meta{sandboxStateMetaKey: map[string]any{"sandboxPolicy": map[string]any{"type": tt.mode}, "sandboxCwd": ws}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				args["timeout_ms"] = 60000
				time.AfterFunc(time.Second, cancel)
			}
			start := time.Now()
			res, err := h.cs.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Arguments: args, Meta: meta})
			elapsed := time.Since(start)
			if elapsed > 2*time.Second {
				t.Errorf("call ended after %v, want within timeout + 1s", elapsed)
			}
			if tt.cancel {
				if err == nil {
					t.Errorf("cancelled call returned a result")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				r := structured(t, res)
				if !r.TimedOut || r.ExitCode != engine.ExitTimeout || r.Output != "partial\n" {
					t.Errorf("got %+v, want timed out, exit 124, partial output", r)
				}
			}
			testhelp.AssertNoneLeft(t, marker)
		})
	}
}

// A background job that still holds the output when Bash exits is killed
// after a short grace, and the result says so.
func TestEngineBackgroundJobHoldingOutput(t *testing.T) {
	marker := testhelp.UniqueMarker(t)
	te := newTestEngine(t, `prefix_rule(pattern=["sleep"], decision="allow")`+"\n", nil)
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	start := time.Now()
	r := structured(t, h.call(t, map[string]any{"command": "export " + testhelp.MarkEnv + "=" + marker + "; sleep 30 & sleep 0.2; echo started", "workdir": ws, "login": false}, nil))
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("call took %v", d)
	}
	if r.ExitCode != 0 || r.Output != "started\n" || r.Note != engine.NoteBackgroundKilled || len(r.Decisions) != 2 || r.Decisions[0].Decision != escalate.Escalate {
		t.Errorf("got %+v", r)
	}
	testhelp.AssertNoneLeft(t, marker)
}

// 16 concurrent calls mixing allow, deny, sandboxed and prompted execs each
// get their own result.
func TestEngineConcurrentCalls(t *testing.T) {
	out := testhelp.PrivateDir(t)
	rules := `prefix_rule(pattern=["touch"], decision="allow")
prefix_rule(pattern=["rm"], decision="forbidden", justification="no rm")
prefix_rule(pattern=["mkdir"], decision="prompt")
`
	te := newTestEngine(t, rules, nil)
	ec := &elicitClient{answer: func(msg string) *mcp.ElicitResult {
		if strings.Contains(msg, "yes-") {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "allow_once"}}
		}
		return &mcp.ElicitResult{Action: "decline"}
	}, delay: humanDelay + 20*time.Millisecond} // a person's decline, not the client's
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, &mcp.ClientOptions{ElicitationHandler: ec.handle}, ws)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			var cmd, want string
			var code int
			var verd escalate.Action
			switch i % 4 {
			case 0:
				p := filepath.Join(out, fmt.Sprint("t", i))
				cmd, want, verd = "touch "+p+" && echo touched "+fmt.Sprint(i), fmt.Sprintf("touched %d\n", i), escalate.Escalate
			case 1:
				cmd, want, code, verd = fmt.Sprintf("rm %s/r%d", out, i), "Execution denied: no rm\n", 1, escalate.Deny
			case 2:
				cmd, want, verd = fmt.Sprintf("/bin/echo plain %d", i), fmt.Sprintf("plain %d\n", i), escalate.Run
			case 3:
				if i%8 == 3 {
					cmd, want, verd = fmt.Sprintf("mkdir %s/yes-%d && echo made", out, i), "made\n", escalate.Escalate
				} else {
					cmd, want, code, verd = fmt.Sprintf("mkdir %s/no-%d", out, i), "Execution denied: user declined execution\n", 1, escalate.Deny
				}
			}
			res, err := h.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": cmd, "workdir": ws, "login": false}})
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			r := structured(t, res)
			if r.Output != want || r.ExitCode != code {
				t.Errorf("call %d (%s): got %d %q, want %d %q", i, cmd, r.ExitCode, r.Output, code, want)
			}
			if len(r.Decisions) != 1 || r.Decisions[0].Decision != verd || !strings.Contains(strings.Join(r.Decisions[0].Argv, " "), fmt.Sprint(i)) {
				t.Errorf("call %d: decisions %+v, want one %s of this call", i, r.Decisions, verd)
			}
		})
	}
	wg.Wait()
}

// With dangerous_commands = "ask" (Codex's behaviour) a dangerous command
// no rule covers asks even inside the sandbox, and runs, once approved,
// inside it: the approval is not an escalation.
func TestEngineDangerousAskedRunsSandboxed(t *testing.T) {
	out := testhelp.PrivateDir(t)
	victim := filepath.Join(out, "victim")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	te := newTestEngine(t, "", func(*engine.Options) {
		testhelp.WriteFile(t, filepath.Join(os.Getenv("EXECGATE_HOME"), "config.toml"), "[execgate]\ndangerous_commands = \"ask\"\n")
	})
	ec := &elicitClient{answer: func(string) *mcp.ElicitResult {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "allow_once"}}
	}}
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, &mcp.ClientOptions{ElicitationHandler: ec.handle}, ws)
	r := structured(t, h.call(t, map[string]any{"command": "rm -f " + victim, "workdir": ws, "login": false}, nil))
	if len(r.Decisions) != 1 || r.Decisions[0].Decision != escalate.Run || r.Decisions[0].Rule != "" {
		t.Errorf("decisions %+v, want one run without a rule", r.Decisions)
	}
	if r.ExitCode == 0 || !strings.Contains(r.Output, "cannot remove") || !testhelp.Exists(victim) {
		t.Errorf("the approved rm escaped the sandbox: exit %d %q", r.ExitCode, r.Output)
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.messages) != 1 || !strings.Contains(ec.messages[0], "looks destructive") || !strings.Contains(ec.messages[0], "commands starting `rm -f`") {
		t.Errorf("prompts %q", ec.messages)
	}
}

// A symlink the sandbox can write must not become the path an escalated
// command is run by: in the server's view it leads to a trusted program,
// but the sandbox could re-point it before the command starts. A basename
// rule does not apply through it (the command runs sandboxed); a rule
// naming the link's path is denied, saying why.
func TestEngineRefusesEscalationThroughWritableSymlink(t *testing.T) {
	out := testhelp.PrivateDir(t)
	ws := t.TempDir()
	link := filepath.Join(ws, "touch")
	if err := os.Symlink("/usr/bin/touch", link); err != nil {
		t.Fatal(err)
	}
	te := newTestEngine(t, `prefix_rule(pattern=["touch"], decision="allow")`+"\n"+
		`prefix_rule(pattern=[`+strconv.Quote(link)+`, "-a"], decision="allow")`+"\n", nil)
	h := newHarness(t, te.opts, te, nil, ws)
	target := filepath.Join(out, "x")
	r := structured(t, h.call(t, map[string]any{"command": link + " " + target, "workdir": ws, "login": false}, nil))
	if r.ExitCode == 0 || len(r.Decisions) != 1 || r.Decisions[0].Decision != escalate.Run {
		t.Errorf("basename rule through the link: %d %q %+v", r.ExitCode, r.Output, r.Decisions)
	}
	r = structured(t, h.call(t, map[string]any{"command": link + " -a " + target, "workdir": ws, "login": false}, nil))
	if r.ExitCode != 1 || !strings.Contains(r.Output, "Execution denied: "+link+": reached through the symbolic link "+link+" inside the writable root") {
		t.Errorf("path rule naming the link: %d %q", r.ExitCode, r.Output)
	}
	if testhelp.Exists(target) {
		t.Error("escalated through a writable symlink")
	}
	// The real path is fine.
	r = structured(t, h.call(t, map[string]any{"command": "/usr/bin/touch " + target, "workdir": ws, "login": false}, nil))
	if r.ExitCode != 0 || !testhelp.Exists(target) {
		t.Errorf("by its real path: %d %q", r.ExitCode, r.Output)
	}
}

// "Always allow" answered in one project takes effect in the others' calls
// (and outside any project) without asking again.
func TestEngineProjectAlwaysAllow(t *testing.T) {
	out := testhelp.PrivateDir(t)
	root := testhelp.PrivateDir(t)
	A, B := filepath.Join(root, "A"), filepath.Join(root, "B")
	testhelp.ProjectTree(t, root, []string{"A", "B"}, map[string]string{
		"A/.codex/rules/a.rules": `prefix_rule(pattern=["echo"], decision="forbidden")` + "\n",
		"B/.codex/rules/b.rules": `prefix_rule(pattern=["touch"], decision="allow")` + "\n",
	})
	// rm is allowed, but not rm -f: "always allow" adds that.
	te := newTestEngine(t, `prefix_rule(pattern=["rm"], decision="allow")`+"\n", trustProjects(map[string]string{A: "trusted", B: "trusted"}))
	ec := &elicitClient{answer: func(string) *mcp.ElicitResult {
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"decision": "always_allow"}}
	}}
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, &mcp.ClientOptions{ElicitationHandler: ec.handle}, ws)
	victim := filepath.Join(out, "victim")
	// B's store is loaded before the rule exists.
	if r := structured(t, h.call(t, map[string]any{"command": "/bin/true", "workdir": B, "login": false}, nil)); r.ExitCode != 0 {
		t.Fatalf("warm-up in B: %+v", r)
	}
	for _, dir := range []string{A, B, ws, A} {
		testhelp.WriteFile(t, victim, "")
		r := structured(t, h.call(t, map[string]any{"command": "rm -f " + victim, "workdir": dir, "login": false}, nil))
		if len(r.Decisions) != 1 || r.Decisions[0].Decision != escalate.Escalate || testhelp.Exists(victim) {
			t.Errorf("in %s: decisions %+v, victim exists %v", dir, r.Decisions, testhelp.Exists(victim))
		}
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if len(ec.messages) != 1 {
		t.Errorf("asked %d times, want once: %q", len(ec.messages), ec.messages)
	}
}

// A script Bash cannot take is a tool error saying why, not the text of a
// failed fork/exec.
func TestEngineRefusesUnrunnableScripts(t *testing.T) {
	te := newTestEngine(t, "", nil)
	ws := t.TempDir()
	h := newHarness(t, te.opts, te, nil, ws)
	for _, tt := range []struct {
		name, script string
		want         []string
	}{
		{"NUL byte", "echo a\x00b", []string{"command", "NUL byte", "offset 6"}},
		{"over the limit", strings.Repeat("#", engine.MaxCommandBytes+1), []string{"command", "1048577 bytes", "limit of 1048576"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.call(t, map[string]any{"command": tt.script, "workdir": ws, "login": false}, nil)
			if !res.IsError {
				t.Fatalf("not a tool error: %s", text(res))
			}
			for _, w := range tt.want {
				if !strings.Contains(text(res), w) {
					t.Errorf("%q does not say %q", text(res), w)
				}
			}
		})
	}
}

// trustProjects is an edit for newTestEngine writing the project trust
// levels into the configuration home (EXECGATE_HOME, set before edit runs).
func trustProjects(levels map[string]string) func(*engine.Options) {
	return func(*engine.Options) { testhelp.TrustProjects(levels) }
}
