package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/execgate/execgate/sandbox"
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
		p, err := PathFromURIOrPath(s)
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

// PathFromURIOrPath accepts an absolute path or a file:// URI (as MCP roots
// and later Codex builds send) and returns a clean absolute path.
func PathFromURIOrPath(s string) (string, error) {
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

// CheckPolicy reports whether execgate can use the sandbox in st, naming
// the field at fault when it cannot.
func (st *SandboxState) CheckPolicy() error {
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
