package policy

import (
	"fmt"
)

// reqDecoder type-checks the [rules] table of requirements.toml. A value of
// the wrong type is an error naming its key (rules.prefix_rules[0].decision);
// an unknown key is a warning, as in config.toml.
type reqDecoder struct {
	path     string
	warnings []string
}

func (d *reqDecoder) unknown(t map[string]any, section string, known ...string) {
	for _, k := range sortedKeys(t) {
		isKnown := false
		for _, want := range known {
			if k == want {
				isKnown = true
				break
			}
		}
		if !isKnown {
			d.warnings = append(d.warnings, fmt.Sprintf("requirements %s: unknown key %s (ignored)", d.path, keyPath(section, k)))
		}
	}
}

func wrongType(key, want string, v any) error {
	return fmt.Errorf("%s: expected %s, got %s", key, want, tomlType(v))
}

// rulesTable decodes the value of the top-level rules key. A [rules] table
// without prefix_rules yields no entries, which the caller rejects.
func (d *reqDecoder) rulesTable(v any) ([]reqRule, error) {
	t, ok := v.(map[string]any)
	if !ok {
		return nil, wrongType("rules", "a table", v)
	}
	d.unknown(t, "rules", "prefix_rules")
	raw, present := t["prefix_rules"]
	if !present {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, wrongType("rules.prefix_rules", "an array of tables", raw)
	}
	out := make([]reqRule, len(list))
	for i, x := range list {
		key := fmt.Sprintf("rules.prefix_rules[%d]", i)
		entry, ok := x.(map[string]any)
		if !ok {
			return nil, wrongType(key, "a table", x)
		}
		r, err := d.rule(key, entry)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (d *reqDecoder) rule(key string, t map[string]any) (reqRule, error) {
	var r reqRule
	d.unknown(t, key, "pattern", "decision", "justification")
	if v, ok := t["pattern"]; ok {
		list, ok := v.([]any)
		if !ok {
			return r, wrongType(key+".pattern", "an array of tables", v)
		}
		r.pattern = make([]reqToken, len(list))
		for j, x := range list {
			tok, err := d.token(fmt.Sprintf("%s.pattern[%d]", key, j), x)
			if err != nil {
				return r, err
			}
			r.pattern[j] = tok
		}
	}
	if v, ok := t["decision"]; ok {
		s, ok := v.(string)
		if !ok {
			return r, wrongType(key+".decision", "a string", v)
		}
		dec, err := ParseDecision(s)
		if err != nil {
			return r, fmt.Errorf("%s: unknown decision %q (use 'prompt' or 'forbidden')", key+".decision", s)
		}
		r.decision = dec
	}
	if v, ok := t["justification"]; ok {
		s, ok := v.(string)
		if !ok {
			return r, wrongType(key+".justification", "a string", v)
		}
		r.justification = &s
	}
	return r, nil
}

func (d *reqDecoder) token(key string, v any) (reqToken, error) {
	var tok reqToken
	t, ok := v.(map[string]any)
	if !ok {
		return tok, wrongType(key, `a table ({token = "..."} or {any_of = [...]})`, v)
	}
	d.unknown(t, key, "token", "any_of")
	if x, ok := t["token"]; ok {
		s, ok := x.(string)
		if !ok {
			return tok, wrongType(key+".token", "a string", x)
		}
		tok.token = &s
	}
	if x, ok := t["any_of"]; ok {
		list, ok := x.([]any)
		if !ok {
			return tok, wrongType(key+".any_of", "an array of strings", x)
		}
		tok.anyOf = make([]string, len(list))
		for i, a := range list {
			s, ok := a.(string)
			if !ok {
				return tok, wrongType(fmt.Sprintf("%s.any_of[%d]", key, i), "a string", a)
			}
			tok.anyOf[i] = s
		}
	}
	return tok, nil
}
