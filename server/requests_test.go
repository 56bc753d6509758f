package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/execgate/execgate/engine"
)

// toolResult decodes a tools/call reply's result.
func toolResult(t *testing.T, r rpcReply) (isError bool, text string, structured map[string]any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("JSON-RPC error %d: %s", r.Error.Code, r.Error.Message)
	}
	var res struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		Structured map[string]any `json:"structuredContent"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatalf("result %s: %v", r.Result, err)
	}
	for _, c := range res.Content {
		text += c.Text
	}
	return res.IsError, text, res.Structured
}

// "arguments": null used to panic inside the SDK (defaults written into a
// nil map) and take the server down with every call running in it. Now it
// is a tool error naming the missing arguments, and a call running at the
// same time finishes normally.
func TestNullArgumentsKeepTheServerServing(t *testing.T) {
	p := newRawServer(t, nil, scriptEngine{})
	p.handshake()
	dir := t.TempDir()
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"command":"sleep 0.5; echo survived","workdir":"` + dir + `","login":false}}}` + "\n")
	p.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"shell","arguments":null}}` + "\n")
	p.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"shell","arguments":  null  ,"_meta":{"progressToken":3}}}` + "\n")
	p.send(`{"jsonrpc":"2.0","id":4,"method":"ping"}` + "\n")
	got := p.await("1", "2", "3", "4")
	for _, id := range []string{"2", "3"} {
		if isErr, text, _ := toolResult(t, got[id]); !isErr || !strings.Contains(text, "command") {
			t.Errorf("id %s: isError %v, %q; want a tool error naming command", id, isErr, text)
		}
	}
	if got["4"].Error != nil {
		t.Errorf("ping: %+v", got["4"].Error)
	}
	if isErr, _, sc := toolResult(t, got["1"]); isErr || sc["output"] != "survived\n" {
		t.Errorf("the running call: isError %v, %v", isErr, sc)
	}
}

// The exact arguments MCP Inspector 0.15's CLI sends for
// `--tool-arg timeout_ms=5000 --tool-arg login=false` when the schema types
// are ["null","integer"] and ["null","boolean"]: strings. And null for an
// optional field, as OpenAI strict function calling sends it.
func TestInspectorStyleArguments(t *testing.T) {
	p := newRawServer(t, nil, scriptEngine{})
	p.handshake()
	dir := t.TempDir()
	tests := []struct {
		name, args string
		wantLogin  bool
	}{
		{"strings", `{"command":"state","workdir":"` + dir + `","timeout_ms":"5000","login":"false"}`, false},
		{"nulls", `{"command":"state","workdir":"` + dir + `","timeout_ms":null,"login":null}`, true},
		{"float timeout and TRUE", `{"command":"state","workdir":"` + dir + `","timeout_ms":5000.0,"login":"TRUE"}`, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			id := string(rune('1' + i))
			p.send(`{"method":"tools/call","params":{"name":"shell","arguments":` + tt.args + `,"_meta":{"progressToken":` + id + `}},"jsonrpc":"2.0","id":` + id + `}` + "\n")
			isErr, text, sc := toolResult(t, p.await(id)[id])
			if isErr {
				t.Fatalf("tool error: %s", text)
			}
			var state struct{ Login bool }
			if err := json.Unmarshal([]byte(sc["output"].(string)), &state); err != nil || state.Login != tt.wantLogin {
				t.Errorf("state %v (%v), want login %v", sc["output"], err, tt.wantLogin)
			}
		})
	}
}

// The input schema uses plain JSON Schema types, which every client's form
// or argument conversion understands; the output schema is kept.
func TestSchemaTypesArePlain(t *testing.T) {
	p := newRawServer(t, nil, scriptEngine{})
	p.handshake()
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n")
	r := p.await("1")["1"]
	var list struct {
		Tools []struct {
			InputSchema  json.RawMessage `json:"inputSchema"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(r.Result, &list); err != nil || len(list.Tools) != 1 {
		t.Fatalf("tools/list %s: %v", r.Result, err)
	}
	var in struct {
		Properties map[string]struct {
			Type json.RawMessage `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	json.Unmarshal(list.Tools[0].InputSchema, &in)
	for name, want := range map[string]string{"command": `"string"`, "workdir": `"string"`, "timeout_ms": `"integer"`, "login": `"boolean"`} {
		if got := string(in.Properties[name].Type); got != want {
			t.Errorf("%s: type %s, want %s", name, got, want)
		}
	}
	if strings.Join(in.Required, ",") != "command,workdir" {
		t.Errorf("required %v", in.Required)
	}
	out := string(list.Tools[0].OutputSchema)
	if strings.Contains(out, `"null"`) || !strings.Contains(out, `"exit_code"`) || !strings.Contains(out, `"decisions"`) {
		t.Errorf("output schema: %s", out)
	}
}

// Requests before initialize and a second initialize are refused with
// JSON-RPC's invalid-request code, not code 0.
func TestInitializeOrderErrorCodes(t *testing.T) {
	p := newRawServer(t, nil, scriptEngine{})
	p.send(`{"jsonrpc":"2.0","id":"early","method":"tools/list"}` + "\n")
	if r := p.await(`"early"`)[`"early"`]; r.Error == nil || r.Error.Code != -32600 {
		t.Errorf("tools/list before initialize: %+v, want code -32600", r.Error)
	}
	p.handshake()
	p.send(initialize)
	if r := p.await("0")["0"]; r.Error == nil || r.Error.Code != -32600 || !strings.Contains(r.Error.Message, "initialize") {
		t.Errorf("second initialize: %+v, want code -32600 naming initialize", r.Error)
	}
	p.send(`{"jsonrpc":"2.0","id":9,"method":"ping"}` + "\n")
	if r := p.await("9")["9"]; r.Error != nil {
		t.Errorf("ping after: %+v", r.Error)
	}
}

// panicEngine panics in the call's own goroutine, as a bug would.
type panicEngine struct{}

func (panicEngine) Exec(context.Context, *engine.Call) (engine.Outcome, error) {
	panic("bug in the engine")
}

// A panic while serving one request is that request's internal error; the
// server keeps serving.
func TestPanicInACallIsContained(t *testing.T) {
	p := newRawServer(t, nil, panicEngine{})
	p.handshake()
	p.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"command":"true","workdir":"/"}}}` + "\n")
	if r := p.await("1")["1"]; r.Error == nil || r.Error.Code != -32603 || !strings.Contains(r.Error.Message, "tools/call") {
		t.Errorf("reply %+v, want an internal error naming tools/call", r.Error)
	}
	p.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n")
	if r := p.await("2")["2"]; r.Error != nil {
		t.Errorf("ping after the panic: %+v", r.Error)
	}
}
