package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
	"github.com/execgate/execgate/internal/testhelp"
)

// doctor says what a dangerous command does under the configured mode.
func TestDoctorDangerousMode(t *testing.T) {
	bash := testbash.Path(t)
	for _, tt := range []struct{ config, want string }{
		{"", "mode:               confine: run inside the sandbox without asking"},
		{"[execgate]\ndangerous_commands = \"ask\"\n", "mode:               ask: ask the user, also where the sandbox would contain it"},
	} {
		home := testhelp.PrivateDir(t)
		if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(tt.config), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("EXECGATE_HOME", home)
		var out, errOut strings.Builder
		if code := doctor([]string{"--bash", bash}, &out, &errOut); code != 0 {
			t.Errorf("config %q: exit %d, want 0", tt.config, code)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("config %q: doctor lacks %q:\n%s", tt.config, tt.want, out.String())
		}
	}
}

// TestDoctorReportsWritablePolicyFiles: doctor says which policy files the
// sandbox could write, and that none can when that is so.
func TestDoctorReportsWritablePolicyFiles(t *testing.T) {
	bash := testbash.Path(t)
	home := filepath.Join(t.TempDir(), "codex") // /tmp is a writable root
	t.Setenv("EXECGATE_HOME", home)
	var out, errOut strings.Builder
	if code := doctor([]string{"--bash", bash}, &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"execution engine: FAILED: refusing rules, config and requirements",
		"config file " + filepath.Join(home, "config.toml") + " is inside the writable root"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}

	t.Setenv("EXECGATE_HOME", testhelp.PrivateDir(t))
	out.Reset()
	if code := doctor([]string{"--bash", bash}, &out, &errOut); code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out.String())
	}
	if want := "policy files:       rules, config and requirements are outside the writable roots"; !strings.Contains(out.String(), want) {
		t.Errorf("doctor output lacks %q:\n%s", want, out.String())
	}
}
