package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client is one MCP client speaking raw JSON-RPC (one message per line) to
// a server process over its stdin and stdout: the same bytes for every
// server, so no client library's cost or behaviour differs between them.
type client struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	next int
	// stderr is where the server's log goes, shown when something fails.
	stderr string
}

// response is the part of a JSON-RPC message the client looks at.
type response struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// dial starts the server and completes the MCP handshake and Codex's
// sandbox-state update (workspace-write, workspace ws, no network).
func dial(t target, ws, logFile string) (*client, error) {
	cmd := exec.Command(t.argv[0], t.argv[1:]...)
	cmd.Env = t.env
	cmd.Dir = ws
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", t.argv[0], err)
	}
	c := &client{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16), stderr: logFile}
	init := `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sidebyside","version":"1"}}`
	if _, err := c.call("initialize", init); err != nil {
		c.close()
		return nil, err
	}
	if err := c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil {
		c.close()
		return nil, err
	}
	update := fmt.Sprintf(`{"sandboxPolicy":{"type":"workspace-write","writable_roots":[],"network_access":false},"codexLinuxSandboxExe":%s,"sandboxCwd":%s}`,
		quote(t.linuxSandbox), quote(ws))
	if _, err := c.call("codex/sandbox-state/update", update); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func quote(s string) string {
	if s == "" {
		return "null"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func (c *client) send(line string) error {
	_, err := io.WriteString(c.in, line+"\n")
	return err
}

// call sends one request and returns its result, skipping whatever else
// the server sends meanwhile (notifications, log messages).
func (c *client) call(method, params string) (json.RawMessage, error) {
	c.next++
	id := strconv.Itoa(c.next)
	if err := c.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`); err != nil {
		return nil, fmt.Errorf("%s: write: %w (server log %s)", method, err, c.stderr)
	}
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w (server log %s)", method, err, c.stderr)
		}
		var r response
		if json.Unmarshal(line, &r) != nil || r.Method != "" || string(r.ID) != id {
			continue
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: error %d: %s", method, r.Error.Code, r.Error.Message)
		}
		return r.Result, nil
	}
}

// shell runs one shell tool call and checks that the command exited 0.
func (c *client) shell(args string) error {
	res, err := c.call("tools/call", `{"name":"shell","arguments":`+args+`}`)
	if err != nil {
		return err
	}
	var r struct {
		IsError bool `json:"isError"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return fmt.Errorf("tools/call result %s: %w", res, err)
	}
	if r.IsError || len(r.Content) == 0 || !strings.Contains(r.Content[0].Text, `"exit_code":0`) {
		return fmt.Errorf("tools/call failed: %s", res)
	}
	return nil
}

// close ends the server: stdin closed (both servers exit on EOF), killed if
// it has not exited within two seconds.
func (c *client) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// closeAll closes clients in parallel.
func closeAll(cs []*client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c != nil {
			wg.Go(c.close)
		}
	}
	wg.Wait()
}

// cpuTicks is the CPU time the process has used and that of its children
// it has waited for (which includes their own waited-for children), in
// clock ticks: the whole process tree of a server whose calls leave nothing
// behind. self is the process's own part (its threads alone).
func cpuTicks(pid int) (tree, self int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("bad /proc stat")
	}
	// After the command: state ppid pgrp session tty tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime (fields 3..17).
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, 0, errors.New("short /proc stat")
	}
	for k, x := range f[11:15] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		tree += n
		if k < 2 {
			self += n
		}
	}
	return tree, self, nil
}
