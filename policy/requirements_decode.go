package policy

import (
	"fmt"
)

// reqDecoder type-checks the [rules] table of requirements.toml. A value of
// the wrong type is an error naming its key (rules.prefix_rules[0].decision);
// an unknown key is a warning, as in config.toml.
type reqDecoder struct {
	tomlDecoder
}

// rulesTable decodes the value of the top-level rules key. A [rules] table
// without prefix_rules yields no entries, which the caller rejects.
func (d *reqDecoder) rulesTable(v any) ([]reqRule, error) {
	t, err := tomlAs[map[string]any]("rules", "a table", v)
	if err != nil {
		return nil, err
	}
	d.unknown(t, "rules", "prefix_rules")
	raw, present := t["prefix_rules"]
	if !present {
		return nil, nil
	}
	list, err := tomlAs[[]any]("rules.prefix_rules", "an array of tables", raw)
	if err != nil {
		return nil, err
	}
	out := make([]reqRule, len(list))
	for i, x := range list {
		key := fmt.Sprintf("rules.prefix_rules[%d]", i)
		entry, err := tomlAs[map[string]any](key, "a table", x)
		if err != nil {
			return nil, err
		}
		if out[i], err = d.rule(key, entry); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *reqDecoder) rule(key string, t map[string]any) (reqRule, error) {
	var r reqRule
	d.unknown(t, key, "pattern", "decision", "justification")
	if v, ok := t["pattern"]; ok {
		list, err := tomlAs[[]any](key+".pattern", "an array of tables", v)
		if err != nil {
			return r, err
		}
		r.pattern = make([]reqToken, len(list))
		for j, x := range list {
			if r.pattern[j], err = d.token(fmt.Sprintf("%s.pattern[%d]", key, j), x); err != nil {
				return r, err
			}
		}
	}
	if v, ok := t["decision"]; ok {
		s, err := tomlAs[string](key+".decision", "a string", v)
		if err != nil {
			return r, err
		}
		dec, err := ParseDecision(s)
		if err != nil {
			return r, fmt.Errorf("%s: unknown decision %q (use 'prompt' or 'forbidden')", key+".decision", s)
		}
		r.decision = dec
	}
	if v, ok := t["justification"]; ok {
		s, err := tomlAs[string](key+".justification", "a string", v)
		if err != nil {
			return r, err
		}
		r.justification = &s
	}
	return r, nil
}

func (d *reqDecoder) token(key string, v any) (reqToken, error) {
	var tok reqToken
	t, err := tomlAs[map[string]any](key, `a table ({token = "..."} or {any_of = [...]})`, v)
	if err != nil {
		return tok, err
	}
	d.unknown(t, key, "token", "any_of")
	if x, ok := t["token"]; ok {
		s, err := tomlAs[string](key+".token", "a string", x)
		if err != nil {
			return tok, err
		}
		tok.token = &s
	}
	if x, ok := t["any_of"]; ok {
		if tok.anyOf, err = tomlStrings(key+".any_of", x); err != nil {
			return tok, err
		}
	}
	return tok, nil
}
