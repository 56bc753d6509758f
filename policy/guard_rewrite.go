package policy

import (
	"fmt"
	"strconv"

	"go.starlark.net/syntax"
)

// Why rewrite the syntax tree: go.starlark.net bounds execution steps, but a
// single step can do unbounded work ([0] * 300000000 allocates gigabytes in
// one step; str() of a shared nested list is exponential; hashing a tuple
// DAG too) and Thread.Cancel is only checked between steps. So every
// construct whose cost is not O(1) per step is routed through a checked
// helper that bounds its cost before the interpreter does the work:
//
//	x + y, x * y, x % y, x | y, x << y   -> $add(x, y) ...  (result size)
//	x += y (and *=, %=, |=, <<=)         -> x = $iadd(x, y) ...
//	x == y, x < y ...                    -> $tree(x) == $tree(y)  (walk size)
//	x in y                               -> $tree(x) in $container(y)
//	d[k], {k: v}, {k: v for ...}         -> d[$tree(k)] ...        (hash cost)
//	x[a:b]                               -> $sliced(x)[a:b]        (copy size)
//	f(*xs, **kw)                         -> f(*$spread(xs), ...)   (copy size)
//	x.name                               -> $attr(x, "name")       (methods)
//
// and the universal builtins that iterate or stringify (list, sorted, str,
// join via $attr, ...) are replaced by checked wrappers (guard_builtins.go).
// Helper names start with '$', which no identifier in a source file can.
// With every step bounded in cost, the step limit and the wall-clock
// watchdog (Thread.Cancel) bound the whole evaluation. The same walk expands
// f-strings (fstring.go), into calls that go through these helpers too.
const (
	helperTree   = "$tree"
	helperSpread = "$spread"
	helperSliced = "$sliced"
	helperIn     = "$container"
	helperAttr   = "$attr"
	helperAdd    = "$add"
	helperMul    = "$mul"
	helperMod    = "$mod"
	helperOr     = "$or"
	helperShl    = "$shl"
	helperIAdd   = "$iadd"
	helperIOr    = "$ior"
)

// rewriteError is a construct the guard cannot route safely.
type rewriteError struct {
	pos syntax.Position
	msg string
}

func (e *rewriteError) Error() string { return e.msg }

type rewriter struct {
	err *rewriteError
	// The f-strings of the file (see fstring.go), and the source they
	// are in.
	fstrings map[linecol]fstringSite
	src      []byte
	expanded map[linecol]bool
}

// rewrite rewrites f, parsed from p, in place, before resolution: it
// expands f-strings and routes costly operations through checked helpers.
func rewrite(f *syntax.File, src []byte, p *prepared) error {
	rw := &rewriter{fstrings: p.fstrings, src: src, expanded: map[linecol]bool{}}
	rw.stmts(f.Stmts)
	if rw.err != nil {
		return rw.err
	}
	// Fail closed: an f-string left as a plain string would evaluate to
	// its braces.
	for at := range rw.fstrings {
		if !rw.expanded[at] {
			return &rewriteError{pos: syntax.MakePosition(&f.Path, at.line, at.col), msg: "internal error: f-string not expanded"}
		}
	}
	return nil
}

func (rw *rewriter) fail(pos syntax.Position, format string, args ...any) {
	if rw.err == nil {
		rw.err = &rewriteError{pos: pos, msg: fmt.Sprintf(format, args...)}
	}
}

func helperCall(name string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: name}, Lparen: pos, Args: args, Rparen: pos}
}

func (rw *rewriter) stmts(list []syntax.Stmt) {
	for _, s := range list {
		rw.stmt(s)
	}
}

var augmentedHelpers = map[syntax.Token]string{
	syntax.PLUS_EQ:    helperIAdd,
	syntax.STAR_EQ:    helperMul,
	syntax.PERCENT_EQ: helperMod,
	syntax.PIPE_EQ:    helperIOr,
	syntax.LTLT_EQ:    helperShl,
}

func (rw *rewriter) stmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		if helper, ok := augmentedHelpers[s.Op]; ok {
			// x op= y becomes x = $op(x, y). The target is evaluated
			// twice, so it must be free of calls (it always is in practice).
			rvalue, ok := cloneTarget(s.LHS)
			if !ok {
				rw.fail(s.OpPos, "augmented assignment %s to this target is not supported", s.Op)
				return
			}
			s.RHS = helperCall(helper, s.OpPos, rw.expr(rvalue), rw.expr(s.RHS))
			s.Op = syntax.EQ
			rw.target(s.LHS)
			return
		}
		rw.target(s.LHS)
		s.RHS = rw.expr(s.RHS)
	case *syntax.DefStmt:
		rw.params(s.Params)
		rw.stmts(s.Body)
	case *syntax.ExprStmt:
		s.X = rw.expr(s.X)
	case *syntax.IfStmt:
		s.Cond = rw.expr(s.Cond)
		rw.stmts(s.True)
		rw.stmts(s.False)
	case *syntax.ForStmt:
		rw.target(s.Vars)
		s.X = rw.expr(s.X)
		rw.stmts(s.Body)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			s.Result = rw.expr(s.Result)
		}
	case *syntax.LoadStmt:
		module, _ := s.Module.Value.(string)
		rw.fail(s.Load, "No imports are available, you tried `%s`", module)
	case *syntax.WhileStmt:
		rw.fail(s.While, "cannot use reserved keyword `while`")
	case *syntax.BranchStmt:
	default:
		rw.fail(syntax.Start(s), "unsupported statement %T", s)
	}
}

// target rewrites the sub-expressions of an assignment target.
func (rw *rewriter) target(e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.IndexExpr:
		e.X = rw.expr(e.X)
		e.Y = helperCall(helperTree, e.Lbrack, rw.expr(e.Y))
	case *syntax.DotExpr:
		e.X = rw.expr(e.X)
	case *syntax.ParenExpr:
		rw.target(e.X)
	case *syntax.TupleExpr:
		for _, x := range e.List {
			rw.target(x)
		}
	case *syntax.ListExpr:
		for _, x := range e.List {
			rw.target(x)
		}
	}
}

func (rw *rewriter) params(params []syntax.Expr) {
	for _, p := range params {
		if b, ok := p.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			b.Y = rw.expr(b.Y)
		}
	}
}

var binaryHelpers = map[syntax.Token]string{
	syntax.PLUS:    helperAdd,
	syntax.STAR:    helperMul,
	syntax.PERCENT: helperMod,
	syntax.PIPE:    helperOr,
	syntax.LTLT:    helperShl,
}

func (rw *rewriter) exprs(list []syntax.Expr) {
	for i, x := range list {
		list[i] = rw.expr(x)
	}
}

func (rw *rewriter) expr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		x, y := rw.expr(e.X), rw.expr(e.Y)
		if helper, ok := binaryHelpers[e.Op]; ok {
			return helperCall(helper, e.OpPos, x, y)
		}
		switch e.Op {
		case syntax.EQL, syntax.NEQ, syntax.LT, syntax.GT, syntax.LE, syntax.GE:
			x = helperCall(helperTree, e.OpPos, x)
			y = helperCall(helperTree, e.OpPos, y)
		case syntax.IN, syntax.NOT_IN:
			x = helperCall(helperTree, e.OpPos, x)
			y = helperCall(helperIn, e.OpPos, y)
		}
		e.X, e.Y = x, y
	case *syntax.UnaryExpr:
		if e.X != nil {
			e.X = rw.expr(e.X)
		}
	case *syntax.CallExpr:
		e.Fn = rw.expr(e.Fn)
		for i, a := range e.Args {
			switch a := a.(type) {
			case *syntax.BinaryExpr:
				if a.Op == syntax.EQ { // keyword argument
					a.Y = rw.expr(a.Y)
					continue
				}
			case *syntax.UnaryExpr:
				if a.Op == syntax.STAR || a.Op == syntax.STARSTAR {
					a.X = helperCall(helperSpread, a.OpPos, rw.expr(a.X))
					continue
				}
			}
			e.Args[i] = rw.expr(a)
		}
	case *syntax.Comprehension:
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				rw.target(c.Vars)
				c.X = rw.expr(c.X)
			case *syntax.IfClause:
				c.Cond = rw.expr(c.Cond)
			}
		}
		if entry, ok := e.Body.(*syntax.DictEntry); ok {
			rw.dictEntry(entry)
		} else {
			e.Body = rw.expr(e.Body)
		}
	case *syntax.CondExpr:
		e.Cond, e.True, e.False = rw.expr(e.Cond), rw.expr(e.True), rw.expr(e.False)
	case *syntax.ListExpr:
		rw.exprs(e.List)
	case *syntax.TupleExpr:
		rw.exprs(e.List)
	case *syntax.ParenExpr:
		e.X = rw.expr(e.X)
	case *syntax.DictExpr:
		for _, x := range e.List {
			if entry, ok := x.(*syntax.DictEntry); ok {
				rw.dictEntry(entry)
			}
		}
	case *syntax.DotExpr:
		name := &syntax.Literal{Token: syntax.STRING, TokenPos: e.NamePos, Raw: strconv.Quote(e.Name.Name), Value: e.Name.Name}
		return helperCall(helperAttr, e.Dot, rw.expr(e.X), name)
	case *syntax.IndexExpr:
		e.X = rw.expr(e.X)
		e.Y = helperCall(helperTree, e.Lbrack, rw.expr(e.Y))
	case *syntax.SliceExpr:
		e.X = helperCall(helperSliced, e.Lbrack, rw.expr(e.X))
		for _, p := range []*syntax.Expr{&e.Lo, &e.Hi, &e.Step} {
			if *p != nil {
				*p = rw.expr(*p)
			}
		}
	case *syntax.LambdaExpr:
		rw.params(e.Params)
		e.Body = rw.expr(e.Body)
	case *syntax.Literal:
		at := linecol{e.TokenPos.Line, e.TokenPos.Col}
		if site, ok := rw.fstrings[at]; ok && e.Token == syntax.STRING {
			rw.expanded[at] = true
			return rw.fstring(e, site)
		}
	case *syntax.Ident:
	default:
		rw.fail(syntax.Start(e), "unsupported expression %T", e)
	}
	return e
}

func (rw *rewriter) dictEntry(entry *syntax.DictEntry) {
	entry.Key = helperCall(helperTree, entry.Colon, rw.expr(entry.Key))
	entry.Value = rw.expr(entry.Value)
}

// cloneTarget copies an augmented-assignment target for use as a value.
// Only call-free targets are accepted so that evaluating it twice is
// indistinguishable from evaluating it once.
func cloneTarget(e syntax.Expr) (syntax.Expr, bool) {
	switch e := e.(type) {
	case *syntax.Ident:
		return &syntax.Ident{NamePos: e.NamePos, Name: e.Name}, true
	case *syntax.Literal:
		c := *e
		return &c, true
	case *syntax.ParenExpr:
		x, ok := cloneTarget(e.X)
		return &syntax.ParenExpr{Lparen: e.Lparen, X: x, Rparen: e.Rparen}, ok
	case *syntax.IndexExpr:
		x, ok1 := cloneTarget(e.X)
		y, ok2 := cloneTarget(e.Y)
		return &syntax.IndexExpr{X: x, Lbrack: e.Lbrack, Y: y, Rbrack: e.Rbrack}, ok1 && ok2
	case *syntax.DotExpr:
		x, ok := cloneTarget(e.X)
		return &syntax.DotExpr{X: x, Dot: e.Dot, NamePos: e.NamePos, Name: &syntax.Ident{NamePos: e.Name.NamePos, Name: e.Name.Name}}, ok
	}
	return nil, false
}
