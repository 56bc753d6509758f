//go:build !unix

package testbash

import "fmt"

// lockFile is unsupported off Unix: the patched Bash only builds there.
func lockFile(path string) (func(), error) {
	return nil, fmt.Errorf("locking %s: file locks are not supported on this platform", path)
}
