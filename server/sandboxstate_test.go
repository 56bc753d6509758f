package server

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type stateReport struct {
	Mode      string               `json:"mode"`
	Sandbox   *engine.SandboxState `json:"sandbox"`
	Workspace []string             `json:"workspace"`
	Login     bool                 `json:"login"`
}

func (h *harness) state(t *testing.T, meta mcp.Meta) stateReport {
	t.Helper()
	out := structured(t, h.call(t, map[string]any{"command": "state", "workdir": "/"}, meta))
	var r stateReport
	if err := json.Unmarshal([]byte(out.Output), &r); err != nil {
		t.Fatalf("state output %q: %v", out.Output, err)
	}
	return r
}

func (h *harness) update(t *testing.T, body string) error {
	t.Helper()
	_, err := mcp.CallCustomMethod[*rawParams, *emptyResult](context.Background(), h.cs, sandboxStateMethod, &rawParams{Body: json.RawMessage(body)})
	return err
}

func TestSandboxStateOverMCP(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil)
	cwd := h.srv.cwd

	r := h.state(t, nil)
	if r.Mode != engine.ModeWorkspaceWrite || r.Sandbox != nil || !reflect.DeepEqual(r.Workspace, []string{cwd}) || !r.Login {
		t.Fatalf("before any update: %+v", r)
	}

	if err := h.update(t, `{"sandboxPolicy":{"type":"read-only"},"sandboxCwd":"/srv/proj","codexLinuxSandboxExe":null}`); err != nil {
		t.Fatalf("update: %v", err)
	}
	r = h.state(t, nil)
	if r.Sandbox == nil || string(r.Sandbox.Policy) != `{"type":"read-only"}` || !reflect.DeepEqual(r.Workspace, []string{"/srv/proj"}) {
		t.Fatalf("after camelCase update: %+v", r)
	}

	if err := h.update(t, `{"sandbox_policy":{"type":"danger-full-access"},"sandbox_cwd":"file:///srv/other"}`); err != nil {
		t.Fatalf("snake_case update: %v", err)
	}
	r = h.state(t, nil)
	if string(r.Sandbox.Policy) != `{"type":"danger-full-access"}` || r.Workspace[0] != "/srv/other" {
		t.Fatalf("after snake_case update: %+v", r)
	}

	// Per-call _meta wins for that call only.
	meta := mcp.Meta{sandboxStateMetaKey: map[string]any{"sandboxPolicy": map[string]any{"type": "workspace-write"}, "sandboxCwd": "file:///srv/meta"}}
	r = h.state(t, meta)
	if string(r.Sandbox.Policy) != `{"type":"workspace-write"}` || r.Workspace[0] != "/srv/meta" {
		t.Fatalf("with _meta: %+v", r)
	}
	if r = h.state(t, nil); r.Workspace[0] != "/srv/other" {
		t.Fatalf("_meta leaked into the next call: %+v", r)
	}
	// Codex 0.171 sends the state under both keys; the first wins.
	meta = mcp.Meta{
		sandboxStateKey:     map[string]any{"permissionProfile": map[string]any{"type": "disabled"}, "sandboxCwd": "file:///srv/state"},
		sandboxStateMetaKey: map[string]any{"permissionProfile": map[string]any{"type": "managed"}, "sandboxCwd": "file:///srv/state-meta"},
	}
	r = h.state(t, meta)
	if string(r.Sandbox.PermissionProfile) != `{"type":"disabled"}` || r.Workspace[0] != "/srv/state" {
		t.Fatalf("with both _meta keys: %+v", r)
	}

	// A bad update is a JSON-RPC error naming the field, and changes nothing.
	err := h.update(t, `{"sandboxCwd":"relative"}`)
	if err == nil || !strings.Contains(err.Error(), "sandboxCwd") {
		t.Errorf("bad update: err = %v", err)
	}
	if r = h.state(t, nil); r.Workspace[0] != "/srv/other" {
		t.Fatalf("bad update changed state: %+v", r)
	}
	// A bad _meta fails the call, naming the key.
	res := h.call(t, map[string]any{"command": "state", "workdir": "/"}, mcp.Meta{sandboxStateMetaKey: map[string]any{"sandboxCwd": 3}})
	if !res.IsError || !strings.Contains(text(res), sandboxStateMetaKey) {
		t.Errorf("bad _meta: %v %s", res.IsError, text(res))
	}
}

func TestRootsAreTheWorkspace(t *testing.T) {
	h := newHarness(t, nil, scriptEngine{}, nil, "/srv/a", "/srv/b")
	if r := h.state(t, nil); !reflect.DeepEqual(r.Workspace, []string{"/srv/a", "/srv/b"}) {
		t.Fatalf("workspace = %v, want the client roots", r.Workspace)
	}
	// Roots outrank a Codex sandboxCwd; per-call _meta outranks both.
	if err := h.update(t, `{"sandboxCwd":"/srv/codex"}`); err != nil {
		t.Fatal(err)
	}
	if r := h.state(t, nil); !reflect.DeepEqual(r.Workspace, []string{"/srv/a", "/srv/b"}) {
		t.Fatalf("workspace = %v after update, want the client roots", r.Workspace)
	}
	// roots/list_changed makes the next call fetch them again.
	//lint:ignore SA1019 the server supports clients that send roots
	h.client.AddRoots(&mcp.Root{URI: "file:///srv/c"})
	// The notification is asynchronous: poll a few calls.
	for deadline := 50; ; {
		r := h.state(t, nil)
		if len(r.Workspace) == 3 && r.Workspace[2] == "/srv/c" {
			break
		}
		if deadline--; deadline == 0 {
			t.Fatalf("roots not refreshed after roots/list_changed: %v", r.Workspace)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
