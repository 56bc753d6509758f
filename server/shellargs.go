package server

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// normalizeArguments repairs tools/call arguments before the SDK validates
// them against the tool's input schema:
//   - "arguments": null means no arguments. (The SDK would decode null into
//     a nil map and panic filling in defaults.)
//   - For the shell tool, an optional field given as null is left out, so
//     clients that send every optional field (OpenAI's strict function
//     calling does) get the default; timeout_ms and login given as strings
//     ("5000", "false": MCP Inspector 0.15 sends its form values so) or
//     timeout_ms as a whole float (5000.0) become the number or boolean
//     they spell. Anything else is left for the schema to reject, naming
//     the field.
//
// Arguments that are not a JSON object are returned unchanged: the SDK
// refuses them.
func normalizeArguments(tool string, raw json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	if tool != "shell" || trimmed[0] != '{' {
		return raw
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(trimmed, &fields) != nil {
		return raw
	}
	changed := false
	for _, f := range []struct {
		name string
		fix  func(json.RawMessage) (json.RawMessage, bool)
	}{{"timeout_ms", lenientInteger}, {"login", lenientBool}} {
		name := f.name
		v, ok := fields[name]
		if !ok {
			continue
		}
		if string(bytes.TrimSpace(v)) == "null" {
			delete(fields, name)
			changed = true
		} else if nv, ok := f.fix(v); ok {
			fields[name] = nv
			changed = true
		}
	}
	if !changed {
		return raw
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return raw
	}
	return out
}

// lenientInteger turns "5000" and 5000.0 into 5000.
func lenientInteger(v json.RawMessage) (json.RawMessage, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, false
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), true
	}
	var f float64
	if json.Unmarshal(v, &f) != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, false
	}
	if s := strconv.FormatInt(int64(f), 10); s != string(bytes.TrimSpace(v)) {
		return json.RawMessage(s), true
	}
	return nil, false
}

// lenientBool turns "true" and "false" (any case) into true and false.
func lenientBool(v json.RawMessage) (json.RawMessage, bool) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return json.RawMessage("true"), true
	case "false":
		return json.RawMessage("false"), true
	}
	return nil, false
}
