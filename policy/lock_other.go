//go:build !unix

package policy

import (
	"errors"
	"os"
)

// Amending without a lock could lose concurrent updates: refuse instead.
func lockFile(*os.File) error { return errors.New("file locking is not supported on this platform") }

func unlockFile(*os.File) {}
