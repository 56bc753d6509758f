package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/sandbox"
)

// Where Codex sends its sandbox state. 0.97 sends SandboxStateMethod when
// its settings change (and once after startup) to servers declaring
// SandboxStateCapability; 0.171 sends no such request but puts the state in
// every tools/call's _meta, under SandboxStateKey and, identical,
// SandboxStateMetaKey. A call uses, in this order: _meta[SandboxStateKey],
// _meta[SandboxStateMetaKey], the last update request, then the client's
// MCP roots and the server's flags.
const (
	SandboxStateCapability = "codex/sandbox-state"
	SandboxStateMethod     = "codex/sandbox-state/update"
	// SandboxStateKey is the tools/call _meta key of the per-call state.
	SandboxStateKey = "codex/sandbox-state"
	// SandboxStateMetaKey is the other _meta key carrying it, and the
	// experimental capability asking for it.
	SandboxStateMetaKey = "codex/sandbox-state-meta"
)

// SandboxState is the sandbox Codex asks calls to run in. The policy itself
// is kept raw: the sandbox package owns its decoding (Codex has changed its
// shape and casing over versions).
type SandboxState struct {
	// Policy is sandboxPolicy ({"type":"workspace-write",...}); nil if absent.
	Policy json.RawMessage `json:"sandboxPolicy,omitempty"`
	// PermissionProfile replaces Policy in later Codex builds; nil if absent.
	PermissionProfile json.RawMessage `json:"permissionProfile,omitempty"`
	// Cwd is sandboxCwd as an absolute path (file:// URIs are converted).
	Cwd string `json:"sandboxCwd,omitempty"`
	// LinuxSandboxExe is codexLinuxSandboxExe (informational: execgate uses its own helper).
	LinuxSandboxExe      string `json:"codexLinuxSandboxExe,omitempty"`
	UseLinuxSandboxBwrap bool   `json:"useLinuxSandboxBwrap,omitempty"`
	UseLegacyLandlock    bool   `json:"useLegacyLandlock,omitempty"`
}

// stateKeys maps each field to its spellings (camelCase as Codex sends it,
// snake_case as its README shows it).
var stateKeys = [...]struct{ camel, snake string }{
	{"sandboxPolicy", "sandbox_policy"},
	{"permissionProfile", "permission_profile"},
	{"sandboxCwd", "sandbox_cwd"},
	{"codexLinuxSandboxExe", "codex_linux_sandbox_exe"},
	{"useLinuxSandboxBwrap", "use_linux_sandbox_bwrap"},
	{"useLegacyLandlock", "use_legacy_landlock"},
}

// DecodeSandboxState decodes Codex's SandboxState, accepting camelCase and
// snake_case keys and null for absent values. Unknown keys are ignored.
func DecodeSandboxState(data []byte) (SandboxState, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return SandboxState{}, fmt.Errorf("sandbox state: %w", err)
	}
	get := func(i int) (string, json.RawMessage) {
		k := stateKeys[i]
		if v, ok := raw[k.camel]; ok && !isNull(v) {
			return k.camel, v
		}
		if v, ok := raw[k.snake]; ok && !isNull(v) {
			return k.snake, v
		}
		return k.camel, nil
	}
	var st SandboxState
	if _, v := get(0); v != nil {
		st.Policy = v
	}
	if _, v := get(1); v != nil {
		st.PermissionProfile = v
	}
	if k, v := get(2); v != nil {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return SandboxState{}, fmt.Errorf("sandbox state: %s: %w", k, err)
		}
		p, err := pathFromURIOrPath(s)
		if err != nil {
			return SandboxState{}, fmt.Errorf("sandbox state: %s: %w", k, err)
		}
		st.Cwd = p
	}
	if k, v := get(3); v != nil {
		if err := json.Unmarshal(v, &st.LinuxSandboxExe); err != nil {
			return SandboxState{}, fmt.Errorf("sandbox state: %s: %w", k, err)
		}
	}
	if k, v := get(4); v != nil {
		if err := json.Unmarshal(v, &st.UseLinuxSandboxBwrap); err != nil {
			return SandboxState{}, fmt.Errorf("sandbox state: %s: %w", k, err)
		}
	}
	if k, v := get(5); v != nil {
		if err := json.Unmarshal(v, &st.UseLegacyLandlock); err != nil {
			return SandboxState{}, fmt.Errorf("sandbox state: %s: %w", k, err)
		}
	}
	return st, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// pathFromURIOrPath accepts an absolute path or a file:// URI (as MCP roots
// and later Codex builds send) and returns a clean absolute path.
func pathFromURIOrPath(s string) (string, error) {
	p := s
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if u.Scheme != "file" {
			return "", fmt.Errorf("%q: only file:// URIs are supported", s)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("%q: file URI names a remote host", s)
		}
		p = u.Path
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%q is not an absolute path", s)
	}
	return filepath.Clean(p), nil
}

// sandboxStateParams is the params of SandboxStateMethod.
type sandboxStateParams struct {
	mcp.ParamsBase
	State SandboxState
}

// UnmarshalJSON decodes the state tolerantly (see DecodeSandboxState).
func (p *sandboxStateParams) UnmarshalJSON(data []byte) error {
	st, err := DecodeSandboxState(data)
	if err != nil {
		return err
	}
	var m struct {
		Meta map[string]any `json:"_meta"`
	}
	_ = json.Unmarshal(data, &m) // DecodeSandboxState already proved it is an object
	p.State = st
	p.Meta = m.Meta
	return nil
}

// stateFromMeta returns the per-call sandbox state in a tools/call _meta,
// if any: under SandboxStateKey, else SandboxStateMetaKey.
func stateFromMeta(meta map[string]any) (*SandboxState, error) {
	for _, key := range []string{SandboxStateKey, SandboxStateMetaKey} {
		v, ok := meta[key]
		if !ok || v == nil {
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("_meta[%q]: %w", key, err)
		}
		st, err := DecodeSandboxState(data)
		if err != nil {
			return nil, fmt.Errorf("_meta[%q]: %w", key, err)
		}
		return &st, nil
	}
	return nil, nil
}

// codexPolicy is the sandbox in Codex's state and the field it came from,
// nil when none. A permission profile (Codex 0.171 and later) wins over a
// sandboxPolicy (0.97) should a client send both.
func codexPolicy(st *SandboxState) (json.RawMessage, string) {
	switch {
	case st == nil:
		return nil, ""
	case st.PermissionProfile != nil:
		return st.PermissionProfile, "permissionProfile"
	case st.Policy != nil:
		return st.Policy, "sandboxPolicy"
	}
	return nil, ""
}

// checkPolicy reports whether execgate can use the sandbox in st, naming
// the field at fault when it cannot.
func (st *SandboxState) checkPolicy() error {
	raw, field := codexPolicy(st)
	if raw == nil {
		return nil
	}
	var pol sandbox.Policy
	if err := json.Unmarshal(raw, &pol); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}
