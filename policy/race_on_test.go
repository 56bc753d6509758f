//go:build race

package policy

// raceEnabled: the race detector slows the interpreter several times over.
const raceEnabled = true
