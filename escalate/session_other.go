//go:build !linux

package escalate

import (
	"context"
	"errors"
	"os"
)

// errUnsupported: running escalated commands relies on Linux (process
// groups pinned by waitid, Pdeathsig, /proc), so elsewhere the server side
// refuses to start rather than run commands with weaker guarantees.
var errUnsupported = errors.New("escalate: the exec server is only supported on Linux")

// Session is the server side of the protocol; see the Linux implementation.
// On this platform NewSession always fails.
type Session struct{}

// NewSession fails: see errUnsupported.
func NewSession(d Decider, opts Options) (*Session, error) { return nil, errUnsupported }

// ChildFile returns nil.
func (s *Session) ChildFile() *os.File { return nil }

// CloseChild does nothing.
func (s *Session) CloseChild() error { return nil }

// Close does nothing.
func (s *Session) Close() error { return nil }

// Serve fails: see errUnsupported.
func (s *Session) Serve(ctx context.Context) error { return errUnsupported }

// ReaperRole is the argument of the reaper role; see the Linux implementation.
const ReaperRole = "escalate-reaper"

// ReaperMain fails: see errUnsupported.
func ReaperMain(args []string) int {
	os.Stderr.WriteString(errUnsupported.Error() + "\n")
	return 1
}
