package policy

import (
	"context"
	"fmt"
	"testing"
)

func TestScratch(t *testing.T) {
	for _, src := range []string{"/tmp/pt/a.rules"} {
		p, err := Load(context.Background(), []string{src}, LoadOptions{})
		fmt.Println(err)
		if p != nil {
			for k, v := range p.rules {
				for _, r := range v {
					fmt.Println(k, r.debugString(), r.Pos)
				}
			}
			fmt.Println(p.hosts)
		}
	}
	for _, s := range []string{`prefix_rule(pattern=["a"], decision="maybe")`, `prefix_rule(pattern=["git"], match=["git status", "foo 'a b' \"it's\""])`, `x = [0] * 300000000`, `print("x")`, `load("foo.star", "x")`, `while True: pass`, `prefix_rul()`, `prefix_rule(pattern=["a"], bogus=1)`, `prefix_rule(pattern=["a"], decision=None)`, `fail("nope")`, `x = f"{a}"`, `prefix_rule(pattern=[1])`, `a=[0]; 
for i in range(40): a = a + a`, `for i in range(1<<62): pass`, `def f(): f()
f()`, "prefix_rule(pattern=[\"a\"], not_match=[\"a b\"])", `a = [[0]*1000]*1000
str(a)`, `s = "a"*1000
for i in range(3): s = s.replace("a", s)`} {
		l := newLoader(LoadOptions{})
		err := l.addSource(context.Background(), "t.rules", []byte(s))
		fmt.Printf("%q\n  -> %v\n", s, err)
	}
}
