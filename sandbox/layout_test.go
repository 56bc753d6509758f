package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/codexfixture"
)

// layoutBase is a scratch tree for layout tests: work (with a .git),
// extra (with secret/ and key files at several depths) and home/notes.
func layoutBase(t *testing.T) (base string, p codexfixture.Paths) {
	t.Helper()
	// Not below /tmp, which some profiles make readable or writable.
	base, err := os.MkdirTemp("/var/tmp", "execgate-layout-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if base, err = filepath.EvalSymlinks(base); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"work/.git/hooks", "work/docs/out", "extra/secret/pub", "extra/a/c/d", "home/notes"} {
		mustMkdir(t, filepath.Join(base, d))
	}
	for _, f := range []string{"extra/secret/id", "extra/secret/pub/k", "extra/a/b.key", "extra/a/c/d.key", "extra/a/c/d/e.key", "extra/top.key"} {
		mustWrite(t, filepath.Join(base, f), "x")
	}
	return base, codexfixture.Paths{Work: base + "/work", Extra: base + "/extra", Home: base + "/home"}
}

func profileSpec(t *testing.T, profile json.RawMessage, work string) Spec {
	t.Helper()
	var pol Policy
	if err := json.Unmarshal(profile, &pol); err != nil {
		t.Fatal(err)
	}
	return Spec{Policy: pol, Workspace: work}
}

// opsString renders mounts as "kind path[keep...]" for comparisons.
func opsString(l Layout) []string {
	var out []string
	for _, op := range l.mounts {
		s := op.Kind + " " + op.Path
		if len(op.Keep) > 0 {
			s += fmt.Sprint(op.Keep)
		}
		out = append(out, s)
	}
	return out
}

func rootPaths(l Layout) []string {
	var out []string
	for _, r := range l.Roots {
		out = append(out, r.Path)
	}
	return out
}

func TestLayoutCodexWorkspaceWrite(t *testing.T) {
	base, p := layoutBase(t)
	mustMkdir(t, p.Work+"/.aws")
	l, err := profileSpec(t, codexfixture.Profile(t, "ww", p), p.Work).Layout()
	if err != nil {
		t.Fatal(err)
	}
	tmp, _ := filepath.EvalSymlinks("/tmp")
	if !reflect.DeepEqual(l.Read, []string{"/"}) || !reflect.DeepEqual(rootPaths(l), []string{p.Work, tmp}) {
		t.Fatalf("read %v roots %v", l.Read, rootPaths(l))
	}
	// Codex's carve-outs join execgate's protected names, in order.
	want := []string{p.Work + "/.git", p.Work + "/.codex", p.Work + "/.agents", p.Work + "/.aws"}
	if got := l.Roots[0].Protected; !reflect.DeepEqual(got, want) {
		t.Errorf("protected = %v, want %v", got, want)
	}
	for _, w := range want {
		if !slices.Contains(opsString(l), "ro "+w) {
			t.Errorf("no read-only mount for %s: %v", w, opsString(l))
		}
	}
	_ = base
}

func TestLayoutPrecedence(t *testing.T) {
	base, p := layoutBase(t)
	entry := func(path, access string) string {
		return fmt.Sprintf(`{"path":{"type":"path","path":%q},"access":%q}`, path, access)
	}
	profile := func(entries ...string) json.RawMessage {
		return json.RawMessage(`{"type":"managed","file_system":{"type":"restricted","entries":[` + strings.Join(entries, ",") + `]},"network":"restricted"}`)
	}
	for _, tc := range []struct {
		name    string
		entries []string
		read    []string
		roots   []string
		denied  []string
		ops     []string
	}{
		{"deny inside a writable root is masked",
			[]string{entry("/", "read"), entry(p.Extra, "write"), entry(p.Extra+"/secret", "deny")},
			[]string{"/"}, []string{p.Extra}, []string{p.Extra + "/secret"},
			[]string{"mask " + p.Extra + "/secret", "ro " + p.Extra + "/.agents", "ro " + p.Extra + "/.codex", "ro " + p.Extra + "/.git"}},
		{"equally specific: deny beats write beats read",
			[]string{entry("/", "read"), entry(p.Extra, "write"), entry(p.Extra, "read"), entry(p.Extra+"/a", "write"), entry(p.Extra+"/a", "deny")},
			[]string{"/"}, []string{p.Extra}, []string{p.Extra + "/a"}, nil},
		{"more specific wins: read inside deny is revealed read-only",
			[]string{entry("/", "read"), entry(p.Extra+"/secret", "deny"), entry(p.Extra+"/secret/pub", "read")},
			[]string{"/"}, nil, []string{p.Extra + "/secret"},
			[]string{"mask " + p.Extra + "/secret[" + p.Extra + "/secret/pub]", "ro " + p.Extra + "/secret/pub"}},
		{"write inside a read-only carve-out gets a writable view",
			[]string{entry("/", "read"), entry(p.Work, "write"), entry(p.Work+"/docs", "read"), entry(p.Work+"/docs/out", "write")},
			[]string{"/"}, []string{p.Work, p.Work + "/docs/out"}, nil, nil},
		{"deny without any grant above needs no mount",
			[]string{entry(p.Home, "read"), entry(p.Extra, "deny")},
			[]string{p.Home}, nil, nil, []string{}},
		{"a profile cannot make a protected path writable",
			[]string{entry("/", "read"), entry(p.Work, "write"), entry(p.Work+"/.git", "write"), entry(p.Work+"/.git/hooks", "write")},
			[]string{"/"}, []string{p.Work}, nil, []string{"ro " + p.Work + "/.git"}},
		{"root write has no protected names",
			[]string{`{"path":{"type":"special","value":{"kind":"root"}},"access":"write"}`},
			nil, []string{"/"}, nil, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := profileSpec(t, profile(tc.entries...), p.Work).Layout()
			if err != nil {
				t.Fatal(err)
			}
			if tc.read != nil && !reflect.DeepEqual(l.Read, tc.read) {
				t.Errorf("read = %v, want %v", l.Read, tc.read)
			}
			if !reflect.DeepEqual(rootPaths(l), tc.roots) {
				t.Errorf("roots = %v, want %v", rootPaths(l), tc.roots)
			}
			if !reflect.DeepEqual(l.Denied, tc.denied) {
				t.Errorf("denied = %v, want %v", l.Denied, tc.denied)
			}
			got := opsString(l)
			if tc.ops != nil {
				if len(tc.ops) == 0 && len(got) != 0 {
					t.Errorf("mounts = %v, want none", got)
				}
				for _, w := range tc.ops {
					if !slices.Contains(got, w) {
						t.Errorf("mounts = %v, want %q among them", got, w)
					}
				}
			}
		})
	}
	_ = base

	// The writable view in the carve-out case, in order.
	l, err := profileSpec(t, profile(entry("/", "read"), entry(p.Work, "write"), entry(p.Work+"/docs", "read"), entry(p.Work+"/docs/out", "write")), p.Work).Layout()
	if err != nil {
		t.Fatal(err)
	}
	ops := opsString(l)
	iDocs, iOut := slices.Index(ops, "ro "+p.Work+"/docs"), slices.Index(ops, "rw "+p.Work+"/docs/out")
	if iDocs < 0 || iOut < iDocs {
		t.Errorf("mounts = %v: want docs read-only, then docs/out writable", ops)
	}
	if !slices.Contains(l.Roots[0].Protected, p.Work+"/docs") {
		t.Errorf("docs not among %s's protected paths: %v", p.Work, l.Roots[0].Protected)
	}
}

func TestLayoutSpecialAndGlob(t *testing.T) {
	_, p := layoutBase(t)
	l, err := profileSpec(t, codexfixture.Profile(t, "dp-special", p), p.Work).layout(layoutOptions{namespaces: true, privateProc: true})
	if err != nil {
		t.Fatal(err)
	}
	// :minimal gives the system directories that exist, and /proc with a
	// private one.
	for _, w := range []string{"/usr", "/etc", "/proc", p.Home + "/notes"} {
		if !slices.Contains(l.Read, w) {
			t.Errorf("read %v lacks %s", l.Read, w)
		}
	}
	if slices.Contains(l.Read, "/") || slices.Contains(l.Read, "/nix/store") {
		t.Errorf("read %v: want neither / nor missing paths", l.Read)
	}
	// The ** glob matched the key files at every depth; they are not
	// under a grant here (extra is not readable), so no mask is needed.
	if len(l.Denied) != 0 {
		t.Errorf("denied %v, want none: nothing grants access to %s", l.Denied, p.Extra)
	}

	// The same glob with extra writable, searched 2 levels deep.
	prof := `{"type":"managed","file_system":{"type":"restricted","glob_scan_max_depth":2,"entries":[` +
		`{"path":{"type":"special","value":{"kind":"root"}},"access":"read"},` +
		`{"path":{"type":"path","path":"` + p.Extra + `"},"access":"write"},` +
		`{"path":{"type":"glob_pattern","pattern":"` + p.Extra + `/**/*.key"},"access":"deny"}]}}`
	l, err = profileSpec(t, json.RawMessage(prof), p.Work).Layout()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(l.Denied)
	want := []string{p.Extra + "/a/b.key", p.Extra + "/top.key"}
	if !reflect.DeepEqual(l.Denied, want) {
		t.Errorf("denied = %v, want %v (the others lie more than 2 levels below %s)", l.Denied, want, p.Extra)
	}
}

func TestLayoutNoNamespaces(t *testing.T) {
	_, p := layoutBase(t)
	// Codex's workspace-write: its carve-outs are execgate's names (.git
	// exists here), which go unenforced without namespaces, as documented.
	l, err := profileSpec(t, codexfixture.Profile(t, "ww", p), p.Work).layout(layoutOptions{})
	if err != nil {
		t.Fatalf("ww without namespaces: %v", err)
	}
	if len(l.mounts) != 0 || len(l.Roots[0].Protected) != 0 {
		t.Errorf("mounts %v protected %v: want none (not enforced, so not claimed)", opsString(l), l.Roots[0].Protected)
	}
	// A deny that needs a mask fails closed.
	_, err = profileSpec(t, codexfixture.Profile(t, "dp-custom", p), p.Work).layout(layoutOptions{})
	if err == nil || !strings.Contains(err.Error(), p.Extra+"/secret must be denied") || !strings.Contains(err.Error(), "nothing was run") {
		t.Errorf("dp-custom without namespaces: err = %v", err)
	}
}

func TestLayoutMissingPaths(t *testing.T) {
	_, p := layoutBase(t)
	prof := `{"type":"managed","file_system":{"type":"restricted","entries":[` +
		`{"path":{"type":"special","value":{"kind":"root"}},"access":"read"},` +
		`{"path":{"type":"path","path":"` + p.Extra + `/gone"},"access":"write"},` +
		`{"path":{"type":"path","path":"` + p.Extra + `/also-gone"},"access":"write","missing_path_behavior":"skip"},` +
		`{"path":{"type":"path","path":"` + p.Work + `/.aws"},"access":"read","missing_path_behavior":"skip"}]}}`
	l, err := profileSpec(t, json.RawMessage(prof), p.Work).Layout()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Roots) != 0 || len(l.Notes) != 1 || !strings.Contains(l.Notes[0], p.Extra+"/gone does not exist") {
		t.Errorf("roots %v notes %q: want no roots and one note about the missing writable path", rootPaths(l), l.Notes)
	}
}

// BenchmarkLayout: what resolving a call's sandbox costs, for a mode and
// for the profile Codex 0.171 sends for workspace-write.
func BenchmarkLayout(b *testing.B) {
	base, err := os.MkdirTemp("/var/tmp", "execgate-layout-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(base)
	p := codexfixture.Paths{Work: base + "/work", Extra: base + "/extra", Home: base}
	mustMkdir(b, p.Work+"/.git")
	var prof Policy
	if err := json.Unmarshal(codexfixture.Profile(b, "ww", p), &prof); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"workspace-write", Spec{Policy: Policy{Mode: WorkspaceWrite}, Workspace: p.Work}},
		{"codex-0.171-ww", Spec{Policy: prof, Workspace: p.Work}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tc.spec.Layout(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
