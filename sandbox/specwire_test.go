package sandbox

import (
	"reflect"
	"slices"
	"strings"
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
		Seccomp:       []byte{0x20, 0, 0, 0, 4, 0, 0, 0},
		GateFilter:    []byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f},
	}
}

// setOnOneMount are the mountOp fields fullSpec sets on one of its two
// mounts only (a created directory has no kept paths).
var setOnOneMount = []string{"ID", "Dir", "MakeIn", "Make", "InMask", "Keep", "KeepFile"}

// TestSpecWireCoversEveryField: fullSpec sets every exported field, so
// that a field added to the spec without its place in specwire.go fails
// the round trip below rather than being dropped on the way to the helper.
func TestSpecWireCoversEveryField(t *testing.T) {
	h := fullSpec()
	for _, v := range []reflect.Value{reflect.ValueOf(h), reflect.ValueOf(h.Roots[0]),
		reflect.ValueOf(h.Mounts[0]), reflect.ValueOf(h.Mounts[1]), reflect.ValueOf(*h.Shell)} {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && v.Field(i).IsZero() && !slices.Contains(setOnOneMount, f.Name) {
				t.Errorf("fullSpec leaves %s.%s unset", v.Type().Name(), f.Name)
			}
		}
	}
	// These are set on one mount each.
	for _, name := range setOnOneMount {
		if reflect.ValueOf(h.Mounts[0]).FieldByName(name).IsZero() && reflect.ValueOf(h.Mounts[1]).FieldByName(name).IsZero() {
			t.Errorf("fullSpec's mounts leave %s unset", name)
		}
	}
}

func TestSpecWireRoundTrip(t *testing.T) {
	for _, h := range []helperSpec{fullSpec(), {Mode: ReadOnly}, {}} {
		got, err := decodeSpec(h.encode())
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("spec round trip:\n got %+v\nwant %+v", got, h)
		}
	}
	a := activation{Spec: fullSpec(), Argv: []string{"/bin/bash", "-c", "echo 3:abc"}, Env: []string{"A=1", "B="}, Dir: "/work/ws"}
	got, err := decodeActivation(encodeActivation(a))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("activation round trip:\n got %+v\nwant %+v", got, a)
	}
}

// TestSpecWireFitsArgv: the SPEC argument must survive execve, which ends
// an argument at its first NUL.
func TestSpecWireFitsArgv(t *testing.T) {
	if strings.ContainsRune(fullSpec().encode(), 0) {
		t.Fatal("encoded spec contains a NUL byte")
	}
}

// TestSpecWireRejects: every cut of a message, data after it, the other
// kind of message and non-canonical numbers are errors, never a spec
// with fields missing.
func TestSpecWireRejects(t *testing.T) {
	enc := fullSpec().encode()
	for i := range len(enc) {
		if _, err := decodeSpec(enc[:i]); err == nil {
			t.Fatalf("decoded a spec cut at %d of %d bytes", i, len(enc))
		}
	}
	act := encodeActivation(activation{Spec: fullSpec(), Argv: []string{"true"}})
	for i := range len(act) {
		if _, err := decodeActivation(act[:i]); err == nil {
			t.Fatalf("decoded an activation cut at %d of %d bytes", i, len(act))
		}
	}
	for name, bad := range map[string]string{
		"trailing data":    enc + "0:",
		"activation":       string(act),
		"json":             `{"mode":"read-only"}`,
		"leading zero":     strings.Replace(enc, "5:spec1", "05:spec1", 1),
		"plus sign number": strings.Replace(helperSpec{MaxProcs: 7}.encode(), "1:7", "2:+7", 1),
		"boolean 2":        strings.Replace(helperSpec{Network: true}.encode(), "1:1", "1:2", 1),
		"huge list":        strings.Replace(helperSpec{Read: []string{"/"}}.encode(), "1:11:/", "9:99999999", 1),
		"upper-case hex":   strings.Replace(helperSpec{Seccomp: []byte{0xab}}.encode(), "2:ab", "2:AB", 1),
		"odd hex":          strings.Replace(helperSpec{Seccomp: []byte{0xab}}.encode(), "2:ab", "1:a", 1),
	} {
		if h, err := decodeSpec(bad); err == nil {
			t.Errorf("%s: decoded %+v", name, h)
		}
	}
	if _, err := decodeActivation([]byte(enc)); err == nil {
		t.Error("a spec decoded as an activation")
	}
}

// FuzzSpecWire: any input decodes without panicking, and whatever decodes
// encodes back to the same bytes.
func FuzzSpecWire(f *testing.F) {
	f.Add(encodeActivation(activation{Spec: fullSpec(), Argv: []string{"/bin/true"}, Env: []string{"X=1"}, Dir: "/"}))
	f.Add(encodeActivation(activation{}))
	f.Add([]byte("11:activation1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeActivation(b)
		if err != nil {
			return
		}
		if back := encodeActivation(a); string(back) != string(b) {
			t.Fatalf("%q decoded and encoded back as %q", b, back)
		}
	})
}
