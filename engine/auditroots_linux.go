package engine

import "fmt"

// checkAuditLog refuses an audit log a sandboxed command could reach:
// inside a writable root (or behind a symlink there) it could delete the
// records, or, since the server opens the path again after logrotate,
// point it at another of the user's files and have the server append to
// that file outside the sandbox. Checked at startup and before each call,
// against the same roots as the policy files (selfapproval_linux.go).
func (e *Engine) checkAuditLog(roots []string) error {
	path := e.opts.AuditLog
	if path == "" {
		return nil
	}
	if why := sandboxCanWrite(path, roots, e.launcher.Capabilities().ProtectsPaths()); why != "" {
		return fmt.Errorf("refusing the audit log %s: it %s, where a sandboxed command could delete it or point it at another file; move it out of the writable roots", path, why)
	}
	return nil
}
