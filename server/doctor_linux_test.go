package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/execgate/execgate/internal/testbash"
)

// doctor says what a dangerous command does under the configured mode.
func TestDoctorDangerousMode(t *testing.T) {
	bash := testbash.Path(t)
	for _, tt := range []struct{ config, want string }{
		{"", "mode:               confine: run inside the sandbox without asking"},
		{"[execgate]\ndangerous_commands = \"ask\"\n", "mode:               ask: ask the user, also where the sandbox would contain it"},
	} {
		home := privateDir(t)
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
