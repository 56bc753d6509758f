//go:build !nsexec

package nsexecbin

// embedded is empty in builds without the nsexec tag.
var embedded []byte
