package server

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/server/stdio"
)

// instantEngine does no work: the benchmarks measure the front end alone
// (validation, budget, prompter setup, capture, result encoding, MCP).
type instantEngine struct{}

func (instantEngine) Exec(_ context.Context, call *engine.Call) (engine.Outcome, error) {
	io.WriteString(call.Output, "ok\n")
	return engine.Outcome{}, nil
}

func benchHarness(b *testing.B) *mcp.ClientSession {
	log := testhelp.Logger(nil)
	srv, err := newServer(engine.DefaultOptions(), instantEngine{}, log, engine.NewDecisionLog(log, nil))
	if err != nil {
		b.Fatal(err)
	}
	// Real pipes and execgate's own line transport, as `execgate server` runs.
	c2sR, c2sW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	s2cR, s2cW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	st := &stdio.Transport{Reader: c2sR, Writer: s2cW}
	ct := &mcp.IOTransport{Reader: s2cR, Writer: c2sW}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go srv.Run(ctx, st)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "0"}, nil).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: testProtocol})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

func BenchmarkShellCallFrontEnd(b *testing.B) {
	cs := benchHarness(b)
	params := &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": "true", "workdir": "/", "login": false}}
	for b.Loop() {
		if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

func BenchmarkShellCallFrontEnd8Clients(b *testing.B) {
	cs := benchHarness(b)
	params := &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": "true", "workdir": "/", "login": false}}
	work := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range work {
				if _, err := cs.CallTool(context.Background(), params); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
}
