//go:build !leanwrapper

package leanwrapper

// embedded is empty in builds without the leanwrapper tag.
var embedded []byte

// fileBacked is empty too: there are no pages to release.
var fileBacked []byte
