package server

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// codedTransport gives every error response the server sends a JSON-RPC
// error code. The SDK refuses a request that arrives before initialize
// with an error that carries none, which reaches the wire as code 0: no
// client can tell that from a failure of the method itself. Such an error
// becomes -32600 (invalid request) while the session is not initialized,
// and -32603 (internal error) after.
type codedTransport struct {
	mcp.Transport
	// session is set once Connect has returned it; until then no session
	// counts as initialized.
	session atomic.Pointer[mcp.ServerSession]
}

// Connect implements mcp.Transport.
func (t *codedTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &codedConn{Connection: c, t: t}, nil
}

type codedConn struct {
	mcp.Connection
	t *codedTransport
}

// Write implements mcp.Connection.
func (c *codedConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if r, ok := msg.(*jsonrpc.Response); ok && r.Error != nil && !hasCode(r.Error) {
		code := int64(jsonrpc.CodeInternalError)
		if ss := c.t.session.Load(); ss == nil || ss.InitializeParams() == nil {
			code = jsonrpc.CodeInvalidRequest
		}
		coded := *r
		coded.Error = &jsonrpc.Error{Code: code, Message: r.Error.Error()}
		msg = &coded
	}
	return c.Connection.Write(ctx, msg)
}

// hasCode reports whether err reaches the wire with a non-zero code.
func hasCode(err error) bool {
	var we *jsonrpc.Error
	return errors.As(err, &we) && we.Code != 0
}
