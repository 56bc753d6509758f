package sandbox

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/codexfixture"
)

var fixturePaths = codexfixture.Paths{Work: "/w", Extra: "/x", Home: "/h"}

// TestProfileFixtures decodes every permission profile Codex 0.171 was seen
// sending, through Policy (as the server does).
func TestProfileFixtures(t *testing.T) {
	type want struct {
		mode    Mode
		network bool
		entries int
		check   func(t *testing.T, p *Profile)
	}
	wants := map[string]want{
		"ro":                   {ReadOnly, false, 1, nil},
		"ro-net":               {ReadOnly, false, 1, nil},
		"dp-read-only":         {ReadOnly, false, 1, nil},
		"ww":                   {WorkspaceWrite, false, 8, nil},
		"anchor-ww":            {WorkspaceWrite, false, 8, nil},
		"dp-workspace":         {WorkspaceWrite, false, 8, nil},
		"ww-net":               {WorkspaceWrite, true, 8, nil},
		"ww-adddir":            {WorkspaceWrite, false, 13, nil},
		"ww-writable-roots":    {WorkspaceWrite, false, 14, nil},
		"ww-exclude-slash-tmp": {WorkspaceWrite, false, 7, nil},
		"ww-exclude-tmpdir":    {WorkspaceWrite, false, 7, nil},
		"dfa":                  {DangerFullAccess, true, 0, nil},
		"dp-danger":            {DangerFullAccess, true, 0, nil},
		"dp-root-write":        {WorkspaceWrite, false, 1, nil},
		"dp-custom": {WorkspaceWrite, true, 6, func(t *testing.T, p *Profile) {
			if e := p.Entries[1]; e.Path.Path != "/x/secret" || e.Access != AccessDeny {
				t.Errorf("entries[1] = %+v, want /x/secret deny", e)
			}
		}},
		"dp-special": {WorkspaceWrite, false, 7, func(t *testing.T, p *Profile) {
			if e := p.Entries[0]; e.Path.Glob != "/x/**/*.key" || e.Access != AccessDeny {
				t.Errorf("entries[0] = %+v, want the deny glob", e)
			}
			if e := p.Entries[1]; e.Path.Special != SpecialMinimal || e.Access != AccessRead {
				t.Errorf("entries[1] = %+v, want :minimal read", e)
			}
		}},
		"dp-glob-depth": {ReadOnly, false, 2, func(t *testing.T, p *Profile) {
			if p.GlobDepth != 3 {
				t.Errorf("GlobDepth = %d, want 3", p.GlobDepth)
			}
		}},
	}
	for _, name := range codexfixture.Cases(t) {
		t.Run(name, func(t *testing.T) {
			w, ok := wants[name]
			if !ok {
				t.Fatalf("no expectation for capture %q", name)
			}
			var pol Policy
			if err := json.Unmarshal(codexfixture.Profile(t, name, fixturePaths), &pol); err != nil {
				t.Fatal(err)
			}
			if pol.Profile == nil || pol.Mode != w.mode || pol.Network() != w.network || len(pol.Profile.Entries) != w.entries {
				t.Fatalf("got mode %s network %v entries %d (%+v), want %s %v %d",
					pol.Mode, pol.Network(), len(pol.Profile.Entries), pol.Profile, w.mode, w.network, w.entries)
			}
			if w.check != nil {
				w.check(t, pol.Profile)
			}
			// It goes back out as it came in.
			back, err := json.Marshal(pol)
			if err != nil || !strings.Contains(string(back), `"type"`) {
				t.Errorf("MarshalJSON: %s, %v", back, err)
			}
		})
	}
}

func TestParseProfile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		check    func(*Profile) bool
		err      string // "" for success; "unknown" for ErrUnknownProfile
	}{
		{"external", `{"type":"external","network":"enabled"}`, func(p *Profile) bool { return p.Unrestricted && p.Network }, ""},
		{"unrestricted", `{"type":"managed","file_system":{"type":"unrestricted"},"network":"restricted"}`,
			func(p *Profile) bool { return p.Unrestricted && !p.Network }, ""},
		{"none is deny", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"path","path":"/a"},"access":"none"}]}}`,
			func(p *Profile) bool { return p.Entries[0].Access == AccessDeny }, ""},
		{"cwd is project roots", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"special","value":{"kind":"current_working_directory"}},"access":"write"}]}}`,
			func(p *Profile) bool { return p.Entries[0].Path.Special == SpecialProjectRoots }, ""},
		{"subpath", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"special","value":{"kind":"project_roots","subpath":"docs"}},"access":"read"}]}}`,
			func(p *Profile) bool { return p.Entries[0].Path.Subpath == "docs" }, ""},
		{"unknown fields ignored", `{"type":"managed","file_system":{"type":"restricted","entries":[],"new":1},"network":"restricted","later":true}`,
			func(p *Profile) bool { return len(p.Entries) == 0 }, ""},
		{"unknown type", `{"type":"sandboxed"}`, nil, "unknown"},
		{"unknown fs type", `{"type":"managed","file_system":{"type":"partial"}}`, nil, "unknown"},
		{"unknown kind", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"special","value":{"kind":"home"}},"access":"read"}]}}`, nil, "unknown"},
		{"unknown access", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"path","path":"/a"},"access":"execute"}]}}`, nil, "unknown"},
		{"unknown path type", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"url","path":"/a"},"access":"read"}]}}`, nil, "unknown"},
		{"unknown network", `{"type":"managed","file_system":{"type":"restricted","entries":[]},"network":"proxied"}`, nil, "unknown"},
		{"relative path", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"path","path":"a"},"access":"read"}]}}`, nil, `entries[0]: path "a": not an absolute path`},
		{"dot-dot", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"path","path":"/a/../etc"},"access":"read"}]}}`, nil, `".."`},
		{"escaping subpath", `{"type":"managed","file_system":{"type":"restricted","entries":[{"path":{"type":"special","value":{"kind":"project_roots","subpath":"../x"}},"access":"read"}]}}`, nil, "stay below"},
		{"zero depth", `{"type":"managed","file_system":{"type":"restricted","entries":[],"glob_scan_max_depth":0}}`, nil, "glob_scan_max_depth 0"},
		{"no file system", `{"type":"managed"}`, nil, `missing field "file_system"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tc.in))
			switch {
			case tc.err == "unknown":
				if !errors.Is(err, ErrUnknownProfile) {
					t.Errorf("err = %v, want ErrUnknownProfile", err)
				}
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case !tc.check(p):
				t.Errorf("got %+v", p)
			}
		})
	}
}
