package engine

import (
	"strings"
	"testing"

	"github.com/execgate/execgate/policy"
)

// config.toml's [execgate.repository_programs] adds to git's entries; a bad
// kind or an attempt to change git's is an error naming the key.
func TestRepositoryPrograms(t *testing.T) {
	cfg := &policy.Config{Execgate: policy.ExecgateConfig{RepositoryPrograms: map[string]string{"make": "workdir", "npm*": "workdir"}}}
	table, err := repositoryPrograms(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.String(); got != "git=git git-*=git make=workdir npm*=workdir" {
		t.Errorf("table %q", got)
	}
	for programs, want := range map[string]string{
		"shell": "execgate.repository_programs.make: unknown kind",
		"git":   "",
	} {
		cfg := &policy.Config{Execgate: policy.ExecgateConfig{RepositoryPrograms: map[string]string{"make": programs}}}
		_, err := repositoryPrograms(cfg)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("make = %q: %v, want %q", programs, err, want)
		}
	}
	cfg = &policy.Config{Execgate: policy.ExecgateConfig{RepositoryPrograms: map[string]string{"git": "workdir"}}}
	if _, err := repositoryPrograms(cfg); err == nil || !strings.Contains(err.Error(), "execgate.repository_programs.git: program \"git\" is built in") {
		t.Errorf("git = workdir: %v", err)
	}
}
