package server

import (
	"runtime"
	"testing"
)

func TestOneProcessorUnlessUserChose(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "")
	if got := oneProcessor(); got != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Fatalf("without GOMAXPROCS: oneProcessor() = %d, GOMAXPROCS = %d; want 1", got, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "2")
	if got := oneProcessor(); got != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Fatalf("with GOMAXPROCS=2: oneProcessor() = %d, GOMAXPROCS = %d; want the user's 2", got, runtime.GOMAXPROCS(0))
	}
}
