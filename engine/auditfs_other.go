//go:build !linux

package engine

import "os"

// onDiskFilesystem accepts every regular file where pseudo filesystems are
// not told apart.
func onDiskFilesystem(*os.File) error { return nil }
