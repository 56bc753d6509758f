//go:build leanwrapper

package leanwrapper

import _ "embed"

// embedded is the lean wrapper binary; the Makefile builds wrapper.bin from
// internal/lean right before building execgate.
//
//go:embed wrapper.bin
var embedded []byte

// fileBacked is the embedded binary as the executable's file mapping holds
// it (tests replace embedded, never this): releaseEmbedded may drop its
// pages.
var fileBacked = embedded
