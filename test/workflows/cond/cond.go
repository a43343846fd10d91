// Package cond evaluates the `if:` conditions of GitHub Actions jobs and steps in a given
// situation (an event on a ref, the result of earlier jobs and steps), with three values:
// true, false, or unknown when the condition depends on something the situation does not fix
// (a label, an input, a variable). The expressions are parsed by actionlint's parser.
package cond

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rhysd/actionlint"
)

// Truth is a three-valued boolean.
type Truth int

// The three truths.
const (
	False Truth = iota
	True
	Unknown
)

func (t Truth) String() string {
	return [...]string{"false", "true", "unknown"}[t]
}

// Not negates a truth.
func (t Truth) Not() Truth {
	switch t {
	case True:
		return False
	case False:
		return True
	}
	return Unknown
}

// And is the three-valued conjunction.
func And(a, b Truth) Truth {
	switch {
	case a == False || b == False:
		return False
	case a == True && b == True:
		return True
	}
	return Unknown
}

// Or is the three-valued disjunction.
func Or(a, b Truth) Truth {
	switch {
	case a == True || b == True:
		return True
	case a == False && b == False:
		return False
	}
	return Unknown
}

// Status is what the status functions return where the condition is evaluated.
type Status struct {
	Success, Failure, Cancelled Truth
}

// Normal is the status when nothing before has failed.
var Normal = Status{Success: True, Failure: False, Cancelled: False}

// Env is the situation a condition is evaluated in.
type Env struct {
	// Values maps lower-case context paths ("github.event_name", "steps.scan.outcome",
	// "needs.build.result") to their values. A path that is not here is unknown.
	Values map[string]string
	Status Status
}

// Condition is a parsed `if:`.
type Condition struct {
	src    string
	node   actionlint.ExprNode // nil for an empty condition or an always-true template
	always bool                // a template with text around ${{ }}: a non-empty string, so true
	status bool                // the expression calls a status function
}

// Parse reads an `if:` value as GitHub does: `${{ expr }}` or a bare expression; a value with
// text around its `${{ }}` (or several of them) is a string, and a non-empty string is true.
func Parse(src string) (*Condition, error) {
	c := &Condition{src: src}
	v := strings.TrimSpace(src)
	if v == "" {
		return c, nil
	}
	if strings.Contains(v, "${{") {
		start, end := strings.Index(v, "${{"), strings.LastIndex(v, "}}")
		if start != 0 || end != len(v)-2 || strings.Count(v, "${{") > 1 {
			c.always = true
			return c, nil
		}
		v = strings.TrimSpace(v[3:end])
	}
	node, err := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(v + "}}"))
	if err != nil {
		return nil, fmt.Errorf("parse condition %q: %s", src, err.Message)
	}
	c.node = node
	c.status = callsStatus(node)
	return c, nil
}

// String is the condition as written.
func (c *Condition) String() string { return c.src }

// Empty reports whether there is no condition.
func (c *Condition) Empty() bool { return strings.TrimSpace(c.src) == "" }

// Eval evaluates the condition. Without a status function, GitHub adds `success() &&`.
func (c *Condition) Eval(env Env) Truth {
	implicit := env.Status.Success
	switch {
	case c.always:
		return implicit
	case c.node == nil:
		return implicit
	}
	e := evaluator{env: env}
	t := truthy(e.eval(c.node))
	if c.status {
		return t
	}
	return And(implicit, t)
}

func callsStatus(n actionlint.ExprNode) bool {
	found := false
	actionlint.VisitExprNode(n, func(n, _ actionlint.ExprNode, entering bool) {
		if f, ok := n.(*actionlint.FuncCallNode); ok && entering {
			switch strings.ToLower(f.Callee) {
			case "success", "failure", "always", "cancelled":
				found = true
			}
		}
	})
	return found
}

// value is a value of the expression language, or unknown.
type value struct {
	known bool
	v     any // nil, bool, float64, string
	path  string
}

var unknownValue = value{}

type evaluator struct{ env Env }

func (e evaluator) eval(n actionlint.ExprNode) value {
	switch x := n.(type) {
	case *actionlint.NullNode:
		return value{known: true}
	case *actionlint.BoolNode:
		return value{known: true, v: x.Value}
	case *actionlint.IntNode:
		return value{known: true, v: float64(x.Value)}
	case *actionlint.FloatNode:
		return value{known: true, v: x.Value}
	case *actionlint.StringNode:
		return value{known: true, v: x.Value}
	case *actionlint.VariableNode:
		return e.lookup(strings.ToLower(x.Name))
	case *actionlint.ObjectDerefNode:
		r := e.eval(x.Receiver)
		if r.path == "" {
			return unknownValue
		}
		return e.lookup(r.path + "." + strings.ToLower(x.Property))
	case *actionlint.IndexAccessNode:
		r := e.eval(x.Operand)
		i := e.eval(x.Index)
		if r.path == "" || !i.known {
			return unknownValue
		}
		if s, ok := i.v.(string); ok {
			return e.lookup(r.path + "." + strings.ToLower(s))
		}
		return unknownValue
	case *actionlint.ArrayDerefNode:
		return unknownValue
	case *actionlint.NotOpNode:
		return fromTruth(truthy(e.eval(x.Operand)).Not())
	case *actionlint.LogicalOpNode:
		l, r := truthy(e.eval(x.Left)), truthy(e.eval(x.Right))
		if x.Kind == actionlint.LogicalOpNodeKindAnd {
			return fromTruth(And(l, r))
		}
		return fromTruth(Or(l, r))
	case *actionlint.CompareOpNode:
		return fromTruth(compare(x.Kind, e.eval(x.Left), e.eval(x.Right)))
	case *actionlint.FuncCallNode:
		return e.call(x)
	}
	return unknownValue
}

func (e evaluator) lookup(p string) value {
	if v, ok := e.env.Values[p]; ok {
		return value{known: true, v: v, path: p}
	}
	return value{path: p}
}

func fromTruth(t Truth) value {
	switch t {
	case True:
		return value{known: true, v: true}
	case False:
		return value{known: true, v: false}
	}
	return unknownValue
}

// truthy is GitHub's coercion to a boolean: false, 0, -0, NaN, "" and null are false.
func truthy(v value) Truth {
	if !v.known {
		return Unknown
	}
	switch x := v.v.(type) {
	case nil:
		return False
	case bool:
		if x {
			return True
		}
		return False
	case float64:
		if x == 0 || math.IsNaN(x) {
			return False
		}
		return True
	case string:
		if x == "" {
			return False
		}
		return True
	}
	return True
}

// compare follows GitHub's loose comparison: strings case-insensitively, other types through
// numbers.
func compare(kind actionlint.CompareOpNodeKind, l, r value) Truth {
	if !l.known || !r.known {
		return Unknown
	}
	ls, lok := l.v.(string)
	rs, rok := r.v.(string)
	var c int
	if lok && rok {
		c = strings.Compare(strings.ToLower(ls), strings.ToLower(rs))
	} else {
		ln, rn := number(l), number(r)
		if math.IsNaN(ln) || math.IsNaN(rn) {
			if kind == actionlint.CompareOpNodeKindNotEq {
				return True
			}
			return False
		}
		switch {
		case ln < rn:
			c = -1
		case ln > rn:
			c = 1
		}
	}
	var res bool
	switch kind {
	case actionlint.CompareOpNodeKindEq:
		res = c == 0
	case actionlint.CompareOpNodeKindNotEq:
		res = c != 0
	case actionlint.CompareOpNodeKindLess:
		res = c < 0
	case actionlint.CompareOpNodeKindLessEq:
		res = c <= 0
	case actionlint.CompareOpNodeKindGreater:
		res = c > 0
	case actionlint.CompareOpNodeKindGreaterEq:
		res = c >= 0
	}
	if res {
		return True
	}
	return False
}

func number(v value) float64 {
	switch x := v.v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

func (e evaluator) call(f *actionlint.FuncCallNode) value {
	args := make([]value, len(f.Args))
	for i, a := range f.Args {
		args[i] = e.eval(a)
	}
	str := func(v value) (string, bool) {
		if !v.known {
			return "", false
		}
		switch x := v.v.(type) {
		case string:
			return x, true
		case nil:
			return "", true
		case bool:
			return strconv.FormatBool(x), true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		}
		return "", false
	}
	switch strings.ToLower(f.Callee) {
	case "success":
		return fromTruth(e.env.Status.Success)
	case "failure":
		return fromTruth(e.env.Status.Failure)
	case "cancelled":
		return fromTruth(e.env.Status.Cancelled)
	case "always":
		return fromTruth(True)
	case "contains", "startswith", "endswith":
		if len(args) != 2 {
			return unknownValue
		}
		a, aok := str(args[0])
		b, bok := str(args[1])
		if !aok || !bok {
			return unknownValue
		}
		a, b = strings.ToLower(a), strings.ToLower(b)
		switch strings.ToLower(f.Callee) {
		case "contains":
			return fromTruth(boolTruth(strings.Contains(a, b)))
		case "startswith":
			return fromTruth(boolTruth(strings.HasPrefix(a, b)))
		default:
			return fromTruth(boolTruth(strings.HasSuffix(a, b)))
		}
	case "format":
		if len(args) == 0 {
			return unknownValue
		}
		out, ok := str(args[0])
		if !ok {
			return unknownValue
		}
		for i, a := range args[1:] {
			s, ok := str(a)
			if !ok {
				return unknownValue
			}
			out = strings.ReplaceAll(out, "{"+strconv.Itoa(i)+"}", s)
		}
		return value{known: true, v: out}
	}
	return unknownValue
}

func boolTruth(b bool) Truth {
	if b {
		return True
	}
	return False
}
