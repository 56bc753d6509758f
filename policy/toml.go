package policy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// config.toml and requirements.toml are decoded by go-toml into
// map[string]any and type-checked here, so that a value of the wrong type
// is an error naming its dotted key (execgate.timeout_ms,
// rules.prefix_rules[0].decision) and an unknown key is a warning.

// decodeTOML parses data as a generic document. A syntax error comes with
// its 1-based line and column (0, 0 when go-toml gives none): go-toml's
// message does not include them.
func decodeTOML(data []byte) (doc map[string]any, line, col int, err error) {
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col = de.Position()
		}
		return nil, line, col, err
	}
	return doc, 0, 0, nil
}

// tomlDecoder collects the warnings of one file; kind ("config",
// "requirements") and file prefix them.
type tomlDecoder struct {
	kind, file string
	warnings   []string
}

// unknown warns about each key of t (the table at section) not in known.
func (d *tomlDecoder) unknown(t map[string]any, section string, known ...string) {
	for _, k := range sortedKeys(t) {
		if !slices.Contains(known, k) {
			d.warnings = append(d.warnings, fmt.Sprintf("%s %s: unknown key %s (ignored)", d.kind, d.file, keyPath(section, k)))
		}
	}
}

// tomlAs returns v as a T, or an error naming key, what it should be (want)
// and what it is.
func tomlAs[T any](key, want string, v any) (T, error) {
	x, ok := v.(T)
	if !ok {
		return x, fmt.Errorf("%s: expected %s, got %s", key, want, tomlType(v))
	}
	return x, nil
}

// tomlStrings returns v as an array of strings (non-nil, even when empty);
// a wrong element is named key[i].
func tomlStrings(key string, v any) ([]string, error) {
	list, err := tomlAs[[]any](key, "an array of strings", v)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(list))
	for i, x := range list {
		if out[i], err = tomlAs[string](fmt.Sprintf("%s[%d]", key, i), "a string", x); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func keyPath(section, key string) string {
	if section == "" {
		return key
	}
	return section + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "toml.")
}
