package sandbox

import (
	"errors"
	"fmt"
)

// UnenforceableError is the fail-closed error: the requested mode cannot be
// enforced on this machine, so nothing runs.
type UnenforceableError struct {
	Mode    Mode
	Missing string // the missing kernel feature, in words
}

func (e *UnenforceableError) Error() string {
	if e.Mode == DangerFullAccess {
		return fmt.Sprintf("sandbox: cannot run %s commands on this machine: %s; nothing was run", e.Mode, e.Missing)
	}
	return fmt.Sprintf("sandbox: cannot enforce %s on this machine: %s; "+
		"nothing was run (to run without a sandbox, choose the explicit opt-out %q)",
		e.Mode, e.Missing, DangerFullAccess)
}

//lint:ignore ST1005 a proper noun
var errNoLandlock = errors.New("Landlock is not available (needs Linux 5.13+ with landlock in the lsm= boot parameter)")
