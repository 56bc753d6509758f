package server

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// guard is the server's receiving middleware, between the SDK's dispatch
// and its handlers. A request goes through it in the goroutine that serves
// it, so it is where a request that the SDK would choke on is repaired or
// refused before it reaches code that assumes well-formed input:
//   - a panic while serving one request becomes an internal error for that
//     request alone: the server, and every other call running in it, lives;
//   - tools/call arguments the SDK mishandles (null) or that popular clients
//     send with the wrong JSON type are normalized (shellargs.go);
//   - a second initialize is an invalid request (the SDK answers it without
//     an error code);
//   - the request counts as work in progress for idleMemory.
func (s *mcpServer) guard(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
		defer s.memory.serving()()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("internal error serving a request; the server keeps running", "method", method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				res, err = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("internal error serving %s (the server logged it and keeps running)", method)}
			}
		}()
		if r, ok := req.(*mcp.CallToolRequest); ok && r.Params != nil {
			r.Params.Arguments = normalizeArguments(r.Params.Name, r.Params.Arguments)
		}
		if method == "initialize" {
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss.InitializeParams() != nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "invalid request: duplicate initialize (this session is already initialized)"}
			}
		}
		return next(ctx, method, req)
	}
}
