package escalate

import (
	"bytes"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// lingerTimeout bounds how long Serve waits for killed background members
// of escalated process groups to disappear.
const lingerTimeout = 2 * time.Second

// awaitLingering waits until no tracked group has a live member left. It
// runs after killAll, so every such member has been sent SIGKILL; waiting
// makes "Serve returned" mean "nothing escalated is running".
func (s *Session) awaitLingering() {
	s.procs.mu.Lock()
	var pgids []int
	for p := range s.procs.procs {
		pgids = append(pgids, p.pid)
	}
	s.procs.mu.Unlock()
	deadline := time.Now().Add(lingerTimeout)
	for _, pgid := range pgids {
		for groupAlive(pgid) {
			if time.Now().After(deadline) {
				s.log.Warn("escalate: killed process group still has live members", "pgid", pgid)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// groupAlive reports whether process group pgid has a member that is not a
// zombie. Killed members were orphaned, so their reaping is up to init
// (which in a container may never do it): zombies do not count.
func groupAlive(pgid int) bool {
	if unix.Kill(-pgid, 0) != nil {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		state, pgrp, ok := parseStat(stat)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// parseStat extracts the state and process group from /proc/PID/stat. The
// command name may hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseStat(stat []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After ") ": state ppid pgrp ...
	f := bytes.Fields(stat[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pgrp, true
}
