// Package shellscan splits a `bash -lc` script into plain commands, accepting
// only the small subset of Bash whose meaning is evident from the text:
// simple commands of literal words joined by &&, ||, ; | and newlines. Any
// expansion, redirection, substitution, assignment, compound command,
// comment or background job makes the whole script unparseable, so that
// callers fall back to treating the script as opaque.
//
// The accepted subset follows the tree-sitter-bash based parser of Codex
// 0.97.0 (parse_shell_lc_plain_commands), hand-rolled to avoid cgo, and is
// stricter where Codex's verbatim word text would differ from what Bash
// executes: an unquoted backslash, or \" and \\ inside double quotes, are
// rejected.
package shellscan

import "strings"

// PlainCommands returns the commands of script in source order, or ok=false
// if the script is outside the accepted subset. A blank script yields no
// commands and ok=true.
func PlainCommands(script string) (cmds [][]string, ok bool) {
	s := &scanner{src: script}
	return s.script()
}

type scanner struct {
	src string
	pos int
}

func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *scanner) skipBlanks() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

func (s *scanner) skipBlanksAndNewlines() {
	for s.pos < len(s.src) && strings.IndexByte(" \t\n", s.src[s.pos]) >= 0 {
		s.pos++
	}
}

// script = { newline } [ command { separator command } [ ";" ] ] { newline }
func (s *scanner) script() ([][]string, bool) {
	cmds := [][]string{}
	s.skipBlanksAndNewlines()
	if s.pos == len(s.src) {
		return cmds, true
	}
	for {
		cmd, ok := s.command()
		if !ok {
			return nil, false
		}
		cmds = append(cmds, cmd)
		s.skipBlanks()
		if s.pos == len(s.src) {
			return cmds, true
		}
		switch {
		case strings.HasPrefix(s.src[s.pos:], "&&"), strings.HasPrefix(s.src[s.pos:], "||"):
			s.pos += 2
			s.skipBlanksAndNewlines()
		case s.peek() == '|':
			if strings.HasPrefix(s.src[s.pos:], "|&") {
				return nil, false
			}
			s.pos++
			s.skipBlanksAndNewlines()
		case s.peek() == ';' || s.peek() == '\n':
			if strings.HasPrefix(s.src[s.pos:], ";;") {
				return nil, false
			}
			s.pos++
			s.skipBlanksAndNewlines()
			if s.pos == len(s.src) {
				return cmds, true // trailing ; or newline
			}
		default:
			return nil, false
		}
		if s.pos == len(s.src) {
			return nil, false // dangling operator: `ls &&`
		}
	}
}

var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "for": true,
	"while": true, "until": true, "do": true, "done": true, "case": true, "esac": true,
	"in": true, "function": true, "select": true, "time": true, "coproc": true,
	"[[": true, "]]": true, "!": true, "{": true, "}": true,
}

func (s *scanner) command() ([]string, bool) {
	var argv []string
	for {
		s.skipBlanks()
		c := s.peek()
		if c == 0 || c == '\n' || c == ';' || c == '&' || c == '|' {
			break
		}
		w, ok := s.word()
		if !ok {
			return nil, false
		}
		argv = append(argv, w)
	}
	if len(argv) == 0 || keywords[argv[0]] || isAssignment(argv[0]) {
		return nil, false
	}
	return argv, true
}

// word reads one word made of unquoted, single-quoted and double-quoted
// parts glued together.
func (s *scanner) word() (string, bool) {
	var b strings.Builder
	start := s.pos
	parts := 0
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\'':
			end := strings.IndexByte(s.src[s.pos+1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(s.src[s.pos+1 : s.pos+1+end])
			s.pos += end + 2
		case c == '"':
			end := strings.IndexByte(s.src[s.pos+1:], '"')
			if end < 0 {
				return "", false
			}
			body := s.src[s.pos+1 : s.pos+1+end]
			// An escaped quote would end the string elsewhere than found
			// here; $ and ` expand. Reject them all.
			if strings.ContainsAny(body, "$`") || strings.Contains(body, `\"`) || strings.Contains(body, `\\`) {
				return "", false
			}
			b.WriteString(body)
			s.pos += end + 2
		case strings.IndexByte(" \t\n;&|", c) >= 0:
			return s.finishWord(&b, start, parts)
		case strings.IndexByte("$`\\()<>{}#!", c) >= 0:
			// Expansions, substitutions, escapes, subshells, redirections,
			// brace groups, comments (a # inside a word is literal in Bash,
			// but tree-sitter-bash and Codex reject it too) and history.
			return "", false
		default:
			b.WriteByte(c)
			s.pos++
		}
		parts++
	}
	return s.finishWord(&b, start, parts)
}

func (s *scanner) finishWord(b *strings.Builder, start, parts int) (string, bool) {
	if parts > 1 && b.Len() == 0 {
		return "", false // a concatenation with an empty result
	}
	return b.String(), s.pos > start
}

// isAssignment reports a NAME=value or NAME+=value word, which Bash treats
// as a variable assignment when it starts a command.
func isAssignment(w string) bool {
	i := 0
	for i < len(w) && (w[i] == '_' || w[i] >= 'a' && w[i] <= 'z' || w[i] >= 'A' && w[i] <= 'Z' || i > 0 && w[i] >= '0' && w[i] <= '9') {
		i++
	}
	if i == 0 {
		return false
	}
	return strings.HasPrefix(w[i:], "=") || strings.HasPrefix(w[i:], "+=")
}
