// Command mockmodel is an offline stand-in for the OpenAI Responses API, so
// that a real Codex CLI can be driven end to end without a network or an
// account (scripts/codex-e2e.sh). It is a test tool, not part of execgate.
//
// Each user message of the form "run: SCRIPT" makes the model call
// execgate's shell tool once with SCRIPT as the command and -workdir as the
// working directory; when the tool's output comes back, the model answers
// with an assistant message that quotes it and ends the turn. Every request
// body is appended to -log as one JSON line, so a test can read what Codex
// sent and what the tool returned.
//
// Codex 0.171 offers MCP tools as a namespace ("mcp__execgate", function
// "shell"); Codex 0.97 as one flat function ("mcp__execgate__shell"). The
// mock looks at the request's tool list and calls whichever it finds.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	portFile := flag.String("port-file", "", "write the chosen port here once listening")
	workdir := flag.String("workdir", "", "workdir argument of every shell call (absolute)")
	logPath := flag.String("log", "", "append every request body here (JSON lines)")
	server := flag.String("server", "execgate", "MCP server name in Codex's config")
	flag.Parse()
	if *workdir == "" {
		log.Fatal("mockmodel: -workdir is required")
	}
	m := &model{workdir: *workdir, server: *server}
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatalf("mockmodel: %v", err)
		}
		defer f.Close()
		m.log = f
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("mockmodel: %v", err)
	}
	if *portFile != "" {
		port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
		if err := os.WriteFile(*portFile, []byte(port), 0o644); err != nil {
			log.Fatalf("mockmodel: %v", err)
		}
	}
	log.Fatal(http.Serve(ln, m))
}

type model struct {
	workdir, server string

	mu  sync.Mutex
	log io.Writer
	seq atomic.Int64
}

// request is the part of a Responses API request the mock reads.
type request struct {
	Input []json.RawMessage `json:"input"`
	Tools []json.RawMessage `json:"tools"`
}

type inputItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Output  json.RawMessage `json:"output"`
}

type tool struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Tools []tool `json:"tools"`
}

func (m *model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/responses") {
		// Model listings and other side requests: an empty answer keeps
		// Codex on its configured model.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[],"models":[]}`)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.record(body)
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := fmt.Sprintf("resp_%d", m.seq.Add(1))
	events := []any{map[string]any{"type": "response.created", "response": map[string]any{"id": id}}}
	last := lastItem(req.Input)
	switch {
	case last.Type == "function_call_output":
		events = append(events, message(id, "tool output: "+outputText(last.Output)))
	case userScript(last) != "":
		events = append(events, m.shellCall(id, req.Tools, userScript(last)))
	default:
		events = append(events, message(id, "nothing to do"))
	}
	events = append(events, map[string]any{"type": "response.completed", "response": map[string]any{
		"id":    id,
		"usage": map[string]any{"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
	}})
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.(map[string]any)["type"], b)
	}
}

func (m *model) record(body []byte) {
	if m.log == nil {
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return
	}
	compact.WriteByte('\n')
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log.Write(compact.Bytes())
}

// shellCall calls the shell tool of m.server, as a namespaced function when
// Codex offers namespaces, else by its flat name.
func (m *model) shellCall(id string, tools []json.RawMessage, script string) any {
	args, _ := json.Marshal(map[string]any{"command": script, "workdir": m.workdir, "login": false})
	item := map[string]any{
		"type":      "function_call",
		"id":        id + "_fc",
		"call_id":   "call_" + id,
		"name":      "mcp__" + m.server + "__shell",
		"arguments": string(args),
	}
	ns := "mcp__" + m.server
	for _, raw := range tools {
		var t tool
		if json.Unmarshal(raw, &t) != nil || t.Name != ns {
			continue
		}
		for _, sub := range t.Tools {
			if sub.Name == "shell" {
				item["namespace"] = ns
				item["name"] = "shell"
			}
		}
	}
	return map[string]any{"type": "response.output_item.done", "item": item}
}

func message(id, text string) any {
	return map[string]any{"type": "response.output_item.done", "item": map[string]any{
		"type": "message", "role": "assistant", "id": id + "_msg",
		"content": []any{map[string]any{"type": "output_text", "text": text}},
	}}
}

func lastItem(items []json.RawMessage) inputItem {
	var it inputItem
	if len(items) > 0 {
		_ = json.Unmarshal(items[len(items)-1], &it)
	}
	return it
}

// userScript returns SCRIPT from a user message "run: SCRIPT", else "".
func userScript(it inputItem) string {
	if it.Role != "user" {
		return ""
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(it.Content, &parts) != nil {
		return ""
	}
	for i := len(parts) - 1; i >= 0; i-- {
		if _, s, ok := strings.Cut(parts[i].Text, "run: "); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// outputText is a function_call_output's output: a string, or a list of
// content items (Codex 0.171 for errors) whose texts are joined.
func outputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &items) == nil {
		var b strings.Builder
		for _, it := range items {
			b.WriteString(it.Text)
			b.WriteString("\n")
		}
		return b.String()
	}
	return string(raw)
}
