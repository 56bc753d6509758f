package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/execgate/execgate/engine"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// handleShell serves tools/call shell. Argument types and required fields
// were checked against the input schema by the SDK; the rest (the timeout
// here, the workdir in Execute) is checked before anything runs. Errors
// become isError results naming the argument.
func (s *mcpServer) handleShell(ctx context.Context, req *mcp.CallToolRequest, in shellInput) (*mcp.CallToolResult, *engine.ShellOutput, error) {
	sessCtx, ok := s.state(req.Session).begin()
	if !ok {
		return nil, nil, errClientGone
	}
	defer s.state(req.Session).end()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(sessCtx, func() { cancel(context.Cause(sessCtx)) })
	defer stop()

	perCall, err := stateFromMeta(req.Params.Meta)
	if err != nil {
		return nil, nil, err
	}
	timeout := s.opts.Timeout
	if in.TimeoutMs != nil {
		if *in.TimeoutMs <= 0 {
			return nil, nil, fmt.Errorf("timeout_ms: %d is not positive", *in.TimeoutMs)
		}
		timeout = min(time.Duration(*in.TimeoutMs)*time.Millisecond, engine.MaxTimeout)
	}
	login := in.Login == nil || *in.Login
	sandbox, workspace := s.workspace(ctx, req.Session, perCall)

	var prompter engine.Prompter = elicitor{Session: req.Session, RulesFile: s.opts.DefaultRulesFile()}
	if why := whyNoElicit(req.Session); why != "" {
		prompter = engine.NoPrompter{RulesFile: s.opts.DefaultRulesFile(), Why: why}
	}
	id := s.newCallID()
	s.log.Debug("shell call", "call", id, "workdir", in.Workdir, "login", login, "timeout", timeout, "workspace", workspace)
	res, err := engine.Execute(ctx, s.engine, s.opts, s.dlog, engine.Request{
		ID:        id,
		Command:   in.Command,
		Workdir:   in.Workdir,
		Timeout:   timeout,
		Login:     login,
		Mode:      s.opts.Sandbox,
		Sandbox:   sandbox,
		Workspace: workspace,
		Prompter:  prompter,
	})
	if err != nil {
		s.log.Warn("shell call failed", "call", id, "error", err)
		return nil, nil, err
	}
	out := res.Structured()
	result := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: res.CodexJSON()}}}
	if cause := context.Cause(sessCtx); errors.Is(cause, errStopping) {
		// The call did not end on its own: an error, with what it did.
		result.IsError = true
		result.Content = append([]mcp.Content{&mcp.TextContent{Text: cause.Error() + ": the call was stopped and its processes killed"}}, result.Content...)
	}
	return result, &out, nil
}
