package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fullSpec sets every field of helperSpec, with strings that would trip a
// careless reader (separators, digits, empty ones, newlines, non-ASCII).
func fullSpec() helperSpec {
	return helperSpec{
		Mode:       WorkspaceWrite,
		Network:    true,
		Read:       []string{"/", "/opt/a:b", ""},
		Roots:      []Root{{Path: "/work/ws", Protected: []string{"/work/ws/.git", "/work/ws/.codex"}}, {Path: "/tmp"}},
		WriteFiles: []string{"/dev/12:34"},
		Mounts: []mountOp{
			{Path: "/work/ws/.git", Kind: opReadOnly, Dir: true, InMask: 3,
				ID:     fileID{Dev: 2049, Ino: 1 << 63},
				MakeIn: pathID{Path: "/work/ws", ID: fileID{Dev: 66, Ino: 7}}, Make: []string{".git", "3:x"}},
			{Path: "/home/u/.ssh", Kind: opMask, Keep: []string{"/home/u/.ssh/known hosts\n", "/home/u/.ssh/d"}, KeepFile: []bool{true, false}},
		},
		Shell:         &shellMount{Source: "/opt/bash", Targets: []string{"/bin/bash", "/usr/bin/bash"}},
		Namespaces:    true,
		Proc:          true,
		Gate:          true,
		MaxProcs:      1024,
		PidsCgroup:    "/sys/fs/cgroup/execgate-1-ab-2",
		NProc:         true,
		Landlock:      true,
		LandlockFlags: 4,
		AllWritable:   true,
		Writable:      []pathID{{Path: "/work/ws", ID: fileID{Dev: 2049, Ino: 1 << 63}}, {Path: "/dev/12:34", ID: fileID{Dev: 5, Ino: 6}}},
		MountPoints:   []string{"/", "/proc", "/mnt/a b"},
		Seccomp:       []byte{0x20, 0, 0, 0, 4, 0, 0, 0},
		GateFilter:    []byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f},
	}
}

// setOnOneMount are the mountOp fields fullSpec sets on one of its two
// mounts only (a created directory has no kept paths).
var setOnOneMount = []string{"ID", "Dir", "MakeIn", "Make", "InMask", "Keep", "KeepFile"}

// serverOnly are the helperSpec fields that stay in the server: it builds
// the Landlock ruleset and the filters from them.
var serverOnly = []string{"Network", "Read", "Roots", "WriteFiles"}

// TestPlanCoversEveryField: every field of helperSpec, of its mounts and of
// its shell mount that the helper needs changes the plan, so that a field
// added to the spec without its place in encodePlan fails here rather than
// being dropped on the way to the helper.
func TestPlanCoversEveryField(t *testing.T) {
	full := string(encodePlan(fullSpec(), nil, nil, ""))
	changes := func(what string, mutate func(h *helperSpec)) {
		h := fullSpec()
		mutate(&h)
		if string(encodePlan(h, nil, nil, "")) == full {
			t.Errorf("%s does not reach the plan", what)
		}
	}
	h := fullSpec()
	for i := range reflect.TypeOf(h).NumField() {
		f := reflect.TypeOf(h).Field(i)
		if !f.IsExported() || slices.Contains(serverOnly, f.Name) {
			continue
		}
		if v := reflect.ValueOf(h).Field(i); v.IsZero() {
			t.Errorf("fullSpec leaves %s unset", f.Name)
		}
		changes("helperSpec."+f.Name, func(h *helperSpec) {
			if f.Name == "Mode" {
				h.Mode = DangerFullAccess // all the helper learns of the mode
				return
			}
			reflect.ValueOf(h).Elem().Field(i).SetZero()
		})
	}
	for i := range reflect.TypeOf(mountOp{}).NumField() {
		name := reflect.TypeOf(mountOp{}).Field(i).Name
		if !reflect.TypeOf(mountOp{}).Field(i).IsExported() {
			continue
		}
		changes("mountOp."+name, func(h *helperSpec) {
			for m := range h.Mounts {
				reflect.ValueOf(&h.Mounts[m]).Elem().Field(i).SetZero()
			}
		})
	}
	for i := range reflect.TypeOf(shellMount{}).NumField() {
		name := reflect.TypeOf(shellMount{}).Field(i).Name
		changes("shellMount."+name, func(h *helperSpec) { reflect.ValueOf(h.Shell).Elem().Field(i).SetZero() })
	}
	for _, name := range setOnOneMount {
		if reflect.ValueOf(h.Mounts[0]).FieldByName(name).IsZero() && reflect.ValueOf(h.Mounts[1]).FieldByName(name).IsZero() {
			t.Errorf("fullSpec's mounts leave %s unset", name)
		}
	}
}

// plandumpBuild is testdata/plandump.c, the helper's plan decoder with a
// main that prints what it decoded, built once per test binary: with the
// address and undefined-behaviour sanitizers where the compiler has them.
var plandumpBuild struct {
	once      sync.Once
	path      string
	sanitized bool
	err       error
}

func plandump(t testing.TB) string {
	t.Helper()
	plandumpBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "execgate-plandump-")
		if err != nil {
			plandumpBuild.err = err
			return
		}
		out := filepath.Join(dir, "plandump")
		src := []string{"testdata/plandump.c", "nsexec/plan.c"}
		args := append([]string{"-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-o", out}, src...)
		sanitize := []string{"-fsanitize=address,undefined", "-fno-sanitize-recover=all"}
		if exec.Command("cc", append(sanitize, args...)...).Run() == nil {
			plandumpBuild.path, plandumpBuild.sanitized = out, true
			return
		}
		if b, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
			plandumpBuild.err = fmt.Errorf("cc %v: %w\n%s", src, err, b)
			return
		}
		plandumpBuild.path = out
	})
	if plandumpBuild.err != nil {
		t.Fatalf("building the plan decoder's test driver: %v", plandumpBuild.err)
	}
	return plandumpBuild.path
}

// decodePlan runs the helper's decoder on b: its dump, or its error.
func decodePlan(t testing.TB, b []byte, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(plandump(t), args...)
	cmd.Stdin = bytes.NewReader(b)
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), nil
	case errors.As(err, &ee) && ee.ExitCode() == 1 && strings.HasPrefix(stdout.String(), "error: "):
		return "", errors.New(strings.TrimSpace(strings.TrimPrefix(stdout.String(), "error: ")))
	}
	t.Fatalf("the plan decoder crashed on %q: %v\n%s", b, err, stderr.String())
	return "", nil
}

// cQuoted is how plandump prints a string.
func cQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wantDump is what plandump prints for the plan of h, argv, env and dir.
func wantDump(h helperSpec, argv, env []string, dir string) string {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	list := func(name string, ss []string) {
		line("%s %d", name, len(ss))
		for _, s := range ss {
			line("%s %s", name, cQuoted(s))
		}
	}
	line("confine %d", bit(h.Mode != DangerFullAccess))
	line("mounts %d", len(h.Mounts))
	for _, m := range h.Mounts {
		line("path %s", cQuoted(m.Path))
		line("kind %s", cQuoted(m.Kind))
		list("keep", m.Keep)
		line("id %d %d", m.ID.Dev, m.ID.Ino)
		line("dir %d", bit(m.Dir))
		line("make_in %s", cQuoted(m.MakeIn.Path))
		line("make_in_id %d %d", m.MakeIn.ID.Dev, m.MakeIn.ID.Ino)
		list("make", m.Make)
		line("in_mask %d", m.InMask)
		fmt.Fprintf(&b, "keep_file %d", len(m.KeepFile))
		for _, f := range m.KeepFile {
			fmt.Fprintf(&b, " %d", bit(f))
		}
		b.WriteByte('\n')
	}
	line("shell %d", bit(h.Shell != nil))
	if h.Shell != nil {
		line("shell_source %s", cQuoted(h.Shell.Source))
		list("shell_targets", h.Shell.Targets)
	}
	line("namespaces %d", bit(h.Namespaces))
	line("proc %d", bit(h.Proc))
	line("gate %d", bit(h.Gate))
	line("max_procs %d", h.MaxProcs)
	line("pids_cgroup %s", cQuoted(h.PidsCgroup))
	line("nproc %d", bit(h.NProc))
	line("landlock %d", bit(h.Landlock))
	line("landlock_flags %d", h.LandlockFlags)
	line("all_writable %d", bit(h.AllWritable))
	line("writable %d", len(h.Writable))
	for _, w := range h.Writable {
		line("writable %s", cQuoted(w.Path))
		line("writable_id %d %d", w.ID.Dev, w.ID.Ino)
	}
	list("mount_points", h.MountPoints)
	line("seccomp %x", h.Seccomp)
	line("gate_filter %x", h.GateFilter)
	list("argv", argv)
	list("env", programEnv(env))
	line("dir %s", cQuoted(dir))
	return b.String()
}

// TestPlanDecodes: the helper reads every field as the server wrote it.
func TestPlanDecodes(t *testing.T) {
	for _, tc := range []struct {
		h         helperSpec
		argv, env []string
		dir       string
	}{
		{fullSpec(), []string{"/bin/bash", "-c", "echo 3:abc\n\x01"}, []string{"A=1", "B=", "C=é"}, "/work/ws"},
		{helperSpec{Mode: ReadOnly}, nil, nil, ""},
		{helperSpec{}, []string{""}, []string{""}, ""},
	} {
		got, err := decodePlan(t, encodePlan(tc.h, tc.argv, tc.env, tc.dir))
		if err != nil {
			t.Fatalf("%+v: %v", tc.h, err)
		}
		if want := wantDump(tc.h, tc.argv, tc.env, tc.dir); got != want {
			t.Errorf("decoded:\n%s\nwant:\n%s", got, want)
		}
	}
}

// TestSpecWireHasNoNUL: every field ends up a C string (see specwire.go);
// binary fields travel as hex.
func TestSpecWireHasNoNUL(t *testing.T) {
	if bytes.IndexByte(encodePlan(fullSpec(), []string{"true"}, []string{"A=1"}, "/"), 0) >= 0 {
		t.Fatal("encoded plan contains a NUL byte")
	}
}

// TestPlanRejects: every cut of a plan, data after it, another message and
// non-canonical fields are errors, never a plan with fields missing.
func TestPlanRejects(t *testing.T) {
	enc := string(encodePlan(fullSpec(), []string{"/bin/true"}, []string{"A=1"}, "/"))
	if cuts, err := decodePlan(t, []byte(enc), "--cuts"); err != nil || cuts != "" {
		t.Errorf("decoded cuts at these lengths of %d bytes: %q (%v)", len(enc), cuts, err)
	}
	// rep is strings.Replace of the first old, which must be there.
	rep := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %q", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	small := func(h helperSpec) string { return string(encodePlan(h, nil, nil, "")) }
	for name, bad := range map[string]string{
		"trailing data":    enc + "0:",
		"json":             `{"mode":"read-only"}`,
		"empty":            "",
		"other tag":        rep(enc, "5:plan1", "5:plan2"),
		"leading zero":     rep(enc, "5:plan1", "05:plan1"),
		"huge length":      rep(enc, "5:plan1", "9999999999:plan1"),
		"plus sign number": rep(small(helperSpec{MaxProcs: 7}), "1:7", "2:+7"),
		"minus zero":       rep(small(helperSpec{MaxProcs: 7}), "1:7", "2:-0"),
		"number overflow":  rep(small(helperSpec{MaxProcs: 7}), "1:7", "20:99999999999999999999"),
		"boolean 2":        rep(small(helperSpec{Mode: DangerFullAccess}), "1:0", "1:2"),
		"huge list":        rep(small(helperSpec{MountPoints: []string{"/"}}), "1:11:/", "8:99999999"),
		"negative list":    rep(small(helperSpec{MountPoints: []string{"/"}}), "1:11:/", "2:-11:/"),
		"upper-case hex":   rep(small(helperSpec{Seccomp: []byte{0xab}}), "2:ab", "2:AB"),
		"odd hex":          rep(small(helperSpec{Seccomp: []byte{0xab}}), "2:ab", "1:a"),
	} {
		if got, err := decodePlan(t, []byte(bad)); err == nil {
			t.Errorf("%s: decoded\n%s", name, got)
		}
	}
}

// planServer is one plandump --serve for the whole fuzzing process: a
// process per input would make fuzzing a hundred times slower.
type planServer struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    io.Reader
	stderr bytes.Buffer
}

// decode sends b and reads the answer: whether it decoded. A server that
// crashed fails the test with what the sanitizer said.
func (s *planServer) decode(t *testing.T, b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.cmd = exec.Command(plandump(t), "--serve")
		s.cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
		s.cmd.Stderr = &s.stderr
		var err error
		if s.in, err = s.cmd.StdinPipe(); err == nil {
			s.out, err = s.cmd.StdoutPipe()
		}
		if err == nil {
			err = s.cmd.Start()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	msg := binary.NativeEndian.AppendUint32(nil, uint32(len(b)))
	var answer [1]byte
	_, err := s.in.Write(append(msg, b...))
	if err == nil {
		_, err = io.ReadFull(s.out, answer[:])
	}
	if err != nil || (answer[0] != '0' && answer[0] != '1') {
		s.in.Close()
		werr := s.cmd.Wait()
		s.cmd = nil
		t.Fatalf("the plan decoder crashed on %q: %v (%v)\n%s", b, err, werr, s.stderr.String())
	}
	return answer[0] == '0'
}

var fuzzPlanServer planServer

// FuzzPlanDecode: the helper's decoder, run on any input (sanitized where
// the compiler can), neither crashes nor reads out of bounds, and no input
// decodes both as it is and with a byte appended: a plan ends where its
// last field does. (Its first run found an out-of-bounds read in an error
// message; the input is in testdata.)
func FuzzPlanDecode(f *testing.F) {
	f.Add(encodePlan(fullSpec(), []string{"/bin/true"}, []string{"X=1"}, "/"))
	f.Add(encodePlan(helperSpec{}, nil, nil, ""))
	f.Add([]byte("5:plan1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if fuzzPlanServer.decode(t, b) && fuzzPlanServer.decode(t, append(b[:len(b):len(b)], '0')) {
			t.Fatalf("%q decoded, and so did it with a byte more", b)
		}
	})
}
