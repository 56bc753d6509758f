package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/escalate"
)

// errUnpatchedBash is returned (wrapped) for a Bash that does not route its
// execs through EXEC_WRAPPER: with it the policy would silently not apply.
//
//lint:ignore ST1005 a proper noun
var errUnpatchedBash = errors.New("Bash does not honour EXEC_WRAPPER (not execgate's patched Bash)")

// bashProbe is what the startup probe found out about a Bash.
type bashProbe struct {
	Path string
	// Sticky is true when the Bash keeps intercepting after the script
	// unsets EXEC_WRAPPER (execgate's patch reads it once at startup;
	// Codex's does not).
	Sticky bool
}

// probeMarker prefixes each line the probe wrapper prints.
const probeMarker = "execgate-wrapper-probe:"

// probeBash runs bash with a probe wrapper (a shell script) and checks
// that every exec went through it with its argv intact. A Bash that execs
// directly is refused. The script lives in memory (probeScript), so the
// probe needs no directory: a server using installed helpers may have no
// private directory it can write.
func probeBash(ctx context.Context, bash string) (bashProbe, error) {
	script, err := probeScript("#!/bin/sh\nprintf '%s' '" + probeMarker + "'\nprintf '%s|' \"$@\"\nprintf '\\n'\n")
	if err != nil {
		return bashProbe{}, fmt.Errorf("probing %s: %w", bash, err)
	}
	defer script.Close()
	// Bash has the script as fd 3, so does the wrapper it forks, and so
	// does the /bin/sh that kernel starts for the #! line and that opens
	// the path it was given.
	const wrapper = "/proc/self/fd/3"

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The second exec follows `unset`: a Bash that reads the wrapper from
	// its live environment stops intercepting there.
	cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c",
		"/bin/echo one 'two words'; unset "+escalate.EnvWrapper+" "+escalate.EnvLegacyWrapper+"; /bin/echo three")
	cmd.Env = []string{
		"PATH=/usr/bin:/bin",
		escalate.EnvWrapper + "=" + wrapper,
		escalate.EnvLegacyWrapper + "=" + wrapper,
	}
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{script}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return bashProbe{}, fmt.Errorf("probing %s: %w (output %q); %s", bash, err, truncateString(out.String(), 200), bashBuildHint)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	first := probeMarker + "/bin/echo|/bin/echo|one|two words|"
	if len(lines) != 2 || lines[0] != first {
		return bashProbe{}, fmt.Errorf("%s: %w: probe printed %q, want %q first; %s",
			bash, errUnpatchedBash, truncateString(out.String(), 200), first, bashBuildHint)
	}
	return bashProbe{Path: bash, Sticky: strings.HasPrefix(lines[1], probeMarker)}, nil
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// probeScript returns an executable in-memory file (memfd) holding script.
// MFD_EXEC asks for exec permission where vm.memfd_noexec would deny it by
// default (Linux 6.3 on); older kernels know no such flag and allow exec.
func probeScript(script string) (*os.File, error) {
	fd, err := unix.MemfdCreate("execgate-probe-wrapper", unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("execgate-probe-wrapper", unix.MFD_CLOEXEC)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create for the probe wrapper: %w", err)
	}
	f := os.NewFile(uintptr(fd), "execgate-probe-wrapper")
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the probe wrapper: %w", err)
	}
	return f, nil
}
