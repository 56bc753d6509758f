package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/internal/testhelp"
	"github.com/execgate/execgate/server/stdio"
)

// inertEngine runs nothing: fuzzed commands must never reach a shell on
// the test machine. Everything in front of the engine (transport, SDK,
// middleware, argument checks, Execute) is the real server.
type inertEngine struct{}

func (inertEngine) Exec(_ context.Context, call *engine.Call) (engine.Outcome, error) {
	fmt.Fprintf(call.Output, "%d bytes of script\n", len(call.Command))
	return engine.Outcome{}, nil
}

// FuzzServerRequests feeds arbitrary input lines to a fresh server session
// over execgate's stdio transport and the real SDK, then checks the server
// still answers a ping and wrote nothing but JSON-RPC lines.
func FuzzServerRequests(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzServerRequests.
	f.Add([]byte(initialize + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n" +
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"command":"true","workdir":"/"}}}` + "\n"))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":null}}` + "\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		log := testhelp.Logger(nil)
		srv, err := newServer(engine.DefaultOptions(), inertEngine{}, log, engine.NewDecisionLog(log, nil))
		if err != nil {
			t.Fatal(err)
		}
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan struct{})
		go func() {
			srv.Run(context.Background(), &stdio.Transport{Reader: inR, Writer: outW, Logger: log})
			outW.Close()
			close(done)
		}()
		defer func() {
			inW.Close()
			outR.Close()
			<-done
		}()
		go func() {
			inW.Write(input)
			inW.Write([]byte("\n" + `{"jsonrpc":"2.0","id":"fuzz-probe","method":"ping"}` + "\n"))
		}()
		replies := make(chan error, 1)
		go func() {
			br := bufio.NewReader(outR)
			for {
				line, err := br.ReadBytes('\n')
				if err != nil {
					replies <- fmt.Errorf("output ended before the probe's reply: %w", err)
					return
				}
				var msg struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      json.RawMessage `json:"id"`
					Result  json.RawMessage `json:"result"`
				}
				if err := json.Unmarshal(line, &msg); err != nil || msg.JSONRPC != "2.0" {
					replies <- fmt.Errorf("server wrote %q, not a JSON-RPC message", line)
					return
				}
				if bytes.Equal(msg.ID, []byte(`"fuzz-probe"`)) && msg.Result != nil {
					replies <- nil
					return
				}
			}
		}()
		select {
		case err := <-replies:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no answer to a ping within 10s")
		}
	})
}
