package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeRefusesStockBash(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no /bin/bash")
	}
	err := ProbeBash(context.Background(), "/bin/bash")
	if err == nil || !strings.Contains(err.Error(), "/bin/bash is not the patched Bash") || !strings.Contains(err.Error(), "make bash") {
		t.Errorf("ProbeBash(/bin/bash) = %v", err)
	}
}

// The patched Bash comes from the build (make test-go sets EXECGATE_TEST_BASH).
func TestProbeAcceptsPatchedBash(t *testing.T) {
	p := os.Getenv("EXECGATE_TEST_BASH")
	if p == "" {
		t.Skip("EXECGATE_TEST_BASH not set (make test-go sets it)")
	}
	if err := ProbeBash(context.Background(), p); err != nil {
		t.Errorf("ProbeBash(%s) = %v", p, err)
	}
}

func TestBashCandidatesAndFind(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	exe := "/opt/eg/bin/execgate"

	opts := DefaultOptions()
	cs := BashCandidates(opts, get, exe, "/repo")
	var paths []string
	for _, c := range cs {
		paths = append(paths, c.Path)
	}
	want := []string{"/opt/eg/lib/execgate/bash", "/opt/eg/bin/bash/bin/bash", "/repo/build/bash/bin/bash"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("default candidates %v, want %v", paths, want)
	}

	env[EnvCodexBash] = "/codex/bash"
	if cs := BashCandidates(opts, get, exe, "/repo"); len(cs) != 1 || cs[0].Path != "/codex/bash" || !cs[0].Explicit {
		t.Errorf("with $%s: %+v", EnvCodexBash, cs)
	}
	env[EnvBash] = "/eg/bash"
	if cs := BashCandidates(opts, get, exe, "/repo"); len(cs) != 1 || cs[0].Path != "/eg/bash" {
		t.Errorf("$%s must win over $%s: %+v", EnvBash, EnvCodexBash, cs)
	}
	opts.Bash = "/flag/bash"
	if cs := BashCandidates(opts, get, exe, "/repo"); len(cs) != 1 || cs[0].From != "--bash" {
		t.Errorf("--bash must win: %+v", cs)
	}

	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name  string
		cands []BashCandidate
		want  string
	}{
		{"nothing found", []BashCandidate{{Path: filepath.Join(dir, "a")}, {Path: filepath.Join(dir, "b")}},
			"no patched Bash found (looked in " + dir + "/a, " + dir + "/b)"},
		{"explicit missing", []BashCandidate{{Path: filepath.Join(dir, "x"), From: "--bash", Explicit: true}, {Path: "/bin/bash"}},
			"patched Bash from --bash: stat " + dir + "/x"},
		{"stock bash refused", []BashCandidate{{Path: filepath.Join(dir, "a")}, {Path: "/bin/bash", From: "build directory"}},
			"patched Bash from build directory: /bin/bash is not the patched Bash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FindBash(ctx, tt.cands)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWrapperPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "execgate")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()

	// Not installed: a private symlink, removed by cleanup.
	p, cleanup, err := WrapperPath(opts, exe)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != WrapperName {
		t.Errorf("wrapper %s is not named %s", p, WrapperName)
	}
	if target, _ := os.Readlink(p); target != exe {
		t.Errorf("wrapper links to %q, want %q", target, exe)
	}
	if fi, _ := os.Stat(filepath.Dir(p)); fi.Mode().Perm() != 0o700 {
		t.Errorf("private dir mode %v", fi.Mode().Perm())
	}
	cleanup()
	if _, err := os.Lstat(p); err == nil {
		t.Error("cleanup left the symlink")
	}

	// Installed next to the binary.
	if err := os.Symlink("execgate", filepath.Join(dir, WrapperName)); err != nil {
		t.Fatal(err)
	}
	if p, _, err := WrapperPath(opts, exe); err != nil || p != filepath.Join(dir, WrapperName) {
		t.Errorf("installed wrapper: %s, %v", p, err)
	}

	// --execve.
	opts.Execve = exe
	if p, _, err := WrapperPath(opts, exe); err != nil || p != exe {
		t.Errorf("--execve: %s, %v", p, err)
	}
	opts.Execve = dir
	if _, _, err := WrapperPath(opts, exe); err == nil || !strings.Contains(err.Error(), "flag --execve") {
		t.Errorf("--execve a directory: %v", err)
	}
}
