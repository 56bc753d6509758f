// Package server runs shell tool calls end to end (placeholder until issue 5 lands).
package server

import (
	"fmt"
	"os"
)

func notYet(name string) int {
	fmt.Fprintf(os.Stderr, "execgate %s: not implemented yet\n", name)
	return 2
}

// ServeMain is `execgate server`.
func ServeMain(args []string) int { return notYet("server") }

// RunMain is `execgate run`.
func RunMain(args []string) int { return notYet("run") }

// DoctorMain is `execgate doctor`.
func DoctorMain(args []string) int { return notYet("doctor") }
