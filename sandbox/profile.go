package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// A permission profile is how Codex (0.171 and later) describes a sandbox,
// in place of the three modes: a list of filesystem entries, each a path, a
// glob or a special location with the access it grants, and the network
// setting. Its JSON form:
//
//	{"type":"managed","file_system":FS,"network":"restricted"|"enabled"}
//	{"type":"disabled"}                      no sandbox (danger-full-access)
//	{"type":"external","network":NET}        the filesystem is confined by
//	                                         whatever runs Codex
//	FS = {"type":"restricted","entries":[ENTRY...],"glob_scan_max_depth"?:N}
//	   | {"type":"unrestricted"}
//	ENTRY = {"path":PATH,"access":"read"|"write"|"deny"|"none",
//	         "missing_path_behavior"?:"skip"}
//	PATH = {"type":"path","path":ABS}
//	     | {"type":"glob_pattern","pattern":ABSGLOB}
//	     | {"type":"special","value":{"kind":KIND,"subpath"?:REL}}
//
// Which access applies to a path is decided by the entries that contain
// it: the most specific (longest) path wins, and among equally specific
// ones deny beats write beats read. See layout.go for how a profile becomes
// the mounts and Landlock rules of one call.

// ErrUnknownProfile is returned (wrapped) for a permission profile this
// package cannot read completely: an unknown type, access or path kind. The
// caller must fall back to [ReadOnlyPolicy] and tell the agent so, rather
// than run with part of what the client asked for.
var ErrUnknownProfile = errors.New("unsupported permission profile")

// Access is what a profile entry grants. The order is the precedence
// between equally specific entries: deny beats write beats read.
type Access uint8

const (
	AccessRead Access = iota + 1
	AccessWrite
	AccessDeny
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	case AccessDeny:
		return "deny"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// The special locations a profile entry can name.
const (
	SpecialRoot         = "root"          // the whole filesystem, /
	SpecialMinimal      = "minimal"       // the system paths a shell needs (minimalPaths)
	SpecialTmpdir       = "tmpdir"        // $TMPDIR
	SpecialSlashTmp     = "slash_tmp"     // /tmp
	SpecialProjectRoots = "project_roots" // the workspace, or subpath below it
	// SpecialCwd is an older spelling of SpecialProjectRoots.
	SpecialCwd = "current_working_directory"
)

// ProfilePath is the location of one entry: exactly one of Path (an
// absolute path), Glob (an absolute pattern) or Special (a Special* kind,
// with an optional Subpath relative to it) is set.
type ProfilePath struct {
	Path    string
	Glob    string
	Special string
	Subpath string
}

func (p ProfilePath) String() string {
	switch {
	case p.Glob != "":
		return "glob " + p.Glob
	case p.Special != "" && p.Subpath != "":
		return ":" + p.Special + "/" + p.Subpath
	case p.Special != "":
		return ":" + p.Special
	}
	return p.Path
}

// ProfileEntry is one filesystem entry of a profile.
type ProfileEntry struct {
	Path   ProfilePath
	Access Access
	// SkipMissing ("missing_path_behavior":"skip") drops the entry when
	// its path does not exist at the start of a call.
	SkipMissing bool
}

// Profile is a decoded permission profile.
type Profile struct {
	// Disabled is {"type":"disabled"}: no sandbox at all.
	Disabled bool
	// Unrestricted is a filesystem confined by something else
	// ({"type":"external"}) or not at all ({"type":"unrestricted"}):
	// every path is writable, only the network setting applies.
	Unrestricted bool
	Entries      []ProfileEntry
	// GlobDepth is glob_scan_max_depth: how many directory levels below
	// a pattern's fixed prefix are searched for matches (0: the default,
	// defaultGlobDepth).
	GlobDepth int
	Network   bool

	raw json.RawMessage // as received, for MarshalJSON
}

// isProfileType reports whether a sandbox policy "type" names a permission
// profile rather than one of the three modes.
func isProfileType(t string) bool {
	switch t {
	case "managed", "disabled", "external":
		return true
	}
	return false
}

// ParseProfile decodes a permission profile. Unknown fields are ignored;
// an unknown type, access value or path kind is an error wrapping
// [ErrUnknownProfile] that names the field.
func ParseProfile(data []byte) (*Profile, error) {
	var raw struct {
		Type       string          `json:"type"`
		FileSystem json.RawMessage `json:"file_system"`
		Network    *string         `json:"network"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("permission profile: %w", err)
	}
	p := &Profile{raw: append(json.RawMessage(nil), data...)}
	network := func() error {
		if raw.Network == nil {
			return nil // restricted, the safe default
		}
		switch *raw.Network {
		case "restricted":
		case "enabled":
			p.Network = true
		default:
			return fmt.Errorf("permission profile: network %q: %w (want restricted or enabled)", *raw.Network, ErrUnknownProfile)
		}
		return nil
	}
	switch raw.Type {
	case "disabled":
		p.Disabled, p.Network = true, true
		return p, nil
	case "external":
		p.Unrestricted = true
		if err := network(); err != nil {
			return nil, err
		}
		return p, nil
	case "managed":
	case "":
		return nil, errors.New(`permission profile: missing field "type"`)
	default:
		return nil, fmt.Errorf("permission profile: type %q: %w (want managed, disabled or external)", raw.Type, ErrUnknownProfile)
	}
	if err := network(); err != nil {
		return nil, err
	}
	if len(raw.FileSystem) == 0 || string(raw.FileSystem) == "null" {
		return nil, errors.New(`permission profile: missing field "file_system"`)
	}
	var fs struct {
		Type      string            `json:"type"`
		Entries   []json.RawMessage `json:"entries"`
		GlobDepth *int              `json:"glob_scan_max_depth"`
	}
	if err := json.Unmarshal(raw.FileSystem, &fs); err != nil {
		return nil, fmt.Errorf("permission profile: file_system: %w", err)
	}
	switch fs.Type {
	case "unrestricted":
		p.Unrestricted = true
		return p, nil
	case "restricted":
	default:
		return nil, fmt.Errorf("permission profile: file_system type %q: %w (want restricted or unrestricted)", fs.Type, ErrUnknownProfile)
	}
	if fs.GlobDepth != nil {
		if *fs.GlobDepth < 1 {
			return nil, fmt.Errorf("permission profile: glob_scan_max_depth %d: must be at least 1", *fs.GlobDepth)
		}
		p.GlobDepth = *fs.GlobDepth
	}
	for i, e := range fs.Entries {
		entry, err := parseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("permission profile: entries[%d]: %w", i, err)
		}
		p.Entries = append(p.Entries, entry)
	}
	return p, nil
}

func parseEntry(data json.RawMessage) (ProfileEntry, error) {
	var raw struct {
		Path    json.RawMessage `json:"path"`
		Access  string          `json:"access"`
		Missing *string         `json:"missing_path_behavior"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return ProfileEntry{}, err
	}
	var e ProfileEntry
	switch raw.Access {
	case "read":
		e.Access = AccessRead
	case "write":
		e.Access = AccessWrite
	case "deny", "none":
		e.Access = AccessDeny
	default:
		return e, fmt.Errorf("access %q: %w (want read, write or deny)", raw.Access, ErrUnknownProfile)
	}
	if raw.Missing != nil {
		switch *raw.Missing {
		case "skip":
			e.SkipMissing = true
		default:
			// An unknown behaviour may mean "fail" or something
			// weaker: treat the path as required, the stricter reading.
		}
	}
	var path struct {
		Type    string `json:"type"`
		Path    string `json:"path"`
		Pattern string `json:"pattern"`
		Value   *struct {
			Kind    string `json:"kind"`
			Subpath string `json:"subpath"`
		} `json:"value"`
	}
	if len(raw.Path) == 0 {
		return e, errors.New(`missing field "path"`)
	}
	if err := json.Unmarshal(raw.Path, &path); err != nil {
		return e, fmt.Errorf("path: %w", err)
	}
	switch path.Type {
	case "path":
		if err := absClean(path.Path); err != nil {
			return e, fmt.Errorf("path %q: %w", path.Path, err)
		}
		e.Path.Path = filepath.Clean(path.Path)
	case "glob_pattern":
		if err := absClean(path.Pattern); err != nil {
			return e, fmt.Errorf("glob pattern %q: %w", path.Pattern, err)
		}
		e.Path.Glob = filepath.Clean(path.Pattern)
	case "special":
		if path.Value == nil {
			return e, errors.New(`special path: missing field "value"`)
		}
		kind := path.Value.Kind
		switch kind {
		case SpecialRoot, SpecialMinimal, SpecialTmpdir, SpecialSlashTmp, SpecialProjectRoots:
		case SpecialCwd:
			kind = SpecialProjectRoots
		default:
			return e, fmt.Errorf("special path kind %q: %w", kind, ErrUnknownProfile)
		}
		sub := path.Value.Subpath
		if sub != "" && (filepath.IsAbs(sub) || !filepath.IsLocal(sub)) {
			return e, fmt.Errorf("special path %s: subpath %q must be relative and stay below it", kind, sub)
		}
		e.Path.Special, e.Path.Subpath = kind, sub
	default:
		return e, fmt.Errorf("path type %q: %w (want path, glob_pattern or special)", path.Type, ErrUnknownProfile)
	}
	return e, nil
}

// absClean requires a non-empty absolute path without ".." components
// (Codex sends normalized paths; anything else is suspect).
func absClean(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case !filepath.IsAbs(p):
		return errors.New("not an absolute path")
	case strings.Contains(p, "\x00"):
		return errors.New("contains a NUL byte")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return errors.New(`contains ".."`)
		}
	}
	return nil
}

// policyFromProfile is the Policy running p: Mode is the closest of the
// three modes (for messages and capability checks), the Profile decides.
func policyFromProfile(p *Profile) Policy {
	pol := Policy{Mode: ReadOnly, NetworkAccess: p.Network, Profile: p}
	switch {
	case p.Disabled:
		pol.Mode = DangerFullAccess
	case p.Unrestricted:
		pol.Mode = WorkspaceWrite
	default:
		for _, e := range p.Entries {
			if e.Access == AccessWrite {
				pol.Mode = WorkspaceWrite
				break
			}
		}
	}
	return pol
}
