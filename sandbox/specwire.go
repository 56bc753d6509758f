package sandbox

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The helper spec travels to the helper in its activation, over the
// control socket, in the one encoding written and read here: a fixed
// sequence of fields, each a decimal length, a colon and that many bytes
// ("5:hello"); numbers and booleans are such fields too, lists a count
// followed by their items. A helper starts for every call, and
// encoding/json cost it about 6% of its CPU there (reflection over these
// types at each start, and the stack growth it brings); reading this
// costs next to nothing. Every field is a C string where it ends up (a
// path, an argument, an environment entry), so the encoding has no NUL
// byte.
//
// Both ends are the same build (see buildinfo.Pair), so the format has no
// versions; the leading tag only catches a payload of another kind.

const activationTag = "activation1"

// activation is the one message a spare receives (see spare_linux.go): the
// spec, Bash's argv, the call's environment and working directory.
type activation struct {
	Spec helperSpec
	Argv []string
	Env  []string
	Dir  string
}

// encodeActivation is a spare's activation message.
func encodeActivation(a activation) []byte {
	var w wireWriter
	w.str(activationTag)
	w.spec(a.Spec)
	w.strs(a.Argv)
	w.strs(a.Env)
	w.str(a.Dir)
	return w.b
}

// decodeActivation reads an activation message.
func decodeActivation(b []byte) (activation, error) {
	r := wireReader{rest: string(b)}
	r.tag(activationTag)
	var a activation
	a.Spec = r.spec()
	a.Argv = r.strs()
	a.Env = r.strs()
	a.Dir = r.str()
	return a, r.end()
}

// The order of the fields is the format: writer and reader list them
// alike.

func (w *wireWriter) spec(h helperSpec) {
	w.str(string(h.Mode))
	w.bool(h.Network)
	w.strs(h.Read)
	writeList(w, h.Roots, func(r Root) {
		w.str(r.Path)
		w.strs(r.Protected)
	})
	w.strs(h.WriteFiles)
	writeList(w, h.Mounts, func(m mountOp) {
		w.str(m.Path)
		w.str(m.Kind)
		w.strs(m.Keep)
		w.fileID(m.ID)
		w.bool(m.Dir)
		w.pathID(m.MakeIn)
		w.strs(m.Make)
		w.int(m.InMask)
		writeList(w, m.KeepFile, w.bool)
	})
	w.bool(h.Shell != nil)
	if h.Shell != nil {
		w.str(h.Shell.Source)
		w.strs(h.Shell.Targets)
	}
	w.bool(h.Namespaces)
	w.bool(h.Proc)
	w.bool(h.Gate)
	w.int(h.MaxProcs)
	w.str(h.PidsCgroup)
	w.bool(h.NProc)
	w.bool(h.Landlock)
	w.int(h.LandlockFlags)
	w.bool(h.AllWritable)
	writeList(w, h.Writable, w.pathID)
	w.bytes(h.Seccomp)
	w.bytes(h.GateFilter)
}

func (r *wireReader) spec() helperSpec {
	var h helperSpec
	h.Mode = Mode(r.str())
	h.Network = r.bool()
	h.Read = r.strs()
	h.Roots = readList(r, func() Root { return Root{Path: r.str(), Protected: r.strs()} })
	h.WriteFiles = r.strs()
	h.Mounts = readList(r, func() mountOp {
		return mountOp{Path: r.str(), Kind: r.str(), Keep: r.strs(),
			ID: r.fileID(), Dir: r.bool(), MakeIn: r.pathID(), Make: r.strs(), InMask: r.int(),
			KeepFile: readList(r, r.bool)}
	})
	if r.bool() {
		h.Shell = &shellMount{Source: r.str(), Targets: r.strs()}
	}
	h.Namespaces = r.bool()
	h.Proc = r.bool()
	h.Gate = r.bool()
	h.MaxProcs = r.int()
	h.PidsCgroup = r.str()
	h.NProc = r.bool()
	h.Landlock = r.bool()
	h.LandlockFlags = r.int()
	h.AllWritable = r.bool()
	h.Writable = readList(r, r.pathID)
	h.Seccomp = r.bytes()
	h.GateFilter = r.bytes()
	return h
}

type wireWriter struct{ b []byte }

func (w *wireWriter) str(s string) {
	w.b = strconv.AppendInt(w.b, int64(len(s)), 10)
	w.b = append(w.b, ':')
	w.b = append(w.b, s...)
}

func (w *wireWriter) int(n int) { w.str(strconv.Itoa(n)) }

// bytes writes binary data (a BPF program) in hex: the spec has no NUL.
func (w *wireWriter) bytes(b []byte) { w.str(hex.EncodeToString(b)) }

func (w *wireWriter) bool(v bool) {
	if v {
		w.str("1")
	} else {
		w.str("0")
	}
}

func (w *wireWriter) fileID(id fileID) {
	// As int: a uint64 above MaxInt64 comes back the same.
	w.int(int(id.Dev))
	w.int(int(id.Ino))
}

func (w *wireWriter) pathID(p pathID) {
	w.str(p.Path)
	w.fileID(p.ID)
}

func (w *wireWriter) strs(ss []string) { writeList(w, ss, w.str) }

// writeList writes a list: its length, then each item with item.
func writeList[T any](w *wireWriter, items []T, item func(T)) {
	w.int(len(items))
	for _, v := range items {
		item(v)
	}
}

// wireReader reads fields off rest. The first error sticks: every later
// read returns a zero value, and end reports it.
type wireReader struct {
	rest string
	err  error
}

var errWireShort = errors.New("truncated")

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.rest = ""
}

func (r *wireReader) str() string {
	if r.err != nil {
		return ""
	}
	i := strings.IndexByte(r.rest, ':')
	if i < 0 {
		r.fail(errWireShort)
		return ""
	}
	n, ok := parseLength(r.rest[:i])
	if !ok {
		r.fail(fmt.Errorf("bad field length %q", r.rest[:i]))
		return ""
	}
	if n > len(r.rest)-i-1 {
		r.fail(errWireShort)
		return ""
	}
	s := r.rest[i+1 : i+1+n]
	r.rest = r.rest[i+1+n:]
	return s
}

// parseLength reads a field length: decimal digits only, at most 9, no
// leading zero (one encoding per message: what decodes encodes back to the
// same bytes).
func parseLength(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (r *wireReader) int() int {
	s := r.str()
	if r.err != nil {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || strconv.Itoa(n) != s {
		r.fail(fmt.Errorf("bad number %q", s))
		return 0
	}
	return n
}

// bytes reads what wireWriter.bytes wrote; empty is nil. Only lower-case
// hex is accepted, as int takes only canonical numbers: one value, one
// encoding.
func (r *wireReader) bytes() []byte {
	s := r.str()
	if r.err != nil || s == "" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err == nil && hex.EncodeToString(b) != s {
		err = errors.New("not lower-case")
	}
	if err != nil {
		r.fail(fmt.Errorf("bad hex field %.40q: %w", s, err))
		return nil
	}
	return b
}

func (r *wireReader) bool() bool {
	switch s := r.str(); {
	case r.err != nil:
		return false
	case s == "1":
		return true
	case s == "0":
		return false
	default:
		r.fail(fmt.Errorf("bad boolean %q", s))
		return false
	}
}

// count reads a list length, which cannot exceed what is left: each item
// takes at least two bytes ("0:").
func (r *wireReader) count() int {
	n := r.int()
	if r.err == nil && (n < 0 || n > len(r.rest)/2) {
		r.fail(fmt.Errorf("bad list length %d", n))
		return 0
	}
	return n
}

func (r *wireReader) fileID() fileID {
	return fileID{Dev: uint64(r.int()), Ino: uint64(r.int())}
}

func (r *wireReader) pathID() pathID {
	return pathID{Path: r.str(), ID: r.fileID()}
}

func (r *wireReader) strs() []string { return readList(r, r.str) }

// readList reads what writeList wrote, each item with item; an empty
// list is nil.
func readList[T any](r *wireReader, item func() T) []T {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = item()
	}
	return out
}

func (r *wireReader) tag(want string) {
	if got := r.str(); r.err == nil && got != want {
		r.fail(fmt.Errorf("not a %s message (%q)", want, got))
	}
}

// end reports the first error, or data left over after the last field.
func (r *wireReader) end() error {
	if r.err == nil && r.rest != "" {
		r.err = fmt.Errorf("%d bytes after the last field", len(r.rest))
	}
	return r.err
}
