package server

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/server/stdio"
)

// newRawServer serves one in-process Server over execgate's own stdio
// transport on pipes, and returns the client side as raw lines: the exact
// bytes a client sends go through the real transport and the real SDK.
func newRawServer(t testing.TB, opts *engine.Options, eng engine.Executor) *serverProc {
	t.Helper()
	if opts == nil {
		opts = engine.DefaultOptions()
	}
	log := testhelp.Logger(nil)
	srv, err := newServer(opts, eng, log, engine.NewDecisionLog(log, nil))
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		srv.Run(ctx, &stdio.Transport{Reader: inR, Writer: outW, Logger: log})
		outW.Close()
		close(done)
	}()
	t.Cleanup(func() {
		inW.Close()
		cancel()
		<-done
	})
	tt, _ := t.(*testing.T)
	return &serverProc{t: tt, stdin: inW, stdout: bufio.NewReaderSize(outR, 1<<20), stderr: &strings.Builder{}}
}

// handshake initializes p's session as a 2025-06-18 client without
// capabilities.
func (p *serverProc) handshake() {
	p.t.Helper()
	p.send(initialize)
	if r := p.recv(); r.Error != nil {
		p.t.Fatalf("initialize: %+v", r.Error)
	}
	p.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
}

// await reads replies until it has one for each id (raw JSON, e.g. `7` or
// `"a"`), and returns them by id; replies to other ids fail the test.
func (p *serverProc) await(ids ...string) map[string]rpcReply {
	p.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	got := map[string]rpcReply{}
	for len(got) < len(ids) {
		r := p.recv()
		if !want[string(r.ID)] {
			p.t.Fatalf("reply to unexpected id %s: %+v %s", r.ID, r.Error, r.Result)
		}
		got[string(r.ID)] = r
	}
	return got
}
