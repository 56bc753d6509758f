package policy

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// guard holds one file evaluation's limits and the running total of what its
// bulk operations allocated. It lives in the evaluating thread's locals.
type guard struct {
	limits    Limits
	allocated int64
}

const guardKey = "execgate.policy.guard"

func guardOf(th *starlark.Thread) *guard {
	g, _ := th.Local(guardKey).(*guard)
	if g == nil {
		// Never reached: every thread evaluating a rules file has a guard.
		// Fall back to defaults rather than to no limits.
		g = &guard{limits: defaultLimits}
		th.SetLocal(guardKey, g)
	}
	return g
}

// charge accounts for n newly allocated units (elements or bytes).
func (g *guard) charge(n int) error {
	if n < 0 {
		return nil
	}
	g.allocated += int64(n)
	if g.allocated > g.limits.MaxAllocated {
		return fmt.Errorf("rules file allocates too much (limit %d elements or bytes)", g.limits.MaxAllocated)
	}
	return nil
}

// size checks that a value an operation is about to build has at most
// MaxValueSize elements or bytes, then charges it.
func (g *guard) size(n int, what string) error {
	if n < 0 { // unsized: nothing to check
		return nil
	}
	if n > g.limits.MaxValueSize {
		return fmt.Errorf("%s too large (limit %d)", what, g.limits.MaxValueSize)
	}
	return g.charge(n)
}

// tree checks that walking v (compare, hash, iterate) is bounded.
func (g *guard) tree(v starlark.Value) error {
	if treeCost(v, g.limits.MaxValueSize) > g.limits.MaxValueSize {
		return fmt.Errorf("%s value too large to compare, hash or copy (limit %d elements)", v.Type(), g.limits.MaxValueSize)
	}
	return nil
}

// repr checks that stringifying all of vs stays under the value size
// limit, and returns the size of the string forms together and of the
// largest one.
func (g *guard) repr(vs ...starlark.Value) (total, widest int, err error) {
	for _, v := range vs {
		n := reprBound(v, g.limits.MaxValueSize)
		total, widest = total+n, max(widest, n)
		if total > g.limits.MaxValueSize {
			return 0, 0, fmt.Errorf("string form of %s too large (limit %d bytes)", v.Type(), g.limits.MaxValueSize)
		}
	}
	return total, widest, nil
}

func (g *guard) intResult(bits int) error {
	if bits > g.limits.MaxIntBits {
		return fmt.Errorf("integer too large (limit %d bits)", g.limits.MaxIntBits)
	}
	return nil
}

// seqLen is the length of a sized value (string and bytes in bytes), or -1.
func seqLen(v starlark.Value) int { return starlark.Len(v) }

// guardHelpers returns the '$' helpers the rewritten syntax tree calls.
func guardHelpers() starlark.StringDict {
	two := func(name string, fn func(g *guard, th *starlark.Thread, x, y starlark.Value) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("internal error: %s takes 2 arguments", name)
			}
			return fn(guardOf(th), th, args[0], args[1])
		})
	}
	one := func(name string, fn func(g *guard, x starlark.Value) error) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("internal error: %s takes 1 argument", name)
			}
			if err := fn(guardOf(th), args[0]); err != nil {
				return nil, err
			}
			return args[0], nil
		})
	}
	return starlark.StringDict{
		helperTree: one(helperTree, (*guard).tree),
		// Spreading copies only the top level (references), so its cost is
		// the length; a range's length counts too, since it is materialized.
		helperSpread: one(helperSpread, func(g *guard, x starlark.Value) error {
			// Charged twice: the call copies the elements into its argument
			// tuple, and a *args parameter copies them again.
			if err := g.size(seqLen(x), "spread "+x.Type()); err != nil {
				return err
			}
			return g.charge(seqLen(x))
		}),
		// Membership in a dict hashes the key only; in a list or tuple it
		// compares against every element, so the container is walked.
		helperIn: one(helperIn, func(g *guard, x starlark.Value) error {
			if _, ok := x.(*starlark.Dict); ok || x.Type() == "range" {
				return nil // hashing the key, or arithmetic
			}
			return g.tree(x)
		}),
		helperSliced: one(helperSliced, func(g *guard, x starlark.Value) error {
			if x.Type() == "range" { // slicing a range is O(1)
				return nil
			}
			return g.charge(seqLen(x))
		}),
		helperAttr: two(helperAttr, func(g *guard, th *starlark.Thread, x, name starlark.Value) (starlark.Value, error) {
			s, _ := starlark.AsString(name)
			return guardedAttr(x, s)
		}),
		helperAdd:  two(helperAdd, guardedAdd),
		helperMul:  two(helperMul, guardedMul),
		helperMod:  two(helperMod, guardedMod),
		helperOr:   two(helperOr, guardedOr),
		helperShl:  two(helperShl, guardedShl),
		helperIAdd: two(helperIAdd, guardedInplaceAdd),
		helperIOr:  two(helperIOr, guardedInplaceOr),
	}
}

func guardedAdd(g *guard, _ *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	xi, ok1 := x.(starlark.Int)
	yi, ok2 := y.(starlark.Int)
	if ok1 && ok2 {
		if err := g.intResult(max(intBits(xi), intBits(yi)) + 1); err != nil {
			return nil, err
		}
		return starlark.Binary(syntax.PLUS, x, y)
	}
	// Concatenation of strings, bytes, lists or tuples (other mixes are
	// type errors, reported by Binary).
	if lx, ly := seqLen(x), seqLen(y); lx >= 0 && ly >= 0 && x.Type() == y.Type() && x.Type() != "range" {
		if err := g.size(lx+ly, x.Type()); err != nil {
			return nil, err
		}
	}
	return starlark.Binary(syntax.PLUS, x, y)
}

func guardedMul(g *guard, _ *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	xi, xInt := x.(starlark.Int)
	yi, yInt := y.(starlark.Int)
	switch {
	case xInt && yInt:
		if err := g.intResult(intBits(xi) + intBits(yi)); err != nil {
			return nil, err
		}
	case xInt || yInt:
		seq, count := y, xi
		if yInt {
			seq, count = x, yi
		}
		n, ok := count.Int64()
		if l := seqLen(seq); l > 0 && n > 0 {
			if !ok || n > int64(g.limits.MaxValueSize) || int64(l)*n > int64(g.limits.MaxValueSize) {
				return nil, fmt.Errorf("repeated %s too large (limit %d)", seq.Type(), g.limits.MaxValueSize)
			}
			if err := g.charge(l * int(n)); err != nil {
				return nil, err
			}
		}
	}
	return starlark.Binary(syntax.STAR, x, y)
}

func guardedMod(g *guard, _ *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	if format, ok := x.(starlark.String); ok {
		// Each conversion makes the string form of one operand (y, or an
		// element of the tuple y).
		operands := []starlark.Value{y}
		if t, ok := y.(starlark.Tuple); ok {
			operands = t
		}
		_, widest, err := g.repr(operands...)
		if err != nil {
			return nil, err
		}
		if err := g.size(len(format)+strings.Count(string(format), "%")*widest, "formatted string"); err != nil {
			return nil, err
		}
	}
	return starlark.Binary(syntax.PERCENT, x, y)
}

func guardedOr(g *guard, _ *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	if xd, ok := x.(*starlark.Dict); ok {
		if err := g.tree(y); err != nil {
			return nil, err
		}
		if err := g.size(xd.Len()+seqLen(y), "dict"); err != nil {
			return nil, err
		}
	}
	return starlark.Binary(syntax.PIPE, x, y)
}

func guardedShl(g *guard, _ *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	xi, ok1 := x.(starlark.Int)
	yi, ok2 := y.(starlark.Int)
	if ok1 && ok2 {
		n, ok := yi.Int64()
		if !ok || n > int64(g.limits.MaxIntBits) || g.intResult(intBits(xi)+int(n)) != nil {
			return nil, fmt.Errorf("integer too large (limit %d bits)", g.limits.MaxIntBits)
		}
	}
	return starlark.Binary(syntax.LTLT, x, y)
}

// guardedInplaceAdd keeps Starlark's `list += iterable` semantics: the list
// is extended in place, so aliases see the change.
func guardedInplaceAdd(g *guard, th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	list, ok := x.(*starlark.List)
	if !ok {
		return guardedAdd(g, th, x, y)
	}
	iterable, ok := y.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("unknown binary op: list += %s", y.Type())
	}
	if err := g.tree(y); err != nil {
		return nil, err
	}
	if n := seqLen(y); n >= 0 {
		if err := g.size(list.Len()+n, "list"); err != nil {
			return nil, err
		}
	}
	items := make([]starlark.Value, 0, max(seqLen(y), 0))
	it := iterable.Iterate()
	var v starlark.Value
	for it.Next(&v) {
		items = append(items, v)
	}
	it.Done()
	for _, v := range items { // collected first: y may be the list itself
		if err := list.Append(v); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// guardedInplaceOr keeps `dict |= dict` updating in place.
func guardedInplaceOr(g *guard, th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
	xd, ok1 := x.(*starlark.Dict)
	yd, ok2 := y.(*starlark.Dict)
	if !ok1 || !ok2 {
		return guardedOr(g, th, x, y)
	}
	if err := g.tree(y); err != nil {
		return nil, err
	}
	if err := g.size(xd.Len()+yd.Len(), "dict"); err != nil {
		return nil, err
	}
	for _, kv := range yd.Items() {
		if err := xd.SetKey(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return xd, nil
}
