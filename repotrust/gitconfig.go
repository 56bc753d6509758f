package repotrust

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// configEntry is one variable of a git config file. key is
// section[.subsection].name with section and name lower-cased, as git
// compares them; value is "" for a variable without '=' (boolean true).
type configEntry struct {
	key, value string
}

// maxConfigFile bounds the config files read; larger ones are refused.
const maxConfigFile = 1 << 20

// readConfig parses a git config file. It reads what git reads (sections,
// subsections, quoting, escapes, continuation lines, comments) so that the
// include, hooksPath and fsmonitor settings it returns are the ones git
// sees; a file git would reject is an error.
func readConfig(path string) ([]configEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigFile)
	}
	entries, line, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line, err)
	}
	return entries, nil
}

// parseConfig is git's config syntax (config.c, git_parse_source).
func parseConfig(data []byte) ([]configEntry, int, error) {
	p := &configParser{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1}
	var out []configEntry
	section := ""
	for {
		c, ok := p.next()
		if !ok {
			return out, p.line, nil
		}
		switch {
		case c == '\n' || isSpace(c):
		case c == '#' || c == ';':
			p.skipLine()
		case c == '[':
			s, err := p.sectionHeader()
			if err != nil {
				return nil, p.line, err
			}
			section = s
		case isAlpha(c):
			if section == "" {
				return nil, p.line, errors.New("variable outside a section")
			}
			name, value, err := p.variable(c)
			if err != nil {
				return nil, p.line, err
			}
			out = append(out, configEntry{key: section + "." + name, value: value})
		default:
			return nil, p.line, fmt.Errorf("unexpected character %q", c)
		}
	}
}

type configParser struct {
	data []byte
	pos  int
	line int
}

// next returns the next character; "\r\n" reads as '\n'.
func (p *configParser) next() (byte, bool) {
	if p.pos >= len(p.data) {
		return 0, false
	}
	c := p.data[p.pos]
	p.pos++
	if c == '\r' && p.pos < len(p.data) && p.data[p.pos] == '\n' {
		c = '\n'
		p.pos++
	}
	if c == '\n' {
		p.line++
	}
	return c, true
}

func (p *configParser) skipLine() {
	for {
		c, ok := p.next()
		if !ok || c == '\n' {
			return
		}
	}
}

// sectionHeader reads what follows '[': "name]", "name \"sub\"]" or the
// old "name.sub]" (whose subsection git lower-cases).
func (p *configParser) sectionHeader() (string, error) {
	var name strings.Builder
	for {
		c, ok := p.next()
		switch {
		case !ok || c == '\n':
			return "", errors.New("unterminated section header")
		case c == ']':
			if name.Len() == 0 {
				return "", errors.New("empty section name")
			}
			return strings.ToLower(name.String()), nil
		case isSpace(c):
			return p.subsection(strings.ToLower(name.String()))
		case isAlnum(c) || c == '-' || c == '.':
			name.WriteByte(c)
		default:
			return "", fmt.Errorf("bad character %q in section name", c)
		}
	}
}

func (p *configParser) subsection(section string) (string, error) {
	c, ok := p.next()
	for ok && isSpace(c) {
		c, ok = p.next()
	}
	if !ok || c != '"' {
		return "", errors.New("bad section header: want a quoted subsection")
	}
	var sub strings.Builder
	for {
		c, ok := p.next()
		switch {
		case !ok || c == '\n':
			return "", errors.New("unterminated subsection")
		case c == '"':
			if c, ok := p.next(); !ok || c != ']' {
				return "", errors.New("bad section header: want ']' after the subsection")
			}
			return section + "." + sub.String(), nil
		case c == '\\':
			c, ok = p.next()
			if !ok || c == '\n' {
				return "", errors.New("unterminated subsection")
			}
		}
		sub.WriteByte(c)
	}
}

// variable reads a variable whose name starts with first, and its value.
func (p *configParser) variable(first byte) (name, value string, err error) {
	var b strings.Builder
	b.WriteByte(first)
	for {
		c, ok := p.next()
		if !ok {
			return strings.ToLower(b.String()), "", nil
		}
		if isAlnum(c) || c == '-' {
			b.WriteByte(c)
			continue
		}
		for ok && isSpace(c) {
			c, ok = p.next()
		}
		name = strings.ToLower(b.String())
		switch {
		case !ok || c == '\n':
			return name, "", nil
		case c == '#' || c == ';':
			p.skipLine()
			return name, "", nil
		case c == '=':
			value, err = p.value()
			return name, value, err
		}
		return "", "", fmt.Errorf("bad character %q after variable %s", c, name)
	}
}

// value reads a value up to the end of its line (parse_value).
func (p *configParser) value() (string, error) {
	var b strings.Builder
	quoted, comment := false, false
	spaces := 0
	for {
		c, ok := p.next()
		if !ok || c == '\n' {
			if quoted {
				return "", errors.New("unterminated quoted value")
			}
			return b.String(), nil
		}
		if comment {
			continue
		}
		if isSpace(c) && !quoted {
			if b.Len() > 0 {
				spaces++
			}
			continue
		}
		if !quoted && (c == '#' || c == ';') {
			comment = true
			continue
		}
		for ; spaces > 0; spaces-- {
			b.WriteByte(' ')
		}
		switch c {
		case '\\':
			c, ok = p.next()
			switch {
			case !ok:
				return "", errors.New("backslash at end of file")
			case c == '\n':
				continue // continuation line
			case c == 't':
				c = '\t'
			case c == 'b':
				c = '\b'
			case c == 'n':
				c = '\n'
			case c == '\\' || c == '"':
			default:
				return "", fmt.Errorf("bad escape \\%c in value", c)
			}
			b.WriteByte(c)
		case '"':
			quoted = !quoted
		default:
			b.WriteByte(c)
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }
