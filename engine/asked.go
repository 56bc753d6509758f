package engine

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/execgate/execgate/escalate"
)

// askedExecs remembers, for a moment, the execs the shell's client was
// answered Run for: the process that asked then execs the program itself,
// and the kernel gate sees that exec too. Found here, it is neither asked
// about nor recorded a second time. Each entry serves one exec.
type askedExecs struct {
	mu   sync.Mutex
	m    map[string]time.Time
	now  func() time.Time
	keep time.Duration
}

// askedWindow is how long a Run answer waits for its exec: the asking
// process execs right after the answer.
const askedWindow = 10 * time.Second

// maxAsked bounds the entries: beyond it the expired ones go, then all.
const maxAsked = 4096

func newAskedExecs() *askedExecs {
	return &askedExecs{m: map[string]time.Time{}, now: time.Now, keep: askedWindow}
}

func askedKey(pid int, file string, argv []string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(pid))
	b.WriteByte(0)
	b.WriteString(file)
	for _, a := range argv {
		b.WriteByte(0)
		b.WriteString(a)
	}
	return b.String()
}

// add remembers a Run answer to ex (which must carry the asker's pid).
func (a *askedExecs) add(ex escalate.Exec) {
	if ex.Pid <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.m) >= maxAsked {
		for k, t := range a.m {
			if now.Sub(t) > a.keep {
				delete(a.m, k)
			}
		}
		if len(a.m) >= maxAsked {
			clear(a.m)
		}
	}
	a.m[askedKey(ex.Pid, ex.File, ex.Argv)] = now
}

// take reports whether pid was answered Run for file and argv within the
// window, and forgets it.
func (a *askedExecs) take(pid int, file string, argv []string) bool {
	k := askedKey(pid, file, argv)
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.m[k]
	if !ok {
		return false
	}
	delete(a.m, k)
	return a.now().Sub(t) <= a.keep
}
