package engine

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/execgate/execgate/engine/output"
	"github.com/execgate/execgate/escalate"
	"github.com/execgate/execgate/loginenv"
	"github.com/execgate/execgate/sandbox"
)

// A login call (login: true, the default) does not run the profile each
// time. The profile runs once per sandbox spec, in a login Bash under that
// spec's sandbox with its execs decided by the policy like a call's, and
// what it left (exported variables, functions, aliases, options) becomes a
// file each later login call's Bash sources through BASH_ENV: the call
// starts from the login environment with no profile program run, nothing
// printed and no time spent on it. Changing a profile file (a stat per
// file, checked per call) takes a new snapshot.
//
// The snapshot is made by code running in the sandbox (an agent may be
// able to write the profile), so it is sourced only in the sandbox too,
// where it can do nothing the call's own script could not. What must not
// happen is one call changing what a later call sources: the file lives in
// the server's runtime directory, which no sandbox can write (the
// snapshot is not used, and the profile runs per call as before, where
// that directory lies in a writable root), and it is written once and
// checked (a stat) before each use: a file found changed (by a call
// without sandbox) is written again from the server's copy.
//
// When the snapshot cannot be taken (the profile exits, hangs, prints
// without end, the sandbox refuses it), login calls run without the
// profile, each with a note saying why, and the failure is logged; it is
// tried again when a profile file changes, or after loginRetry.

// Bounds of one capture.
const (
	loginCaptureTimeout = 5 * time.Second
	loginDumpMax        = 8 << 20
	loginRetry          = time.Minute
	// loginSnapshotsMax bounds the snapshots kept: one per sandbox spec a
	// client uses (mode, roots, workspace), so a handful.
	loginSnapshotsMax = 16
	// loginRemoveDelay is how long a replaced snapshot file stays: a call
	// that started just before may not have read it yet.
	loginRemoveDelay = 10 * time.Second
)

// loginEnvs are an engine's login-environment snapshots, one per sandbox
// spec. Safe for concurrent use.
type loginEnvs struct {
	dir     string   // where the files are written: the runtime directory
	realDir string   // dir resolved, to compare with writable roots
	bash    string   // the patched Bash
	env     []string // what each call's Bash starts with (engine.env)
	files   []string // the profile files whose stamp is checked
	// replayable is false when Bash would not read BASH_ENV (POSIX mode):
	// login calls then run the profile as before.
	replayable bool
	log        *slog.Logger
	// warnedWritable is set once the runtime directory was found writable.
	warnedWritable atomic.Bool

	bareOnce sync.Once
	bare     []string
	bareErr  error

	mu      sync.Mutex
	entries map[string]*loginEntry
	order   []string // keys of entries, oldest first
}

// loginEntry is one snapshot, or the capture making it.
type loginEntry struct {
	stamp loginenv.Stamp
	ready chan struct{} // closed when the capture ended; then:
	err   error         // why there is no snapshot
	at    time.Time     // when the capture ended
	rc    []byte        // the file's content
	path  string        // the file
	id    fileID        // the file as written
}

func newLoginEnvs(dir, bash string, env []string, log *slog.Logger) *loginEnvs {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	return &loginEnvs{dir: dir, realDir: real, bash: bash, env: env, files: loginenv.ProfileFiles(env),
		replayable: loginenv.Replayable(env), log: log, entries: map[string]*loginEntry{}}
}

// describe says, for doctor, how login calls get the user's profile.
func (l *loginEnvs) describe() string {
	if !l.replayable {
		return "the profile runs in every login call (Bash reads no BASH_ENV in POSIX mode, so no snapshot can be replayed)"
	}
	var existing []string
	for _, f := range l.files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	watched := "none of " + strings.Join(l.files, ", ") + " exists"
	if len(existing) > 0 {
		watched = "taken again when one of " + strings.Join(existing, ", ") + " changes"
	}
	return fmt.Sprintf("the profile runs once per sandbox policy, sandboxed, and login calls start from that snapshot (kept in the server's runtime directory; %s; a failed capture is logged and retried after %v)",
		watched, loginRetry)
}

// loginStart is how a login call's Bash starts: with BASHENV (the
// snapshot), else as a login shell (Profile), else bare with Note saying
// why.
type loginStart struct {
	BashEnv string
	Profile bool
	Note    string
}

// capturer runs loginenv.Script in a login Bash under the call's sandbox
// until it ends or ctx does.
type capturer func(ctx context.Context) (captured, error)

// captured is what a capture brought back.
type captured struct {
	dump          []byte // what the shell wrote to its stdin (up to loginDumpMax+1 bytes)
	exitCode      int
	profileOutput string // head and tail of what the profile printed
}

// start returns how a login call under spec starts, taking the snapshot
// first if there is none for spec or the profile changed since. written
// are the roots the sandbox can write or has written.
func (l *loginEnvs) start(ctx context.Context, spec sandbox.Spec, written []string, capture capturer) loginStart {
	if !l.replayable {
		return loginStart{Profile: true}
	}
	for _, r := range written {
		if underDir(l.realDir, r) {
			// A call could rewrite the file later calls source.
			if l.log != nil && l.warnedWritable.CompareAndSwap(false, true) {
				l.log.Warn("the runtime directory is writable by the sandbox: login calls run the profile each time; set XDG_RUNTIME_DIR outside the workspace", "dir", l.dir, "writable_root", r)
			}
			return loginStart{Profile: true}
		}
	}
	key := specKey(spec)
	stamp := loginenv.StampOf(l.files)
	e := l.entry(key, stamp, capture)
	select {
	case <-e.ready:
	case <-ctx.Done():
		return loginStart{Note: "login: the call ended while the login environment was being captured"}
	}
	if e.err != nil {
		return loginStart{Note: "login: " + e.err.Error() + "; this call ran without the login profile"}
	}
	path, err := l.verified(e)
	if err != nil {
		return loginStart{Note: "login: " + err.Error() + "; this call ran without the login profile"}
	}
	return loginStart{BashEnv: path}
}

// entry returns the snapshot for key made with stamp, starting its capture
// if there is none (or only a failed one old enough to retry).
func (l *loginEnvs) entry(key string, stamp loginenv.Stamp, capture capturer) *loginEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[key]; ok && e.stamp == stamp {
		select {
		case <-e.ready:
			if e.err == nil || time.Since(e.at) < loginRetry {
				return e
			}
		default:
			return e // being captured
		}
	}
	e := &loginEntry{stamp: stamp, ready: make(chan struct{})}
	if old, ok := l.entries[key]; ok {
		l.retire(old)
	} else {
		l.order = append(l.order, key)
	}
	l.entries[key] = e
	if len(l.order) > loginSnapshotsMax {
		oldest := l.order[0]
		l.order = l.order[1:]
		l.retire(l.entries[oldest])
		delete(l.entries, oldest)
	}
	// Not bound to the call that started it: a call that gives up waiting
	// must not fail the capture the others wait for.
	go l.take(e, capture)
	return e
}

// retire removes e's file once no call can be about to read it.
func (l *loginEnvs) retire(e *loginEntry) {
	go func() {
		<-e.ready
		l.mu.Lock()
		path := e.path
		l.mu.Unlock()
		if path != "" {
			time.AfterFunc(loginRemoveDelay, func() { os.Remove(path) })
		}
	}()
}

// take runs the capture, renders the snapshot and writes its file.
func (l *loginEnvs) take(e *loginEntry, capture capturer) {
	defer func() {
		e.at = time.Now()
		close(e.ready)
	}()
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), loginCaptureTimeout)
	defer cancel()
	l.bareOnce.Do(func() { l.bare, l.bareErr = loginenv.BareOptions(ctx, l.bash, l.env) })
	if l.bareErr != nil {
		e.err = l.bareErr
		l.logFailure(e.err, "")
		return
	}
	c, err := capture(ctx)
	if err != nil {
		e.err = fmt.Errorf("the login shell could not start: %w", err)
		l.logFailure(e.err, "")
		return
	}
	snap, err := loginenv.Parse(c.dump)
	switch {
	case len(c.dump) > loginDumpMax:
		err = fmt.Errorf("the login environment is over %d MiB", loginDumpMax>>20)
	case ctx.Err() != nil:
		err = fmt.Errorf("the login profile did not finish within %v", loginCaptureTimeout)
	case errors.Is(err, loginenv.ErrIncomplete):
		err = fmt.Errorf("the login profile ended the shell (exit status %d) before its environment could be captured", c.exitCode)
	case err != nil:
		err = fmt.Errorf("the login environment could not be read: %w", err)
	}
	if err != nil {
		e.err = err
		l.logFailure(err, c.profileOutput)
		return
	}
	e.rc = snap.Render(loginenv.RenderOptions{Start: l.env, Bare: l.bare,
		Keep: []string{escalate.EnvSocket, escalate.EnvWrapper, escalate.EnvLegacyWrapper}})
	if e.path, e.id, err = l.write(e.rc); err != nil {
		e.err = err
		l.logFailure(err, "")
		return
	}
	if l.log != nil {
		l.log.Debug("login environment captured", "file", e.path, "bytes", len(e.rc), "variables", len(snap.Env), "took", time.Since(began), "profile_output", c.profileOutput)
	}
}

func (l *loginEnvs) logFailure(err error, profileOutput string) {
	if l.log != nil {
		l.log.Warn("no login environment: login calls run without the profile until a profile file changes", "error", err, "profile_output", profileOutput)
	}
}

// write stores rc in a new file of the runtime directory, read-only.
func (l *loginEnvs) write(rc []byte) (string, fileID, error) {
	f, err := os.CreateTemp(l.dir, "login-*.rc")
	if err != nil {
		return "", fileID{}, fmt.Errorf("writing the login environment: %w", err)
	}
	_, err = f.Write(rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o400)
	}
	var id fileID
	if err == nil {
		id, err = statID(f.Name())
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fileID{}, fmt.Errorf("writing the login environment %s: %w", f.Name(), err)
	}
	return f.Name(), id, nil
}

// verified returns e's file, written anew from e.rc if it is not the file
// the server wrote (replaced, rewritten, removed).
func (l *loginEnvs) verified(e *loginEntry) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id, err := statID(e.path); err == nil && id == e.id {
		return e.path, nil
	}
	path, id, err := l.write(e.rc)
	if err != nil {
		return "", err
	}
	if l.log != nil {
		l.log.Warn("the login environment file changed since the server wrote it; written again", "file", e.path, "new_file", path)
	}
	os.Remove(e.path)
	e.path, e.id = path, id
	return path, nil
}

// specKey identifies a sandbox spec: calls under equal specs share a
// snapshot.
func specKey(spec sandbox.Spec) string {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Sprint(spec)
	}
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// captureLogin runs loginenv.Script in a login Bash under spec with the
// call's wiring (start gives it its session), as a call of its own: its
// execs are decided by sess's decider and recorded under id, not in any
// call's decisions, and the profile's output goes to the log only. The
// dump comes back on Bash's stdin, a socket: the profile's output cannot
// mix into it.
func (e *Engine) captureLogin(ctx context.Context, spec sandbox.Spec, id string, newSession func(*Call) (*escalate.Session, *gateRunner, error), dlog *DecisionLog) (captured, error) {
	noise := output.NewCapture(2048)
	call := &Call{ID: id, Workdir: spec.Workspace, Output: noise, Decisions: newDecisions(id, dlog), Log: e.log.With("call", id)}
	sess, gate, err := newSession(call)
	if err != nil {
		return captured{}, err
	}
	// Deferred first, so it runs last: after the login shell is gone.
	defer gate.end()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		sess.Close()
		return captured{}, fmt.Errorf("login environment socket: %w", err)
	}
	// Ours is non-blocking, so that Close ends a Read (the runtime's
	// poller); the shell reads EOF from its end.
	_ = unix.SetNonblock(fds[0], true)
	_ = unix.Shutdown(fds[0], unix.SHUT_WR)
	ours, theirs := os.NewFile(uintptr(fds[0]), "login-dump"), os.NewFile(uintptr(fds[1]), "login-dump-shell")
	defer ours.Close()
	read := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(ours, loginDumpMax+1))
		if len(b) > loginDumpMax {
			// The shell, blocked writing the rest, gets EPIPE and ends
			// now rather than at the timeout.
			ours.Close()
		}
		read <- b
	}()

	helperCtx, stopHelper := context.WithCancel(context.Background())
	defer stopHelper()
	argv := []string{e.bash.Path, "-lc", loginenv.Script}
	start := func(out *os.File) (*exec.Cmd, error) {
		cmd, err := e.startSandboxed(helperCtx, spec, argv, gate, sandbox.Proc{
			Dir:    spec.Workspace,
			Env:    e.callEnv(""),
			Stdin:  theirs,
			Stdout: out,
			Stderr: out,
			Extra:  sess.ChildFile(),
		})
		theirs.Close()
		return cmd, err
	}
	oc, err := runCall(ctx, call, start, sess, stopHelper)
	if err != nil {
		theirs.Close()
		return captured{}, err
	}
	// Every process of the capture is gone, so the dump has its end,
	// unless one beyond reach holds the socket.
	c := captured{exitCode: oc.ExitCode, profileOutput: noise.String()}
	select {
	case c.dump = <-read:
	case <-time.After(time.Second):
		ours.Close()
		c.dump = <-read
	}
	return c, nil
}
