package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"strings"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// LoadOptions tune Load. The zero value is ready to use.
type LoadOptions struct {
	// Limits bound evaluation; zero fields take DefaultLimits.
	Limits Limits
	// HomeDir expands "~/" in host_executable paths; default os.UserHomeDir.
	HomeDir string
	// Requirements is an admin requirements.toml whose [rules] are
	// appended after every file's rules ("" for none; a missing file
	// counts as empty). See Sources.RequirementsFile.
	Requirements string
}

// LoadError is a rules file that failed to load. Its message is Codex's inner
// message (e.g. "invalid decision: maybe") prefixed with file:line:col.
type LoadError struct {
	File      string
	Line, Col int    // 0 when the error has no position (e.g. read errors)
	Msg       string // the message without location
	Err       error  // the underlying error, if any
	// Read is true when the file could not be read (as opposed to evaluated).
	Read bool
}

func (e *LoadError) Error() string {
	if e.Read {
		return fmt.Sprintf("failed to read rules file %s: %s", e.File, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Load evaluates the rules files in order, each as its own Starlark module,
// and returns the combined policy. The first file that fails to read or
// evaluate fails the whole load with a *LoadError naming it.
func Load(ctx context.Context, files []string, opts LoadOptions) (*Policy, error) {
	l := newLoader(opts)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("loading rules: %w", err)
		}
		src, err := readCapped(f, l.limits.MaxFileBytes)
		if err != nil {
			return nil, &LoadError{File: f, Msg: describeOSError(err), Err: err, Read: true}
		}
		if err := l.addSource(ctx, f, src); err != nil { // rejects a file above the limit
			return nil, err
		}
	}
	if opts.Requirements != "" {
		if err := l.addRequirements(opts.Requirements); err != nil {
			return nil, err
		}
	}
	return l.policy(), nil
}

// readCapped reads at most limit+1 bytes of path: enough for the caller to
// tell a file larger than limit without reading all of it. The buffer is
// sized from the file's size, so that a large file is read in one piece.
func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := limit
	if st, err := f.Stat(); err == nil && st.Size() < size {
		size = st.Size()
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(f, limit+1))
	return buf.Bytes(), err
}

// describeOSError renders an OS error as Rust's io::Error Display does
// ("No such file or directory (os error 2)"), which Codex prints.
func describeOSError(err error) string {
	if e, ok := errnoOf(err); ok {
		msg := e.Error()
		if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
			msg = string(msg[0]-'a'+'A') + msg[1:]
		}
		return fmt.Sprintf("%s (os error %d)", msg, uintptr(e))
	}
	return err.Error()
}

// loader builds a Policy file by file.
type loader struct {
	Policy
	limits Limits
	home   string
	budget ruleBudget
	// predeclared are the names every file sees: the builtins and the
	// checked universe.
	predeclared starlark.StringDict
}

func newLoader(opts LoadOptions) *loader {
	home := opts.HomeDir
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	limits := opts.Limits.withDefaults()
	predeclared := guardedUniverse()
	maps.Copy(predeclared, guardHelpers())
	maps.Copy(predeclared, builtins())
	return &loader{Policy: *Empty(), limits: limits, home: home, budget: ruleBudget{limits.MaxRules, limits.MaxRules}, predeclared: predeclared}
}

// addSource evaluates one file's source and appends its rules.
func (l *loader) addSource(ctx context.Context, path string, src []byte) error {
	if int64(len(src)) > l.limits.MaxFileBytes {
		return &LoadError{File: path, Msg: fmt.Sprintf("rules file is larger than %d bytes", l.limits.MaxFileBytes)}
	}
	prep, serr := prescan(src, l.limits.MaxNesting)
	if serr != nil {
		return &LoadError{File: path, Line: int(serr.pos.line), Col: int(serr.pos.col), Msg: serr.msg}
	}
	f, err := parse(path, prep, prep.cuts(runtime.GOMAXPROCS(0)))
	if err != nil {
		return loadErrorFrom(path, err)
	}
	if err := rewrite(f, src, prep); err != nil {
		return loadErrorFrom(path, err)
	}
	prog, err := starlark.FileProgram(f, l.predeclared.Has)
	if err != nil {
		return loadErrorFrom(path, err)
	}
	th := &starlark.Thread{
		Name:  path,
		Print: func(*starlark.Thread, string) {}, // print is unavailable anyway
		Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
			//lint:ignore ST1005 Codex's (starlark-rust's) message, word for word
			return nil, fmt.Errorf("No imports are available, you tried `%s`", module)
		},
	}
	state := &fileState{path: path, home: l.home, budget: &l.budget}
	th.SetLocal(fileKey, state)
	th.SetLocal(guardKey, &guard{limits: l.limits})
	th.SetMaxExecutionSteps(l.limits.MaxSteps)
	stop := watchdog(ctx, th, l.limits.Timeout)
	_, err = prog.Init(th, l.predeclared)
	stop()
	if err != nil {
		return loadErrorFrom(path, err)
	}
	l.commit(path, state)
	return nil
}

func (l *loader) commit(path string, state *fileState) {
	l.files = append(l.files, path)
	l.index(state.rules)
	for _, h := range state.hosts {
		// A later definition replaces an earlier one, across files too.
		l.hosts[h.name] = h.paths
	}
}

// addRequirements appends the [rules] of the requirements file at path,
// after every rules file's rules. A missing file adds nothing.
func (l *loader) addRequirements(path string) error {
	data, ok, err := readRequirements(path, l.limits.MaxFileBytes)
	if err != nil || !ok {
		return err
	}
	rules, warnings, err := parseRequirements(path, data)
	l.warnings = append(l.warnings, warnings...)
	if err != nil {
		return err
	}
	if err := l.budget.take(len(rules)); err != nil {
		return &LoadError{File: path, Msg: err.Error(), Err: err}
	}
	l.reqFile, l.reqCount = path, len(rules)
	l.index(rules)
	return nil
}

// index appends rules to their programs' lists.
func (l *loader) index(rules []*PrefixRule) {
	for _, r := range rules {
		l.rules[r.Program] = append(l.rules[r.Program], r)
	}
	l.count += len(rules)
}

// watchdog cancels th when the timeout passes or ctx ends. Cancellation is
// checked between steps; the guard keeps every step short.
func watchdog(ctx context.Context, th *starlark.Thread, timeout time.Duration) (stop func()) {
	timer := time.AfterFunc(timeout, func() {
		th.Cancel(fmt.Sprintf("evaluation took longer than %v", timeout))
	})
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			th.Cancel(ctx.Err().Error())
		case <-done:
		}
	}()
	return func() {
		timer.Stop()
		close(done)
	}
}

func (l *loader) policy() *Policy {
	p := l.Policy
	return &p
}

// loadErrorFrom converts a parse, resolve or evaluation error into a
// LoadError located at the innermost position in the rules file.
func loadErrorFrom(path string, err error) *LoadError {
	le := &LoadError{File: path, Msg: err.Error(), Err: err}
	setPos := func(p syntax.Position) {
		if p.IsValid() {
			le.Line, le.Col = int(p.Line), int(p.Col)
		}
	}
	var (
		synErr  syntax.Error
		resErrs resolve.ErrorList
		evalErr *starlark.EvalError
		rwErr   *rewriteError
	)
	switch {
	case errors.As(err, &synErr):
		le.Msg = "Parse error: " + synErr.Msg
		setPos(synErr.Pos)
	case errors.As(err, &resErrs):
		le.Msg = resolveMessage(resErrs[0].Msg)
		setPos(resErrs[0].Pos)
	case errors.As(err, &rwErr):
		le.Msg = rwErr.msg
		setPos(rwErr.pos)
	case errors.As(err, &evalErr):
		le.Msg = evalErr.Msg
		var re *ruleError
		if errors.As(err, &re) {
			le.Msg = re.msg
		}
		for i := len(evalErr.CallStack) - 1; i >= 0; i-- {
			fr := evalErr.CallStack[i]
			if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
				setPos(fr.Pos)
				break
			}
		}
	}
	return le
}

// resolveMessage maps go.starlark.net resolver messages onto the texts
// Codex's starlark-rust prints, where tools and tests written against Codex
// look for them.
func resolveMessage(msg string) string {
	const undefined = "undefined: "
	if len(msg) > len(undefined) && msg[:len(undefined)] == undefined {
		name := msg[len(undefined):]
		if i := strings.IndexByte(name, ' '); i >= 0 { // drop "(did you mean ...)"
			name = name[:i]
		}
		return fmt.Sprintf("Variable `%s` not found", name)
	}
	return msg
}
