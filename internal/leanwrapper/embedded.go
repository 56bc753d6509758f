//go:build leanwrapper

package leanwrapper

import _ "embed"

// embedded is the lean wrapper binary; the Makefile builds wrapper.bin from
// internal/lean right before building execgate.
//
//go:embed wrapper.bin
var embedded []byte
