//go:build !linux

package sandbox

// attachFilters has nothing to assemble on this OS: sandboxed modes are
// refused before a spec is made, and danger-full-access has no filter.
func (h *helperSpec) attachFilters() error { return nil }
