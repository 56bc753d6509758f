//go:build !linux && !darwin

package server

import "os"

// isTerminal reports false where we cannot tell: plain logs are always safe.
func isTerminal(*os.File) bool { return false }

const noCTTY = 0
