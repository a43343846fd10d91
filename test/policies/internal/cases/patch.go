package cases

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Op is one operation of a JSON patch (RFC 6902): add, remove or replace.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Apply applies the operations to doc (JSON-like: map[string]any, []any, scalars) and returns
// the result; doc itself is not changed.
func Apply(doc any, ops []Op) (any, error) {
	out := deepCopy(doc)
	for i, op := range ops {
		var err error
		out, err = applyOne(out, op)
		if err != nil {
			return nil, fmt.Errorf("patch operation %d (%s %s): %w", i+1, op.Op, op.Path, err)
		}
	}
	return out, nil
}

func applyOne(doc any, op Op) (any, error) {
	if op.Path == "" {
		switch op.Op {
		case "replace", "add":
			return deepCopy(op.Value), nil
		default:
			return nil, fmt.Errorf("cannot %s the whole document", op.Op)
		}
	}
	tokens, err := parsePointer(op.Path)
	if err != nil {
		return nil, err
	}
	parentPath, last := tokens[:len(tokens)-1], tokens[len(tokens)-1]
	parent, err := lookup(doc, parentPath)
	if err != nil {
		return nil, err
	}
	switch p := parent.(type) {
	case map[string]any:
		_, exists := p[last]
		switch op.Op {
		case "add":
			p[last] = deepCopy(op.Value)
		case "replace":
			if !exists {
				return nil, fmt.Errorf("no member %q to replace", last)
			}
			p[last] = deepCopy(op.Value)
		case "remove":
			if !exists {
				return nil, fmt.Errorf("no member %q to remove", last)
			}
			delete(p, last)
		default:
			return nil, fmt.Errorf("unknown operation %q (want add, remove or replace)", op.Op)
		}
		return doc, nil
	case []any:
		list, err := patchList(p, last, op)
		if err != nil {
			return nil, err
		}
		return setAt(doc, parentPath, list)
	default:
		return nil, fmt.Errorf("%s is neither an object nor a list", pointer(parentPath))
	}
}

func patchList(p []any, last string, op Op) ([]any, error) {
	if last == "-" && op.Op == "add" {
		return append(p, deepCopy(op.Value)), nil
	}
	i, err := strconv.Atoi(last)
	if err != nil || i < 0 {
		return nil, fmt.Errorf("list index %q is not a number", last)
	}
	switch op.Op {
	case "add":
		if i > len(p) {
			return nil, fmt.Errorf("index %d past the end of a list of %d", i, len(p))
		}
		return slices.Insert(p, i, deepCopy(op.Value)), nil
	case "replace", "remove":
		if i >= len(p) {
			return nil, fmt.Errorf("index %d past the end of a list of %d", i, len(p))
		}
		if op.Op == "remove" {
			return slices.Delete(p, i, i+1), nil
		}
		p[i] = deepCopy(op.Value)
		return p, nil
	default:
		return nil, fmt.Errorf("unknown operation %q (want add, remove or replace)", op.Op)
	}
}

// setAt stores value at tokens in doc (lists are values in Go, so a changed list is stored
// back into its parent).
func setAt(doc any, tokens []string, value any) (any, error) {
	if len(tokens) == 0 {
		return value, nil
	}
	parent, err := lookup(doc, tokens[:len(tokens)-1])
	if err != nil {
		return nil, err
	}
	last := tokens[len(tokens)-1]
	switch p := parent.(type) {
	case map[string]any:
		p[last] = value
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i < 0 || i >= len(p) {
			return nil, fmt.Errorf("bad list index %q", last)
		}
		p[i] = value
	}
	return doc, nil
}

func lookup(doc any, tokens []string) (any, error) {
	cur := doc
	for n, t := range tokens {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("%s does not exist", pointer(tokens[:n+1]))
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: no such list element", pointer(tokens[:n+1]))
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s is a scalar", pointer(tokens[:n]))
		}
	}
	return cur, nil
}

func parsePointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("path %q does not start with /", p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// Diff returns operations that turn from into to (Apply(from, Diff(from, to)) equals to): a
// change inside an object or a list element is addressed where it is, so each operation names
// the field that differs.
func Diff(from, to any) []Op {
	return diff(nil, from, to)
}

func diff(at []string, from, to any) []Op {
	if reflect.DeepEqual(from, to) {
		return nil
	}
	switch f := from.(type) {
	case map[string]any:
		t, ok := to.(map[string]any)
		if !ok {
			break
		}
		var ops []Op
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range f {
				if !yield(k) {
					return
				}
			}
			for k := range t {
				if _, both := f[k]; !both && !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			fv, inFrom := f[k]
			tv, inTo := t[k]
			path := append(slices.Clone(at), k)
			switch {
			case !inTo:
				ops = append(ops, Op{Op: "remove", Path: pointer(path)})
			case !inFrom:
				ops = append(ops, Op{Op: "add", Path: pointer(path), Value: tv})
			default:
				ops = append(ops, diff(path, fv, tv)...)
			}
		}
		return ops
	case []any:
		t, ok := to.([]any)
		if !ok {
			break
		}
		return diffList(at, f, t)
	}
	return []Op{{Op: "replace", Path: pointer(at), Value: to}}
}

// diffList keeps the common head and tail of two lists and patches the middle: element by
// element where both have one, then the extra elements added or removed.
func diffList(at []string, from, to []any) []Op {
	head := 0
	for head < len(from) && head < len(to) && reflect.DeepEqual(from[head], to[head]) {
		head++
	}
	tail := 0
	for tail < len(from)-head && tail < len(to)-head && reflect.DeepEqual(from[len(from)-1-tail], to[len(to)-1-tail]) {
		tail++
	}
	fm, tm := from[head:len(from)-tail], to[head:len(to)-tail]
	var ops []Op
	common := min(len(fm), len(tm))
	for i := range common {
		ops = append(ops, diff(append(slices.Clone(at), strconv.Itoa(head+i)), fm[i], tm[i])...)
	}
	for i := common; i < len(tm); i++ {
		ops = append(ops, Op{Op: "add", Path: pointer(append(slices.Clone(at), strconv.Itoa(head+i))), Value: tm[i]})
	}
	// Removals from the last, so that each index is still right when it is applied.
	for i := len(fm) - 1; i >= common; i-- {
		ops = append(ops, Op{Op: "remove", Path: pointer(append(slices.Clone(at), strconv.Itoa(head+i)))})
	}
	return ops
}

// deepCopy copies a JSON-like value, so that patches never share structure.
func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
