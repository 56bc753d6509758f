package policy

import (
	"sync"

	"go.starlark.net/syntax"
)

// fileOptions is the Starlark dialect of .rules files: top-level for/if and
// global re-assignment as in Codex; no while, no recursion, no sets.
var fileOptions = syntax.FileOptions{TopLevelControl: true, GlobalReassign: true}

// minPortion is the smallest part of a file worth parsing on its own core:
// below it, starting goroutines costs more than it saves.
const minPortion = 64 << 10

// parse parses a prepared rules file into one syntax tree, cut into
// portions at cuts (top-level statement starts, in order; see
// prepared.cuts). Parsing is most of the cost of loading a large file
// (go.starlark.net reads about 15 MB/s), so a large file is parsed in one
// portion per core: each portion with its true line numbers (a
// syntax.FilePortion), the statements joined in order. The result is the
// tree a parse in one piece gives. If any portion fails, the file is parsed
// again in one piece, so that the error reported is exactly the plain
// parser's.
func parse(path string, p *prepared, cuts []stmtStart) (*syntax.File, error) {
	if len(cuts) == 0 {
		return fileOptions.Parse(path, p.text, 0)
	}
	// Portion i runs from starts[i] to starts[i+1].
	starts := append([]stmtStart{{offset: 0, line: 1}}, cuts...)
	starts = append(starts, stmtStart{offset: len(p.text)})
	files := make([]*syntax.File, len(cuts)+1)
	errs := make([]error, len(cuts)+1)
	var wg sync.WaitGroup
	for i := range files {
		portion := syntax.FilePortion{
			Content:   p.text[starts[i].offset:starts[i+1].offset],
			FirstLine: starts[i].line,
			FirstCol:  1,
		}
		wg.Go(func() { files[i], errs[i] = fileOptions.Parse(path, portion, 0) })
	}
	wg.Wait()
	var stmts []syntax.Stmt
	for i, f := range files {
		if errs[i] != nil {
			return fileOptions.Parse(path, p.text, 0)
		}
		stmts = append(stmts, f.Stmts...)
	}
	files[0].Stmts = stmts
	return files[0], nil
}

// cuts picks where to cut the file into at most n portions of at least
// minPortion bytes: the statement starts nearest to even shares.
func (p *prepared) cuts(n int) []stmtStart {
	n = min(n, len(p.text)/minPortion)
	var out []stmtStart
	last, next := 0, 0 // the last cut's offset; an index into p.starts
	for k := 1; k < n; k++ {
		target := len(p.text) * k / n
		for next < len(p.starts) && p.starts[next].offset < max(target, last+minPortion) {
			next++
		}
		if next == len(p.starts) || len(p.text)-p.starts[next].offset < minPortion {
			break
		}
		out = append(out, p.starts[next])
		last = p.starts[next].offset
	}
	return out
}
