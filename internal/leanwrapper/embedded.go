//go:build leanwrapper

package leanwrapper

import _ "embed"

// embedded is the lean wrapper binary; the Makefile builds wrapper.bin from
// wrapper/cmd/execgate-execve-wrapper right before building execgate.
//
//go:embed wrapper.bin
var embedded []byte
