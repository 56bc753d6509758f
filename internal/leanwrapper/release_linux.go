package leanwrapper

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// releaseEmbedded drops the pages of the embedded binary that Install read
// from this process's memory. Without this the 2.5 MB copy stays resident
// for the server's whole life, a sixth of its idle size.
func releaseEmbedded() { dropPages(fileBacked) }

// dropPages gives back the whole pages of data, which must lie in a
// private file mapping and never have been written (fileBacked is in the
// executable's): the kernel reads them back from the file if they are
// needed again. The partial pages at either end are left alone; they hold
// other variables.
func dropPages(data []byte) {
	if len(data) == 0 {
		return
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	first := (start + page - 1) &^ (page - 1)
	last := (start + uintptr(len(data))) &^ (page - 1)
	if last <= first {
		return
	}
	// Advice only: a failure leaves the pages resident, nothing more.
	_ = unix.Madvise(data[first-start:last-start], unix.MADV_DONTNEED)
}
