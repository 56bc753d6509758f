package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Mode is a Codex sandbox mode.
type Mode string

// The modes, spelled as Codex spells them on the wire.
const (
	ReadOnly         Mode = "read-only"
	WorkspaceWrite   Mode = "workspace-write"
	DangerFullAccess Mode = "danger-full-access"
)

// ErrUnknownMode is returned (wrapped) for a policy type this package does
// not know. Callers should then fall back to [ReadOnlyPolicy], the most
// restrictive mode, rather than to no sandbox.
var ErrUnknownMode = errors.New("unknown sandbox policy type")

// Policy is a sandbox policy. Its JSON form is Codex's: {"type":"read-only"},
// {"type":"workspace-write","writable_roots":[...],"network_access":false,
// "exclude_tmpdir_env_var":false,"exclude_slash_tmp":false} or
// {"type":"danger-full-access"}, or a permission profile (profile.go),
// which later Codex builds send instead.
type Policy struct {
	Mode Mode
	// WritableRoots are extra writable directories (workspace-write only).
	WritableRoots []string
	// NetworkAccess leaves the network open. danger-full-access always has it.
	NetworkAccess bool
	// ExcludeTmpdirEnvVar keeps $TMPDIR out of the writable roots.
	ExcludeTmpdirEnvVar bool
	// ExcludeSlashTmp keeps /tmp out of the writable roots.
	ExcludeSlashTmp bool
	// Profile, when set, is a permission profile that replaces the mode's
	// filesystem rules; Mode and NetworkAccess then summarize it (see
	// policyFromProfile) and WritableRoots and the exclusions are unused.
	Profile *Profile
}

// ReadOnlyPolicy is the most restrictive policy: read anywhere, write
// nowhere, no network. It is the default until a client says otherwise.
func ReadOnlyPolicy() Policy { return Policy{Mode: ReadOnly} }

// Sandboxed reports whether the policy confines anything.
func (p Policy) Sandboxed() bool { return p.Mode != DangerFullAccess }

// Network reports whether the sandboxed command may use the network.
func (p Policy) Network() bool { return p.Mode == DangerFullAccess || p.NetworkAccess }

// MarshalJSON writes Codex's shape. workspace-write always carries its four
// fields, as Codex writes them; the other modes carry only what is set.
func (p Policy) MarshalJSON() ([]byte, error) {
	if p.Profile != nil {
		return p.Profile.raw, nil
	}
	if _, err := ParseMode(string(p.Mode)); err != nil {
		return nil, err
	}
	if p.Mode == WorkspaceWrite {
		roots := p.WritableRoots
		if roots == nil {
			roots = []string{}
		}
		return json.Marshal(struct {
			Type                string   `json:"type"`
			WritableRoots       []string `json:"writable_roots"`
			NetworkAccess       bool     `json:"network_access"`
			ExcludeTmpdirEnvVar bool     `json:"exclude_tmpdir_env_var"`
			ExcludeSlashTmp     bool     `json:"exclude_slash_tmp"`
		}{string(p.Mode), roots, p.NetworkAccess, p.ExcludeTmpdirEnvVar, p.ExcludeSlashTmp})
	}
	// danger-full-access has the network anyway: no field to carry.
	return json.Marshal(struct {
		Type          string `json:"type"`
		NetworkAccess bool   `json:"network_access,omitempty"`
	}{string(p.Mode), p.Mode == ReadOnly && p.NetworkAccess})
}

// UnmarshalJSON accepts Codex's shape with tolerant spelling: the type in
// kebab-case, snake_case or camelCase, and field names in snake_case or
// camelCase, or a permission profile (type managed, disabled or external).
// Unknown fields are ignored (newer Codex builds add some); an unknown type
// is an error wrapping [ErrUnknownMode], a profile this package cannot
// read completely one wrapping [ErrUnknownProfile].
func (p *Policy) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("sandbox policy: %w", err)
	}
	field := func(names ...string) (json.RawMessage, string) {
		for _, n := range names {
			if v, ok := raw[n]; ok && string(v) != "null" {
				return v, n
			}
		}
		return nil, ""
	}
	var out Policy
	t, _ := field("type", "mode")
	if t == nil {
		return errors.New(`sandbox policy: missing field "type"`)
	}
	var typ string
	if err := json.Unmarshal(t, &typ); err != nil {
		return fmt.Errorf("sandbox policy: field \"type\": %w", err)
	}
	if isProfileType(typ) {
		prof, err := ParseProfile(data)
		if err != nil {
			return err
		}
		*p = policyFromProfile(prof)
		return nil
	}
	m, err := ParseMode(typ)
	if err != nil {
		return fmt.Errorf("sandbox policy: %w", err)
	}
	out.Mode = m
	if v, name := field("writable_roots", "writableRoots"); v != nil {
		if err := json.Unmarshal(v, &out.WritableRoots); err != nil {
			return fmt.Errorf("sandbox policy: field %q: %w", name, err)
		}
	}
	for _, b := range []struct {
		dst   *bool
		names []string
	}{
		{&out.NetworkAccess, []string{"network_access", "networkAccess"}},
		{&out.ExcludeTmpdirEnvVar, []string{"exclude_tmpdir_env_var", "excludeTmpdirEnvVar"}},
		{&out.ExcludeSlashTmp, []string{"exclude_slash_tmp", "excludeSlashTmp"}},
	} {
		if v, name := field(b.names...); v != nil {
			if err := json.Unmarshal(v, b.dst); err != nil {
				return fmt.Errorf("sandbox policy: field %q: %w", name, err)
			}
		}
	}
	*p = out
	return nil
}

// ParseMode maps a mode name in any of the spellings clients use
// ("workspace-write", "workspace_write", "workspaceWrite", "WorkspaceWrite")
// to a Mode.
func ParseMode(s string) (Mode, error) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' || r == '-':
			b.WriteByte('-')
		case r >= 'A' && r <= 'Z':
			if i > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteRune(r)
		}
	}
	switch m := Mode(b.String()); m {
	case ReadOnly, WorkspaceWrite, DangerFullAccess:
		return m, nil
	}
	return "", fmt.Errorf("%w %q (want read-only, workspace-write or danger-full-access)", ErrUnknownMode, s)
}

// Validate checks the mode and that every writable root is an absolute,
// clean path to an existing directory. Errors name the field and value.
func (p Policy) Validate() error {
	if _, err := ParseMode(string(p.Mode)); err != nil {
		return fmt.Errorf("sandbox policy: type: %w", err)
	}
	for i, r := range p.WritableRoots {
		if err := checkDir(r); err != nil {
			return fmt.Errorf("sandbox policy: writable_roots[%d] %q: %w", i, r, err)
		}
	}
	return nil
}

// checkDir requires an absolute, clean path naming an existing directory.
func checkDir(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case !filepath.IsAbs(p):
		return errors.New("not an absolute path")
	case filepath.Clean(p) != p:
		return fmt.Errorf("not a clean path (want %q)", filepath.Clean(p))
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}
