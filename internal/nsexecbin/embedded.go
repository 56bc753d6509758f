//go:build nsexec

package nsexecbin

import _ "embed"

// embedded is the namespace launcher; the Makefile compiles it from
// sandbox/nsexec/nsexec.c right before building execgate.
//
//go:embed execgate-nsexec
var embedded []byte
