package server

import (
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
)

// Where Codex sends its sandbox state. 0.97 sends sandboxStateMethod when
// its settings change (and once after startup) to servers declaring
// sandboxStateCapability; 0.171 sends no such request but puts the state in
// every tools/call's _meta, under SandboxStateKey and, identical,
// SandboxStateMetaKey. A call uses, in this order: _meta[sandboxStateKey],
// _meta[sandboxStateMetaKey], the last update request, then the client's
// MCP roots and the server's flags.
const (
	sandboxStateCapability = "codex/sandbox-state"
	sandboxStateMethod     = "codex/sandbox-state/update"
	// sandboxStateKey is the tools/call _meta key of the per-call state.
	sandboxStateKey = "codex/sandbox-state"
	// sandboxStateMetaKey is the other _meta key carrying it, and the
	// experimental capability asking for it.
	sandboxStateMetaKey = "codex/sandbox-state-meta"
)

// sandboxStateParams is the params of SandboxStateMethod.
type sandboxStateParams struct {
	mcp.ParamsBase
	State engine.SandboxState
}

// UnmarshalJSON decodes the state tolerantly (see engine.DecodeSandboxState).
func (p *sandboxStateParams) UnmarshalJSON(data []byte) error {
	st, err := engine.DecodeSandboxState(data)
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
func stateFromMeta(meta map[string]any) (*engine.SandboxState, error) {
	for _, key := range []string{sandboxStateKey, sandboxStateMetaKey} {
		v, ok := meta[key]
		if !ok || v == nil {
			continue
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("_meta[%q]: %w", key, err)
		}
		st, err := engine.DecodeSandboxState(data)
		if err != nil {
			return nil, fmt.Errorf("_meta[%q]: %w", key, err)
		}
		return &st, nil
	}
	return nil, nil
}
