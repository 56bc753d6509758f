package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Codex prints JSON with serde_json, whose string escaping differs from
// encoding/json's: it escapes only ", \ and control characters, never <, >,
// & or U+2028/U+2029. The encoders here write serde's bytes exactly.

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			// Valid UTF-8 is written raw; an invalid byte becomes U+FFFD
			// so that the output stays valid JSON.
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\ufffd")
				continue
			}
			b.WriteString(s[i : i+size])
			i += size - 1
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// jsonQuote returns s as a serde_json string literal.
func jsonQuote(s string) string {
	var b strings.Builder
	writeJSONString(&b, s)
	return b.String()
}

func writeJSONStrings(b *strings.Builder, list []string) {
	b.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, s)
	}
	b.WriteByte(']')
}

func (m RuleMatch) writeJSON(b *strings.Builder) {
	if m.Rule == nil {
		b.WriteString(`{"heuristicsRuleMatch":{"command":`)
		writeJSONStrings(b, m.Command)
		b.WriteString(`,"decision":`)
		writeJSONString(b, m.Decision.String())
		b.WriteString(`}}`)
		return
	}
	b.WriteString(`{"prefixRuleMatch":{"matchedPrefix":`)
	writeJSONStrings(b, m.MatchedPrefix)
	b.WriteString(`,"decision":`)
	writeJSONString(b, m.Decision.String())
	if m.ResolvedProgram != "" {
		b.WriteString(`,"resolvedProgram":`)
		writeJSONString(b, m.ResolvedProgram)
	}
	if j := m.Rule.Justification; j != "" {
		b.WriteString(`,"justification":`)
		writeJSONString(b, j)
	}
	b.WriteString(`}}`)
}

// MarshalJSON encodes the match as Codex does: an externally tagged
// {"prefixRuleMatch":{...}} or {"heuristicsRuleMatch":{...}}.
func (m RuleMatch) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	m.writeJSON(&b)
	return []byte(b.String()), nil
}

func writeMatches(b *strings.Builder, matches []RuleMatch) {
	b.WriteByte('[')
	for i, m := range matches {
		if i > 0 {
			b.WriteByte(',')
		}
		m.writeJSON(b)
	}
	b.WriteByte(']')
}

// MarshalJSON encodes the evaluation as Codex's library Evaluation:
// {"decision":...,"matchedRules":[...]}.
func (e Evaluation) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString(`{"decision":`)
	if e.Decision == None {
		b.WriteString("null")
	} else {
		writeJSONString(&b, e.Decision.String())
	}
	b.WriteString(`,"matchedRules":`)
	writeMatches(&b, e.MatchedRules)
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// CheckJSON renders an evaluation as `codex execpolicy check` prints it:
// {"matchedRules":[...],"decision":"..."} with decision omitted when nothing
// matched; pretty selects serde_json's pretty format (two-space indent).
func CheckJSON(e Evaluation, pretty bool) []byte {
	var b strings.Builder
	b.WriteString(`{"matchedRules":`)
	writeMatches(&b, e.MatchedRules)
	if e.Decision != None {
		b.WriteString(`,"decision":`)
		writeJSONString(&b, e.Decision.String())
	}
	b.WriteByte('}')
	if !pretty {
		return []byte(b.String())
	}
	var out bytes.Buffer
	// json.Indent copies string literals byte for byte, so serde's escaping
	// survives; its layout is serde's PrettyFormatter layout.
	if err := json.Indent(&out, []byte(b.String()), "", "  "); err != nil {
		return []byte(b.String()) // unreachable: the input is well-formed
	}
	return out.Bytes()
}
