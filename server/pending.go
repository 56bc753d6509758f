package server

import (
	"context"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// pendingTransport keeps count of the client's requests that have not been
// answered yet, so that a server stopping on a signal can close the
// connection only after the answers to the calls it cancelled are out.
type pendingTransport struct {
	mcp.Transport

	mu      sync.Mutex
	pending map[jsonrpc.ID]struct{}
}

// Connect implements mcp.Transport.
func (t *pendingTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.pending = map[jsonrpc.ID]struct{}{}
	t.mu.Unlock()
	return &pendingConn{Connection: c, t: t}, nil
}

type pendingConn struct {
	mcp.Connection
	t *pendingTransport
}

// Read implements mcp.Connection.
func (c *pendingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if r, ok := msg.(*jsonrpc.Request); ok && r.IsCall() {
		c.t.mu.Lock()
		c.t.pending[r.ID] = struct{}{}
		c.t.mu.Unlock()
	}
	return msg, err
}

// Write implements mcp.Connection.
func (c *pendingConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	err := c.Connection.Write(ctx, msg)
	if r, ok := msg.(*jsonrpc.Response); ok {
		c.t.mu.Lock()
		delete(c.t.pending, r.ID)
		c.t.mu.Unlock()
	}
	return err
}

// answered waits until every request read so far has been answered, or
// for at most max. (A request the client cancelled may never be.)
func (t *pendingTransport) answered(max time.Duration) {
	deadline := time.Now().Add(max)
	for {
		t.mu.Lock()
		n := len(t.pending)
		t.mu.Unlock()
		if n == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
