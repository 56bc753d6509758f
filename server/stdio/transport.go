// Package stdio is the MCP transport execgate serves on: newline-delimited
// JSON-RPC over a reader and a writer (stdin and stdout), tolerant of bad
// input.
//
// The go-sdk's own stdio transport ends the session on the first line it
// cannot decode, so one stray line from a client (or a human typing into the
// pipe) would kill every running call. Here a malformed line is answered with
// a JSON-RPC error and the connection keeps serving:
//   - a blank line, or one that is not JSON: -32700 parse error, id null;
//   - JSON that is not a JSON-RPC 2.0 message (including batches, which MCP
//     2025-06-18 removed, and objects with an id but no method, result or
//     error): -32600 invalid request, with the line's id when it
//     has a usable one, else null;
//   - a line longer than MaxLineBytes: -32700 with the request's id when it
//     has a usable one (the line is scanned for it as it streams in and is
//     discarded, so memory stays bounded by MaxLineBytes), else null.
//
// Only end of input (or a read error) ends the connection.
package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxLineBytes bounds one inbound message unless Transport.MaxLineBytes
// is set. It leaves room for the largest shell command the server takes
// (1 MiB) even when JSON escapes quadruple it, and bounds what one message
// costs the server.
const DefaultMaxLineBytes = 4 << 20

// Transport is an mcp.Transport over a line-oriented byte stream.
type Transport struct {
	Reader io.ReadCloser
	Writer io.Writer
	// MaxLineBytes bounds one inbound line; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Logger receives one debug record per rejected line; nil discards.
	Logger *slog.Logger
	// Reading, if set, is called when a line longer than the read buffer
	// (64 KiB) starts arriving, and the func it returns once the line is
	// read whole: the server counts such a line as work in progress (a
	// large one takes a while to arrive, and the memory it fills must not
	// be taken for the idle heap's).
	Reading func() (done func())
}

// Connect implements mcp.Transport. It may be called once per Transport.
func (t *Transport) Connect(context.Context) (mcp.Connection, error) {
	if t.Reader == nil || t.Writer == nil {
		return nil, errors.New("stdio transport: nil Reader or Writer")
	}
	max := t.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &conn{
		r:        t.Reader,
		w:        t.Writer,
		max:      max,
		reading:  t.Reading,
		log:      log,
		incoming: make(chan jsonrpc.Message),
		readErr:  make(chan error, 1),
		closed:   make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

type conn struct {
	r       io.ReadCloser
	w       io.Writer
	max     int
	reading func() func()
	log     *slog.Logger

	writeMu sync.Mutex

	incoming chan jsonrpc.Message
	readErr  chan error // the error that ended readLoop (io.EOF at end of input)

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

func (c *conn) SessionID() string { return "" }

// Read implements mcp.Connection.
func (c *conn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case m := <-c.incoming:
		return m, nil
	case err := <-c.readErr:
		c.readErr <- err // later Reads see it too
		return nil, err
	case <-c.closed:
		return nil, io.EOF
	}
}

// Write implements mcp.Connection: one message, one line, one write call.
func (c *conn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding JSON-RPC message: %w", err)
	}
	return c.writeLine(data)
}

func (c *conn) writeLine(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.closed:
		return errors.New("stdio transport: write on closed connection")
	default:
	}
	_, err := c.w.Write(append(data, '\n'))
	return err
}

// Close implements mcp.Connection. Reading stdin cannot be interrupted
// portably, so readLoop may stay blocked in Read until input arrives or ends;
// it never delivers anything after Close.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.closeErr = c.r.Close()
	})
	return c.closeErr
}

func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.r, 64<<10)
	for {
		line, over, err := readLine(br, c.max, c.reading)
		if len(line) > 0 || over != nil || err == nil {
			if msg := c.decode(line, over); msg != nil {
				select {
				case c.incoming <- msg:
				case <-c.closed:
					return
				}
			}
		}
		if err != nil {
			c.readErr <- err
			return
		}
	}
}

// decode returns the message on line, or answers the line with a JSON-RPC
// error and returns nil.
func (c *conn) decode(line []byte, over *oversize) jsonrpc.Message {
	if over != nil {
		c.reject(over.id, jsonrpc.CodeParseError, fmt.Sprintf("parse error: message of %d bytes, over the limit of %d bytes", over.size, c.max))
		return nil
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		c.reject(nil, jsonrpc.CodeParseError, "parse error: empty line")
		return nil
	}
	msg, err := jsonrpc.DecodeMessage(line)
	if err == nil {
		if r, ok := msg.(*jsonrpc.Response); ok && r.Result == nil && r.Error == nil {
			// Neither a request nor a response: nobody would answer it.
			c.reject(usableID(line), jsonrpc.CodeInvalidRequest, "invalid request: no method, result or error")
			return nil
		}
		return msg
	}
	if !json.Valid(line) {
		c.reject(nil, jsonrpc.CodeParseError, "parse error: not JSON")
		return nil
	}
	if line[0] == '[' {
		c.reject(nil, jsonrpc.CodeInvalidRequest, "invalid request: JSON-RPC batches are not supported")
		return nil
	}
	c.reject(usableID(line), jsonrpc.CodeInvalidRequest, "invalid request: "+err.Error())
	return nil
}

// reject writes an error response. id is a raw JSON string or number, or nil
// for null.
func (c *conn) reject(id json.RawMessage, code int64, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	c.log.Debug("rejected inbound line", "code", code, "error", msg)
	data, err := json.Marshal(errorResponse{
		JSONRPC: "2.0",
		ID:      id,
		Error:   wireError{Code: code, Message: msg},
	})
	if err == nil {
		err = c.writeLine(data)
	}
	if err != nil {
		c.log.Debug("cannot answer rejected line", "error", err)
	}
}

type errorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   wireError       `json:"error"`
}

type wireError struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

// usableID returns the "id" of a JSON object line if it is a string or a
// number, so the sender can match the error to its request.
func usableID(line []byte) json.RawMessage {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &probe) != nil || len(probe.ID) == 0 {
		return nil
	}
	switch probe.ID[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return probe.ID
	}
	return nil
}

// oversize is what is kept of a line longer than the limit: its length and
// the request id it carried, if usable.
type oversize struct {
	size int
	id   json.RawMessage
}

// readLine reads one '\n'-terminated line without the terminator. A line
// longer than max is consumed to its end and reported as over, with no
// data. err is io.EOF after the last line (which may lack a terminator).
// reading (if not nil) is called once the line fills br's buffer, and what
// it returns when readLine returns.
func readLine(br *bufio.Reader, max int, reading func() func()) (line []byte, over *oversize, err error) {
	var ids *idScanner
	size := 0
	var done func()
	defer func() {
		if done != nil {
			done()
		}
	}()
	for {
		chunk, err := br.ReadSlice('\n')
		size += len(chunk)
		switch {
		case ids != nil:
			ids.feed(chunk)
		case len(line)+len(chunk) > max+1: // +1: the '\n' itself
			ids = &idScanner{}
			ids.feed(line)
			ids.feed(chunk)
			line = nil
		default:
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if done == nil && reading != nil {
				done = reading()
			}
			continue
		}
		if ids != nil {
			if err == nil {
				size-- // the '\n'
			}
			over = &oversize{size: size, id: ids.ID()}
			return nil, over, err
		}
		if err == nil {
			return bytes.TrimSuffix(line, []byte("\n")), nil, nil
		}
		return line, nil, err
	}
}
