package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// profileJSON builds a managed, restricted profile from "ACCESS PATH"
// lines ("read :root", "deny glob /x/**/*.pem", "write /w").
func profileJSON(t *testing.T, lines ...string) Policy {
	t.Helper()
	var entries []string
	for _, l := range lines {
		access, path, _ := strings.Cut(l, " ")
		var p string
		switch {
		case strings.HasPrefix(path, ":"):
			p = fmt.Sprintf(`{"type":"special","value":{"kind":%q}}`, path[1:])
		case strings.HasPrefix(path, "glob "):
			p = fmt.Sprintf(`{"type":"glob_pattern","pattern":%q}`, strings.TrimPrefix(path, "glob "))
		default:
			p = fmt.Sprintf(`{"type":"path","path":%q}`, path)
		}
		entries = append(entries, fmt.Sprintf(`{"path":%s,"access":%q}`, p, access))
	}
	var pol Policy
	raw := `{"type":"managed","file_system":{"type":"restricted","entries":[` + strings.Join(entries, ",") + `]},"network":"restricted"}`
	if err := json.Unmarshal([]byte(raw), &pol); err != nil {
		t.Fatal(err)
	}
	return pol
}

// probeLines runs "NAME WANT PROBE ARGS" checks in one sandboxed Bash and
// reports each whose outcome differs from WANT (ok or fail).
func probeLines(t *testing.T, e testEnv, req launchRequest, checks []string) {
	t.Helper()
	var script []string
	for _, c := range checks {
		f := strings.Fields(c)
		script = append(script, fmt.Sprintf("echo %s $(%s probe %s 2>&1 | tail -1)", f[0], e.bin, strings.Join(f[2:], " ")))
	}
	req.Argv = []string{"/bin/bash", "-c", strings.Join(script, "\n")}
	out, code := e.launch(t, req)
	if code != 0 {
		t.Fatalf("uid %d: exit %d:\n%s", e.uid, code, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, result, _ := strings.Cut(line, " ")
		got[name] = result
	}
	for _, c := range checks {
		f := strings.Fields(c)
		ok := got[f[0]] == "ok"
		if ok != (f[1] == "ok") {
			t.Errorf("uid %d: %s (probe %s): got %q, want %s", e.uid, f[0], strings.Join(f[2:], " "), got[f[0]], f[1])
		}
	}
}

// TestProfileDenyInsideWritableRoot: a profile's deny entries inside a
// writable root (a directory, a file, glob matches) can be neither read nor
// written nor removed; a more specific read entry inside a denied
// directory is readable again, read-only; a write entry inside a read-only
// one is writable again. As root and as an unprivileged user.
func TestProfileDenyInsideWritableRoot(t *testing.T) {
	if !testProbe(t).Namespaces {
		t.Skip("no user namespaces here")
	}
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		w := e.ws
		for _, d := range []string{"secret/pub", "docs/out", "deep/er"} {
			mustMkdir(t, w+"/"+d)
		}
		for _, f := range []string{"secret/id", "secret/pub/k", "key.txt", "deep/er/a.pem", "plain"} {
			mustWrite(t, w+"/"+f, "x")
		}
		chownTree(t, w, uid)
		pol := profileJSON(t, "read :root", "write "+w, "deny "+w+"/secret", "read "+w+"/secret/pub",
			"deny "+w+"/key.txt", "deny glob "+w+"/**/*.pem", "read "+w+"/docs", "write "+w+"/docs/out")
		probeLines(t, e, launchRequest{Policy: pol}, []string{
			"secret-read fail readx " + w + "/secret/id",
			"secret-write fail write " + w + "/secret/id",
			"secret-create fail write " + w + "/secret/new",
			"secret-move fail rename " + w + "/secret " + w + "/moved",
			"revealed-read ok readx " + w + "/secret/pub/k",
			"revealed-write fail write " + w + "/secret/pub/k",
			"file-read fail readx " + w + "/key.txt",
			"file-write fail write " + w + "/key.txt",
			"glob-read fail readx " + w + "/deep/er/a.pem",
			"carveout-write fail write " + w + "/docs/f",
			"inner-write ok write " + w + "/docs/out/f",
			"plain-read ok readx " + w + "/plain",
			"plain-write ok write " + w + "/new",
			"git-write fail write " + w + "/.git/config",
		})
		// Nothing was lost on the host.
		for _, f := range []string{"secret/id", "key.txt", "deep/er/a.pem"} {
			if data, err := os.ReadFile(w + "/" + f); err != nil || string(data) != "x" {
				t.Errorf("uid %d: %s after the call: %q, %v", uid, f, data, err)
			}
		}
	}
}

// TestProfileMinimal: with only ":minimal" readable (and the workspace
// writable) Bash and ordinary programs run, and nothing else is readable.
func TestProfileMinimal(t *testing.T) {
	for _, uid := range []int{0, nobody} {
		e := newTestEnv(t, uid)
		mustWrite(t, e.home+"/f", "x")
		mustWrite(t, e.ws+"/f", "x")
		chownTree(t, e.home, uid)
		chownTree(t, e.ws, uid)
		pol := profileJSON(t, "read :minimal", "write "+e.ws)
		probeLines(t, e, launchRequest{Policy: pol, Programs: []string{e.bin}}, []string{
			"etc ok read /etc/passwd",
			"usr ok read /usr/bin/env",
			"home fail readx " + e.home + "/f",
			"ws ok readx " + e.ws + "/f",
			"ws-write ok write " + e.ws + "/g",
			"root fail read /root/.bashrc",
		})
	}
}

// TestProfileDenyWithoutNamespaces: where the helper cannot mount, a deny
// that needs a mask fails the call before anything runs.
func TestProfileDenyWithoutNamespaces(t *testing.T) {
	e := newTestEnv(t, 0)
	mustMkdir(t, e.ws+"/secret")
	pol := profileJSON(t, "read :root", "write "+e.ws, "deny "+e.ws+"/secret")
	out, code := e.launch(t, launchRequest{Policy: pol, NoNamespaces: true, Argv: []string{"/bin/echo", "ran"}})
	if code != 201 || strings.Contains(out, "ran") || !strings.Contains(out, e.ws+"/secret must be denied") {
		t.Errorf("exit %d, want 201 (launch error) naming the denied path:\n%s", code, out)
	}
}
