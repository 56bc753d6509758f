package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/execgate/execgate/engine"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/internal/buildinfo"
)

// shellInput is the arguments of the shell tool, named as Codex names them.
type shellInput struct {
	Command   string `json:"command" jsonschema:"The Bash script to run, e.g. 'git status && ls -la'. Every program it starts is checked against the execution policy."`
	Workdir   string `json:"workdir" jsonschema:"Absolute path of the directory to run the script in."`
	TimeoutMs *int64 `json:"timeout_ms,omitempty" jsonschema:"Timeout in milliseconds. Time spent waiting for the user to approve a command does not count. Keep it below the client's own limit on a tool call (Codex: tool_timeout_sec, 60 s unless configured), or the result is lost."`
	Login     *bool  `json:"login,omitempty" jsonschema:"Start Bash with the login environment the user's profile files set up (variables, functions, aliases). Default true; false runs a bare shell."`
}

const shellDescription = `Runs a Bash script and returns its exit code and combined stdout/stderr.
The script runs in a sandbox: by default it may write only inside the workspace and temporary directories, and has no network access.
Each program the script starts is checked against the user's execution policy: some run outside the sandbox, some need the user's approval, some are refused ("Execution denied: ...", exit 1).
Long output is shortened around a "[... N bytes omitted ...]" line. A script that runs past its timeout is killed and reported with timed_out true.`

// mcpServer is the MCP front end: the shell tool and Codex's sandbox-state
// extension, over any transport.
type mcpServer struct {
	opts   *engine.Options
	engine engine.Executor
	log    *slog.Logger
	dlog   *engine.DecisionLog
	mcp    *mcp.Server
	cwd    string
	nextID atomic.Uint64
	memory *idleMemory

	mu       sync.Mutex
	sessions map[*mcp.ServerSession]*sessionState
}

// sessionState is what a client has told us about its environment, and
// the calls it has running.
type sessionState struct {
	mu         sync.Mutex
	sandbox    *engine.SandboxState // last codex/sandbox-state/update, nil before any
	roots      []string             // client roots as absolute paths
	rootsStale bool                 // roots must be (re)fetched before the next call

	// Calls of the session end when it does: a call never outlives its client.
	ctx    context.Context
	cancel context.CancelCauseFunc
	calls  sync.WaitGroup
	closed bool
}

// errClientGone ends the calls of a session whose client disconnected.
var errClientGone = errors.New("client disconnected")

// errStopping is the cause of the calls a stopping server (SIGINT,
// SIGTERM) cancels; they are answered as tool errors.
var errStopping = errors.New("execgate is stopping")

// begin registers a call; it returns a context that ends with the session,
// or false if the session is over.
func (st *sessionState) begin() (context.Context, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, false
	}
	st.calls.Add(1)
	return st.ctx, true
}

func (st *sessionState) end() { st.calls.Done() }

// shutdown refuses new calls, cancels the running ones with cause and
// waits for them to clean up.
func (st *sessionState) shutdown(cause error) {
	st.mu.Lock()
	st.closed = true
	st.sandbox, st.roots = nil, nil
	st.mu.Unlock()
	st.cancel(cause)
	st.calls.Wait()
}

// newServer returns the front end running calls on eng.
func newServer(opts *engine.Options, eng engine.Executor, log *slog.Logger, dlog *engine.DecisionLog) (*mcpServer, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("current directory: %w", err)
	}
	s := &mcpServer{
		opts:     opts,
		engine:   eng,
		log:      log,
		dlog:     dlog,
		cwd:      cwd,
		sessions: map[*mcp.ServerSession]*sessionState{},
		memory:   newIdleMemory(),
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "execgate", Version: buildinfo.Current()}, &mcp.ServerOptions{
		Instructions: "execgate provides a sandboxed `shell` tool whose every program start is checked against the user's execution policy.",
		Logger:       sdkLogger(log, opts.LogLevel),
		Capabilities: &mcp.ServerCapabilities{
			// Non-nil Capabilities replaces the SDK's default {"logging":{}}:
			// the server logs to stderr and sends no log notifications, so
			// it does not offer them.
			Tools: &mcp.ToolCapabilities{},
			// Codex sends codex/sandbox-state/update to servers declaring the
			// first, and puts the state in each tools/call _meta for servers
			// declaring the second (later builds).
			Experimental: map[string]any{
				sandboxStateCapability: map[string]any{"version": "1.0.0"},
				sandboxStateMetaKey:    map[string]any{"version": "1.0.0"},
			},
		},
		InitializedHandler: func(_ context.Context, req *mcp.InitializedRequest) {
			s.state(req.Session).markRootsStale()
		},
		// Roots are deprecated from protocol version 2026-07-28 on, but
		// clients of earlier versions name their workspace only that way.
		//lint:ignore SA1019 supported for clients of earlier protocol versions
		RootsListChangedHandler: func(_ context.Context, req *mcp.RootsListChangedRequest) {
			s.state(req.Session).markRootsStale()
		},
	})
	s.mcp.AddReceivingMiddleware(s.guard)
	schema, err := shellInputSchema()
	if err != nil {
		return nil, err
	}
	outSchema, err := shellOutputSchema()
	if err != nil {
		return nil, err
	}
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:         "shell",
		Title:        "Sandboxed shell",
		Description:  shellDescription,
		InputSchema:  schema,
		OutputSchema: outSchema,
		Annotations:  &mcp.ToolAnnotations{OpenWorldHint: new(true), DestructiveHint: new(true)},
	}, s.handleShell)
	if err := mcp.AddReceivingCustomMethod(s.mcp, sandboxStateMethod, s.handleSandboxState); err != nil {
		return nil, fmt.Errorf("registering %s: %w", sandboxStateMethod, err)
	}
	return s, nil
}

// sdkLogger is the go-sdk's logger: its per-connection info records only
// show when debugging.
func sdkLogger(log *slog.Logger, level slog.Level) *slog.Logger {
	if level > slog.LevelDebug {
		log = quieter(log, slog.LevelWarn)
	}
	return log.With("component", "mcp")
}

// shellInputSchema is the inferred schema plus what tags cannot say. The
// optional fields have plain types (integer, boolean) rather than the
// inferred ["null", ...]: clients that build forms or convert arguments
// from the schema (MCP Inspector) handle only plain types, and a field
// being optional is what "required" says. A null sent anyway is accepted
// as absent (normalizeArguments).
func shellInputSchema() (*jsonschema.Schema, error) {
	sch, err := jsonschema.For[shellInput](nil)
	if err != nil {
		return nil, fmt.Errorf("shell input schema: %w", err)
	}
	plainType(sch.Properties["timeout_ms"], "integer")
	plainType(sch.Properties["login"], "boolean")
	sch.Properties["timeout_ms"].Minimum = jsonschema.Ptr(1.0)
	sch.Properties["timeout_ms"].Maximum = jsonschema.Ptr(float64(engine.MaxTimeout.Milliseconds()))
	sch.Properties["login"].Default = []byte("true")
	sch.Properties["command"].MinLength = jsonschema.Ptr(1)
	return sch, nil
}

// shellOutputSchema is the inferred schema of the structuredContent, with
// plain array types: the server always sends arrays there, never null. A
// decision's action is its name (escalate.Action is a text marshaler).
func shellOutputSchema() (*jsonschema.Schema, error) {
	sch, err := jsonschema.For[engine.ShellOutput](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[escalate.Action](): {Type: "string"},
	}})
	if err != nil {
		return nil, fmt.Errorf("shell output schema: %w", err)
	}
	decisions := sch.Properties["decisions"]
	plainType(decisions, "array")
	plainType(decisions.Items.Properties["argv"], "array")
	return sch, nil
}

// plainType makes sch a single, non-null type.
func plainType(sch *jsonschema.Schema, typ string) {
	sch.Types, sch.Type = nil, typ
}

// MCP returns the underlying go-sdk server (for tests and transports).
func (s *mcpServer) MCP() *mcp.Server { return s.mcp }

// Run serves one client on t until it disconnects or ctx ends. When ctx
// ends (the server is stopping) every call of the session is cancelled,
// its processes killed, and answered with an error before the connection
// closes.
func (s *mcpServer) Run(ctx context.Context, t mcp.Transport) error {
	pending := &pendingTransport{Transport: t}
	coded := &codedTransport{Transport: pending}
	ss, err := s.mcp.Connect(context.WithoutCancel(ctx), coded, nil)
	if err != nil {
		return fmt.Errorf("mcp connect: %w", err)
	}
	coded.session.Store(ss)
	memCtx, stopMemory := context.WithCancel(ctx)
	defer stopMemory()
	go s.memory.run(memCtx)
	st := s.state(ss)
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		st.shutdown(fmt.Errorf("%w (%w)", errStopping, context.Cause(ctx)))
		pending.answered(stopAnswerWait)
		ss.Close()
		<-done
		err = ctx.Err()
	}
	// Kill what the client left running before reporting the session over.
	// The closed state stays in s.sessions so that a request of this session
	// still being dispatched is refused rather than given a fresh state (a
	// few bytes per connection; `execgate server` has one).
	st.shutdown(errClientGone)
	return err
}

// stopAnswerWait bounds how long a stopping server waits for the answers
// to the requests it was serving to be written.
const stopAnswerWait = 300 * time.Millisecond

func (s *mcpServer) state(ss *mcp.ServerSession) *sessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sessions[ss]
	if !ok {
		st = &sessionState{rootsStale: true}
		st.ctx, st.cancel = context.WithCancelCause(context.Background())
		s.sessions[ss] = st
	}
	return st
}

func (st *sessionState) markRootsStale() {
	st.mu.Lock()
	st.rootsStale = true
	st.mu.Unlock()
}

// handleSandboxState serves codex/sandbox-state/update: later calls of the
// session use this state (unless a call carries its own in _meta).
func (s *mcpServer) handleSandboxState(_ context.Context, ss *mcp.ServerSession, p *sandboxStateParams) (*sandboxStateResult, error) {
	st := p.State
	s.state(ss).setSandbox(&st)
	// A sandbox execgate cannot use is answered with an error naming the
	// field, so the client learns it now; it is still kept, so later calls
	// fail closed (read-only, with a note) rather than run under the
	// previous, possibly wider, sandbox.
	if err := st.CheckPolicy(); err != nil {
		s.log.Warn("sandbox state refused; calls run read-only until the next update", "error", err)
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	s.log.Info("sandbox state updated", "policy", string(st.Policy), "cwd", st.Cwd)
	return &sandboxStateResult{}, nil
}

// sandboxStateResult is the empty reply Codex expects.
type sandboxStateResult struct{ mcp.ResultBase }

func (st *sessionState) setSandbox(sb *engine.SandboxState) {
	st.mu.Lock()
	st.sandbox = sb
	st.mu.Unlock()
}

// workspace returns the sandbox state and workspace for a call on ss.
func (s *mcpServer) workspace(ctx context.Context, ss *mcp.ServerSession, perCall *engine.SandboxState) (*engine.SandboxState, []string) {
	st := s.state(ss)
	roots := st.clientRoots(ctx, ss, s.log)
	st.mu.Lock()
	sb := st.sandbox
	st.mu.Unlock()
	if perCall != nil {
		sb = perCall
		if perCall.Cwd != "" {
			// A per-call state says exactly where this call's workspace is.
			return sb, []string{perCall.Cwd}
		}
	}
	switch {
	case len(roots) > 0:
		return sb, roots
	case sb != nil && sb.Cwd != "":
		return sb, []string{sb.Cwd}
	default:
		return sb, []string{s.cwd}
	}
}

// clientRoots returns the client's roots, fetching them if they may have
// changed. Failures leave the previous roots (logged): the workspace then
// falls back to the sandbox cwd or the server's cwd.
func (st *sessionState) clientRoots(ctx context.Context, ss *mcp.ServerSession, log *slog.Logger) []string {
	st.mu.Lock()
	stale := st.rootsStale
	roots := st.roots
	st.mu.Unlock()
	p := ss.InitializeParams()
	//lint:ignore SA1019 roots: see RootsListChangedHandler in newServer
	if !stale || p == nil || p.Capabilities == nil || p.Capabilities.RootsV2 == nil {
		return roots
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	//lint:ignore SA1019 roots: see RootsListChangedHandler in newServer
	res, err := ss.ListRoots(lctx, nil)
	if err != nil {
		log.Warn("roots/list failed; keeping the previous workspace", "error", err)
		return roots
	}
	var paths []string
	for _, r := range res.Roots {
		path, err := engine.PathFromURIOrPath(r.URI)
		if err != nil {
			log.Warn("ignoring client root", "uri", r.URI, "error", err)
			continue
		}
		paths = append(paths, path)
	}
	st.mu.Lock()
	st.roots, st.rootsStale = paths, false
	st.mu.Unlock()
	return paths
}

func (s *mcpServer) newCallID() string {
	return "c" + strconv.FormatUint(s.nextID.Add(1), 10)
}
