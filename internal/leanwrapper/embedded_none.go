//go:build !leanwrapper

package leanwrapper

// embedded is empty in builds without the leanwrapper tag.
var embedded []byte
