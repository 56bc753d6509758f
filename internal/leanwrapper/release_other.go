//go:build !linux

package leanwrapper

// releaseEmbedded is a no-op where the pages are not given back.
func releaseEmbedded() {}
