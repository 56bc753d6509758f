package sandbox

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// The plan travels to the helper (nsexec/helper.c) in its activation,
// over the control socket, in the one encoding written here and read by
// nsexec/plan.c: a fixed sequence of fields, each a decimal length, a colon
// and that many bytes ("5:hello"); numbers and booleans are such fields
// too, lists a count followed by their items, binary data (a BPF program)
// lower-case hex. Every field is a C string where it ends up (a path, an
// argument, an environment entry), so the encoding has no NUL byte. Both
// sides list the fields in the same order, which is the format; the
// leading tag names its version, so that a launcher from another build
// refuses the plan rather than misreading it.

const planTag = "plan1"

// encodePlan is the plan of a call: what the helper needs of h, and the
// program's argv, environment and working directory.
func encodePlan(h helperSpec, argv, env []string, dir string) []byte {
	var w wireWriter
	w.str(planTag)
	w.bool(h.Mode != DangerFullAccess)
	writeList(&w, h.Mounts, func(m mountOp) {
		w.str(m.Path)
		w.str(m.Kind)
		w.strs(m.Keep)
		w.fileID(m.ID)
		w.bool(m.Dir)
		w.pathID(m.MakeIn)
		w.strs(m.Make)
		w.int(m.InMask)
		writeList(&w, m.KeepFile, w.bool)
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
	writeList(&w, h.Writable, w.pathID)
	w.strs(h.MountPoints)
	w.bytes(h.Seccomp)
	w.bytes(h.GateFilter)
	w.strs(argv)
	w.strs(programEnv(env))
	w.str(dir)
	return w.b
}

// programEnv is env as execve takes it, with what os.Setenv would make of
// it: an entry without '=' or with an empty name is dropped, and of a name
// given twice the last value is kept, in the first one's place.
func programEnv(env []string) []string {
	out := make([]string, 0, len(env))
	at := make(map[string]int, len(env))
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if i, seen := at[name]; seen {
			out[i] = kv
			continue
		}
		at[name] = len(out)
		out = append(out, kv)
	}
	return out
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
