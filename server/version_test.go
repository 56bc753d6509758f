package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/internal/testbin"
	"github.com/execgate/execgate/internal/testhelp"
)

// goVersion matches what `go build` stamps from git: a tag, or a
// pseudo-version, with "+dirty" for uncommitted changes.
var goVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+(-(0\.)?\d{14}-[0-9a-f]{12})?(\+dirty)?$`)

// serverInfo.version is the version `make build` links in, which is the one
// `go build` stamps from the same git checkout where it can.
func TestServerInfoVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root, _ := filepath.Abs("..")
	out, err := exec.Command(filepath.Join(root, "scripts", "version.sh")).Output()
	if err != nil {
		t.Fatalf("scripts/version.sh: %v", err)
	}
	want := strings.TrimSpace(string(out))
	if want == "" {
		t.Skip("not a git checkout")
	}
	if !goVersion.MatchString(want) {
		t.Fatalf("scripts/version.sh printed %q, not a Go module version", want)
	}

	// The Makefile links it in...
	dry := exec.Command("make", "-n", "build")
	dry.Dir = root
	if b, err := dry.Output(); err != nil || !strings.Contains(string(b), "buildinfo.Version="+want+" ") {
		t.Errorf("make build does not link in the version %s (%v):\n%s", want, err, b)
	}
	// ... and the binary built so reports it.
	bin := testbin.Must(t, testbin.Execgate, "-ldflags=-X github.com/execgate/execgate/internal/buildinfo.Version="+want)
	cmd := exec.Command(bin, "server")
	cmd.Env = serverEnv(t, testhelp.PrivateDir(t))
	client := mcp.NewClient(&mcp.Implementation{Name: "version-test", Version: "0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if got := cs.InitializeResult().ServerInfo.Version; got != want {
		t.Errorf("serverInfo.version %q, want %q", got, want)
	}

	// As a plain `go build` stamps it, where Go can read the checkout (not
	// in a git worktree, nor with GOFLAGS=-buildvcs=false).
	plain := filepath.Join(t.TempDir(), "execgate")
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", plain, ".")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	v, err := exec.Command(plain, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(string(v)); len(fields) < 2 || fields[1] == "devel" {
		if fi, err := os.Stat(filepath.Join(root, ".git")); err == nil && fi.IsDir() {
			t.Errorf("plain go build in a git clone reports %q", v)
		} else {
			t.Logf("go build cannot stamp a version here (.git is not a directory): %q", v)
		}
	} else if fields[1] != want {
		t.Errorf("go build stamps %q, make build links %q", fields[1], want)
	}
}
