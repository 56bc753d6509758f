package policy

import (
	"go.starlark.net/starlark"
)

// treeCost measures v as the interpreter would walk it when comparing,
// hashing or iterating it: one unit per node, shared sub-values counted each
// time they are reached, a string one unit per 32 bytes and a range one unit
// per element. The walk stops as soon as the total exceeds limit, so it costs
// O(limit) at most; the result is then limit+1.
func treeCost(v starlark.Value, limit int) int {
	total := 0
	stack := []starlark.Value{v}
	for len(stack) > 0 && total <= limit {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		total++
		switch x := x.(type) {
		case starlark.String:
			total += len(x) / 32
		case *starlark.List:
			for i := 0; i < x.Len() && total+len(stack) <= limit; i++ {
				stack = append(stack, x.Index(i))
			}
			if x.Len() > limit {
				return limit + 1
			}
		case starlark.Tuple:
			if len(x) > limit {
				return limit + 1
			}
			stack = append(stack, x...)
		case *starlark.Dict:
			if 2*x.Len() > limit {
				return limit + 1
			}
			for _, kv := range x.Items() {
				stack = append(stack, kv[0], kv[1])
			}
		case starlark.Sequence:
			// range and other lazy sequences: walking them visits each element.
			total += x.Len()
		}
		if len(stack) > limit {
			return limit + 1
		}
	}
	if total > limit {
		return limit + 1
	}
	return total
}

// reprBound is an upper bound, in bytes, of str(v) and repr(v) (stopping
// early above limit). A string byte can become at most 4 bytes (\xNN).
func reprBound(v starlark.Value, limit int) int {
	total := 0
	stack := []starlark.Value{v}
	for len(stack) > 0 && total <= limit {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := x.(type) {
		case starlark.String:
			total += 2 + 4*len(x)
		case starlark.Int:
			total += 2 + x.BigInt().BitLen()/3
		case *starlark.List:
			total += 2 + 2*x.Len()
			for i := 0; i < x.Len() && total <= limit; i++ {
				stack = append(stack, x.Index(i))
			}
		case starlark.Tuple:
			total += 3 + 2*len(x)
			stack = append(stack, x...)
		case *starlark.Dict:
			total += 2 + 4*x.Len()
			if total <= limit {
				for _, kv := range x.Items() {
					stack = append(stack, kv[0], kv[1])
				}
			}
		case *starlark.Function:
			total += 16 + len(x.Name())
		case *starlark.Builtin:
			total += 32 + len(x.Name())
		default:
			total += 64
		}
		if len(stack) > limit {
			return limit + 1
		}
	}
	if total > limit {
		return limit + 1
	}
	return total
}

// intBits is the bit length of an int value.
func intBits(x starlark.Int) int {
	if _, ok := x.Int64(); ok {
		return 64
	}
	return x.BigInt().BitLen()
}
