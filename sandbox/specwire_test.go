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

// encode is h alone in an activation.
func encode(h helperSpec) string { return string(encodeActivation(activation{Spec: h})) }

func TestSpecWireRoundTrip(t *testing.T) {
	for _, h := range []helperSpec{fullSpec(), {Mode: ReadOnly}, {}} {
		got, err := decodeActivation([]byte(encode(h)))
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		if !reflect.DeepEqual(got.Spec, h) {
			t.Errorf("spec round trip:\n got %+v\nwant %+v", got.Spec, h)
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

// TestSpecWireHasNoNUL: every field ends up a C string (see specwire.go);
// binary fields travel as hex.
func TestSpecWireHasNoNUL(t *testing.T) {
	if strings.ContainsRune(encode(fullSpec()), 0) {
		t.Fatal("encoded spec contains a NUL byte")
	}
}

// TestSpecWireRejects: every cut of a message, data after it, the other
// kind of message and non-canonical numbers are errors, never a spec
// with fields missing.
func TestSpecWireRejects(t *testing.T) {
	enc := encode(fullSpec())
	act := encodeActivation(activation{Spec: fullSpec(), Argv: []string{"true"}})
	// rep is strings.Replace of the first old, which must be there.
	rep := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %q", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	for i := range len(act) {
		if _, err := decodeActivation(act[:i]); err == nil {
			t.Fatalf("decoded an activation cut at %d of %d bytes", i, len(act))
		}
	}
	for name, bad := range map[string]string{
		"trailing data":    enc + "0:",
		"json":             `{"mode":"read-only"}`,
		"other tag":        rep(enc, "11:activation1", "5:spec1"),
		"leading zero":     rep(enc, "11:activation1", "011:activation1"),
		"plus sign number": rep(encode(helperSpec{MaxProcs: 7}), "1:7", "2:+7"),
		"boolean 2":        rep(encode(helperSpec{Network: true}), "1:1", "1:2"),
		"huge list":        rep(encode(helperSpec{Read: []string{"/"}}), "1:11:/", "9:99999999"),
		"upper-case hex":   rep(encode(helperSpec{Seccomp: []byte{0xab}}), "2:ab", "2:AB"),
		"odd hex":          rep(encode(helperSpec{Seccomp: []byte{0xab}}), "2:ab", "1:a"),
	} {
		if a, err := decodeActivation([]byte(bad)); err == nil {
			t.Errorf("%s: decoded %+v", name, a)
		}
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
