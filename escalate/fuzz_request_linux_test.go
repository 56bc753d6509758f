package escalate

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRequest feeds arbitrary payloads to the server's request path (strict
// decoding, then resolution): it must never panic, and whatever it hands a
// Decider has an absolute, clean file and an absolute workdir without NUL.
// The wrapper's response parser gets the same payloads: it must not panic
// either.
func FuzzRequest(f *testing.F) {
	f.Add([]byte(`{"file":"/usr/bin/git","argv":["git","status"],"workdir":"/w","env":{"A":"1"}}`))
	f.Add([]byte(`{"file":"../x","argv":["x"],"workdir":"/a/b","env":{}}`))
	f.Add([]byte(`{"file":"x","argv":[],"workdir":"rel","env":null}`))
	f.Add([]byte(`{"file":"/a\u0000b","argv":["a"],"workdir":"/"}`))
	f.Add([]byte(`{"file":"/x","argv":["x"],"workdir":"/","extra":1}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ParseResponse(payload)
		var req Request
		if strictUnmarshal(payload, &req) != nil {
			return
		}
		e, invalid := resolveRequest(&req)
		if invalid != "" {
			return
		}
		if !filepath.IsAbs(e.File) || filepath.Clean(e.File) != e.File {
			t.Fatalf("file %q is not absolute and clean", e.File)
		}
		if !filepath.IsAbs(e.Workdir) || strings.ContainsRune(e.File+e.Workdir+strings.Join(e.Argv, ""), 0) || len(e.Argv) == 0 {
			t.Fatalf("bad exec passed on: %+v", e)
		}
	})
}
