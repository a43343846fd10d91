package shell

import (
	"maps"
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Status codes of a path: success, failure, or not known (`exit "$code"`).
const (
	ok      = 0
	failed  = 1
	unknown = 2
)

// maxPaths bounds the paths followed at once; past it the analysis gives up and says so.
const maxPaths = 2048

// path is one way through the script.
type pathState struct {
	errexit, pipefail bool
	status            int
	done              bool   // the shell has exited
	ret               bool   // a function is returning
	brk               int    // 1: break, 2: continue
	hit               bool   // a hypothesised failing command ran
	reached           bool   // a watched command ran
	early             bool   // a watched command ran before any hypothesised failing command
	note              string // why a failure did not end the script, the first time it did not
	inTrap            string // "EXIT" or "ERR" while a trap runs
	exitTrap, errTrap *syntax.File
	funcs             map[string]*syntax.Stmt
	calls             int
}

// sim follows the paths through a script under one hypothesis.
type sim struct {
	s        *Script
	fail     map[*syntax.CallExpr]bool // these commands fail
	watch    map[*syntax.CallExpr]bool // record whether these run
	overflow bool
}

// Verdict is the answer to a question about a script, with the reason when the answer is no.
type Verdict struct {
	OK     bool
	Reason string
}

// FailsWithout reports whether the script ends with a non-zero status on every path when each
// of the given commands fails: the step cannot succeed unless one of them ran and succeeded.
// A path that never runs any of them and ends with success makes the answer no, as does a
// path on which their failure is ignored.
func (s *Script) FailsWithout(gates []*Command) Verdict {
	ends, why := s.follow(gates, nil)
	if why != "" {
		return Verdict{Reason: why}
	}
	for _, p := range ends {
		if p.status != ok && p.status != unknown {
			continue
		}
		switch {
		case !p.hit:
			return Verdict{Reason: "a path through the script ends with success without running it"}
		case p.status == unknown:
			return Verdict{Reason: "after it fails, the script exits with a status only known at run time"}
		case p.note != "":
			return Verdict{Reason: "its failure does not fail the step: " + p.note}
		default:
			return Verdict{Reason: "its failure does not fail the step"}
		}
	}
	return Verdict{OK: true}
}

// Guards reports whether, when each of the gates fails, no path through the script runs any of
// the actions: an action can only run after a gate has succeeded.
func (s *Script) Guards(gates, actions []*Command) Verdict {
	ends, why := s.follow(gates, actions)
	if why != "" {
		return Verdict{Reason: why}
	}
	for _, p := range ends {
		if !p.reached {
			continue
		}
		switch {
		case !p.hit:
			return Verdict{Reason: "a path runs it without running the check at all"}
		case p.early:
			return Verdict{Reason: "it runs before the check"}
		case p.note != "":
			return Verdict{Reason: "it still runs when the check fails: " + p.note}
		default:
			return Verdict{Reason: "it still runs when the check fails"}
		}
	}
	return Verdict{OK: true}
}

// Runs reports whether every path through the script that ends with success runs one of the
// commands (all commands succeed).
func (s *Script) Runs(cmds []*Command) Verdict {
	// A path found that ends with success without them is the answer even when there are more
	// paths than are followed.
	ends, why := s.follow(nil, cmds)
	for _, p := range ends {
		if p.status != failed && !p.reached {
			return Verdict{Reason: "a path through the script ends with success without running it"}
		}
	}
	if why != "" {
		return Verdict{Reason: why}
	}
	return Verdict{OK: true}
}

// follow follows the paths through the script with the fail commands failing and the watch
// commands watched, and returns how each path ends. why, when not empty, is the reason the ends
// are not all the script's: it was not read (no ends), or it has more paths than are followed.
func (s *Script) follow(fail, watch []*Command) (ends []pathState, why string) {
	if s.file == nil {
		return nil, "the script is not read"
	}
	sm := s.newSim(fail, watch)
	ends = sm.run()
	if sm.overflow {
		return ends, "the script has too many paths to follow"
	}
	return ends, ""
}

func (s *Script) newSim(fail, watch []*Command) *sim {
	sm := &sim{s: s, fail: map[*syntax.CallExpr]bool{}, watch: map[*syntax.CallExpr]bool{}}
	for _, c := range fail {
		sm.fail[c.node] = true
	}
	for _, c := range watch {
		sm.watch[c.node] = true
	}
	return sm
}

func (sm *sim) run() []pathState {
	start := pathState{errexit: sm.s.Errexit, pipefail: sm.s.Pipefail, funcs: map[string]*syntax.Stmt{}}
	ends := sm.stmts(sm.s.file.Stmts, []pathState{start}, false)
	for i := range ends {
		ends[i] = sm.finish(ends[i])
	}
	return ends
}

// finish runs the EXIT trap of a path that has come to its end.
func (sm *sim) finish(p pathState) pathState {
	if p.exitTrap == nil {
		return p
	}
	trap := p.exitTrap
	p.exitTrap = nil
	p.done, p.ret, p.brk = false, false, 0
	p.inTrap = "EXIT"
	before := p.status
	outs := sm.stmts(trap.Stmts, []pathState{p}, false)
	// The trap keeps the exit status unless it exits itself.
	res := outs[0]
	for _, o := range outs {
		if o.done && o.status != before {
			res = o
			break
		}
	}
	if !res.done {
		res.status = before
	} else if before != ok && res.status == ok && res.hit {
		res.noteOnce("an EXIT trap exits with success")
	}
	res.done = true
	res.inTrap = ""
	return res
}

func (p *pathState) noteOnce(n string) {
	if p.hit && p.note == "" {
		p.note = n
	}
}

func (sm *sim) cap(ps []pathState) []pathState {
	if len(ps) > maxPaths {
		sm.overflow = true
		return ps[:maxPaths]
	}
	return ps
}

// stmts runs a list of statements; suppressed is true where errexit does not apply
// (conditions, the left side of && and ||).
func (sm *sim) stmts(list []*syntax.Stmt, in []pathState, suppressed bool) []pathState {
	states := in
	for i, st := range list {
		last := i == len(list)-1
		var next []pathState
		for _, p := range states {
			if p.done || p.ret || p.brk != 0 {
				next = append(next, p)
				continue
			}
			// In a condition list, only the last command decides; the others are ordinary
			// commands whose failure errexit ignores.
			next = append(next, sm.stmt(st, p, suppressed && last, suppressed)...)
		}
		states = sm.cap(next)
	}
	return states
}

// stmt runs one statement. decides is true when its status is used as a condition (its
// outcome may go either way); suppressed is true where errexit does not apply.
func (sm *sim) stmt(st *syntax.Stmt, p pathState, decides, suppressed bool) []pathState {
	if st.Background {
		// The shell does not wait: whatever happens there does not change this path's status.
		outs := sm.command(st, p, false, true)
		for i := range outs {
			o := p
			o.hit = o.hit || outs[i].hit
			o.reached = o.reached || outs[i].reached
			o.early = o.early || outs[i].early
			if outs[i].hit {
				o.noteOnce("it runs in the background (&), and the script does not wait for its status")
			}
			o.status = ok
			outs[i] = o
		}
		return dedupe(outs)
	}
	if st.Negated {
		outs := sm.command(st, p, decides, true)
		for i := range outs {
			switch outs[i].status {
			case ok:
				outs[i].status = failed
			case failed:
				if outs[i].hit && !p.hit {
					outs[i].noteOnce("it is negated with !, so its failure counts as success")
				}
				outs[i].status = ok
			}
		}
		return outs
	}
	return sm.command(st, p, decides, suppressed)
}

func dedupe(ps []pathState) []pathState {
	if len(ps) < 2 {
		return ps
	}
	out := ps[:1]
	for _, p := range ps[1:] {
		same := false
		for _, q := range out {
			if p.status == q.status && p.hit == q.hit && p.reached == q.reached && p.done == q.done && p.note == q.note {
				same = true
				break
			}
		}
		if !same {
			out = append(out, p)
		}
	}
	return out
}

func (sm *sim) command(st *syntax.Stmt, p pathState, decides, suppressed bool) []pathState {
	switch x := st.Cmd.(type) {
	case *syntax.CallExpr:
		return sm.call(x, p, decides, suppressed)
	case *syntax.BinaryCmd:
		switch x.Op {
		case syntax.AndStmt, syntax.OrStmt:
			var out []pathState
			for _, l := range sm.stmt(x.X, p, true, true) {
				if l.done || l.ret || l.brk != 0 {
					out = append(out, l)
					continue
				}
				runRight := (x.Op == syntax.AndStmt) == (l.status == ok)
				if l.status == unknown {
					runRight = true
					skip := l
					skip.status = ok
					if x.Op == syntax.AndStmt {
						skip.status = failed
					}
					out = append(out, skip)
				}
				if !runRight {
					if x.Op == syntax.AndStmt && l.hit && !p.hit && l.status == failed {
						l.noteOnce("it is on the left of `&&`, where errexit does not apply")
					}
					out = append(out, l)
					continue
				}
				rs := sm.stmt(x.Y, l, decides, suppressed)
				for i := range rs {
					if x.Op == syntax.OrStmt && l.hit && !p.hit && rs[i].status == ok && !rs[i].done {
						rs[i].noteOnce("`|| " + sm.s.text(x.Y) + "` takes its failure over")
					}
				}
				out = append(out, rs...)
			}
			return sm.cap(out)
		default: // a pipeline
			return sm.pipeline(x, p, decides, suppressed)
		}
	case *syntax.Block:
		return sm.stmts(x.Stmts, []pathState{p}, suppressed)
	case *syntax.Subshell:
		return sm.subshell(x.Stmts, p, suppressed, p.errexit, p.pipefail)
	case *syntax.IfClause:
		return sm.ifClause(x, p, suppressed)
	case *syntax.WhileClause:
		var out []pathState
		for _, c := range sm.stmts(x.Cond, []pathState{p}, true) {
			if c.done || c.ret {
				out = append(out, c)
				continue
			}
			enter := (c.status == ok) != x.Until
			if c.status == unknown {
				leave := c
				leave.status = ok
				out = append(out, leave)
				enter = true
			}
			if !enter {
				if c.hit && !p.hit {
					c.noteOnce("it is the condition of a loop")
				}
				c.status = ok
				out = append(out, c)
				continue
			}
			out = append(out, sm.loopBody(x.Do, c, suppressed)...)
		}
		return sm.cap(out)
	case *syntax.ForClause:
		once := false
		if wi, ok := x.Loop.(*syntax.WordIter); ok && len(wi.Items) > 0 {
			once = true
			for _, w := range wi.Items {
				if len(w.Parts) != 1 {
					once = false
				} else if _, lit := w.Parts[0].(*syntax.Lit); !lit {
					once = false
				}
			}
		}
		out := sm.loopBody(x.Do, p, suppressed)
		if !once {
			skip := p
			skip.status = ok
			out = append(out, skip)
		}
		return sm.cap(out)
	case *syntax.CaseClause:
		var out []pathState
		catchAll := false
		for _, it := range x.Items {
			for _, pat := range it.Patterns {
				if pat.Lit() == "*" {
					catchAll = true
				}
			}
			out = append(out, sm.stmts(it.Stmts, []pathState{p}, suppressed)...)
		}
		if !catchAll {
			none := p
			none.status = ok
			out = append(out, none)
		}
		return sm.cap(out)
	case *syntax.FuncDecl:
		p.funcs = maps.Clone(p.funcs)
		p.funcs[x.Name.Value] = x.Body
		p.status = ok
		return []pathState{p}
	case *syntax.DeclClause:
		for _, a := range x.Args {
			if a.Value != nil {
				p = sm.expand(a.Value, p)
			}
		}
		if p.hit && p.note == "" {
			p.noteOnce(x.Variant.Value + " returns success whatever the command substitution returned")
		}
		p.status = ok
		return []pathState{p}
	case *syntax.TimeClause:
		if x.Stmt == nil {
			p.status = ok
			return []pathState{p}
		}
		return sm.stmt(x.Stmt, p, decides, suppressed)
	case *syntax.CoprocClause:
		p.status = ok
		return []pathState{p}
	case *syntax.TestClause, *syntax.ArithmCmd, *syntax.LetClause:
		a, b := p, p
		a.status, b.status = ok, failed
		return sm.leafStatus([]pathState{a, b}, suppressed)
	default:
		p.status = ok
		return []pathState{p}
	}
}

func (sm *sim) loopBody(body []*syntax.Stmt, p pathState, suppressed bool) []pathState {
	outs := sm.stmts(body, []pathState{p}, suppressed)
	for i := range outs {
		outs[i].brk = 0
	}
	return outs
}

func (sm *sim) ifClause(x *syntax.IfClause, p pathState, suppressed bool) []pathState {
	var out []pathState
	for _, c := range sm.stmts(x.Cond, []pathState{p}, true) {
		if c.done || c.ret || c.brk != 0 {
			out = append(out, c)
			continue
		}
		branches := []int{c.status}
		if c.status == unknown {
			branches = []int{ok, failed}
		}
		for _, b := range branches {
			q := c
			if b == ok {
				out = append(out, sm.stmts(x.Then, []pathState{q}, suppressed)...)
				continue
			}
			if q.hit && !p.hit {
				q.noteOnce("it is the condition of an if")
			}
			if x.Else != nil {
				if x.Else.ThenPos.IsValid() { // elif
					out = append(out, sm.ifClause(x.Else, q, suppressed)...)
				} else {
					out = append(out, sm.stmts(x.Else.Then, []pathState{q}, suppressed)...)
				}
				continue
			}
			q.status = ok
			out = append(out, q)
		}
	}
	return sm.cap(out)
}

// subshell runs statements in a copy of the shell: exits end the copy only.
func (sm *sim) subshell(list []*syntax.Stmt, p pathState, suppressed, errexit, pipefail bool) []pathState {
	q := p
	q.errexit, q.pipefail = errexit, pipefail
	q.exitTrap, q.errTrap = nil, nil
	outs := sm.stmts(list, []pathState{q}, false)
	res := make([]pathState, 0, len(outs))
	for _, o := range outs {
		o = sm.finish(o)
		r := p
		r.status, r.hit, r.reached, r.early, r.note = o.status, o.hit, o.reached, o.early, o.note
		res = append(res, r)
	}
	return sm.leafStatus(dedupe(res), suppressed)
}

func (sm *sim) pipeline(x *syntax.BinaryCmd, p pathState, decides, suppressed bool) []pathState {
	var parts []*syntax.Stmt
	var flatten func(s *syntax.Stmt)
	flatten = func(s *syntax.Stmt) {
		if b, ok := s.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) && !s.Negated && !s.Background {
			flatten(b.X)
			flatten(b.Y)
			return
		}
		parts = append(parts, s)
	}
	flatten(&syntax.Stmt{Cmd: x})
	// Each part runs in a subshell; the pipeline's status is the last part's, or with pipefail
	// the last non-zero one.
	combos := []pathState{p}
	for i, part := range parts {
		last := i == len(parts)-1
		var next []pathState
		for _, acc := range combos {
			q := p
			q.hit, q.reached, q.early, q.note = acc.hit, acc.reached, acc.early, acc.note
			q.exitTrap, q.errTrap = nil, nil
			for _, o := range sm.stmt(part, q, decides && last, false) {
				o = sm.finish(o)
				r := acc
				r.hit, r.reached, r.early, r.note = o.hit, o.reached, o.early, o.note
				switch {
				case i == 0 || !p.pipefail:
					r.status = o.status
				case o.status != ok:
					r.status = o.status
				}
				if !p.pipefail && !last && o.status == failed && o.hit && !acc.hit {
					r.noteOnce("it is not the last command of a pipeline and pipefail is off, so its status is dropped")
				}
				next = append(next, r)
			}
		}
		combos = sm.cap(dedupe(next))
	}
	return sm.leafStatus(combos, suppressed)
}

// leafStatus applies errexit and the ERR trap after a command that errexit looks at.
func (sm *sim) leafStatus(ps []pathState, suppressed bool) []pathState {
	var out []pathState
	for _, p := range ps {
		if p.done || p.ret || p.status != failed || suppressed {
			out = append(out, p)
			continue
		}
		if p.errTrap != nil {
			trap := p.errTrap
			q := p
			q.errTrap = nil // no recursion
			q.inTrap = "ERR"
			for _, t := range sm.stmts(trap.Stmts, []pathState{q}, false) {
				t.errTrap, t.inTrap = trap, p.inTrap
				if t.done {
					if t.status == ok {
						t.noteOnce("an ERR trap exits with success")
					}
					out = append(out, t)
					continue
				}
				t.status = failed
				if t.errexit {
					t.done = true
				} else {
					t.noteOnce("errexit is off (set +e, or a shell started without -e), so the script goes on")
				}
				out = append(out, t)
			}
			continue
		}
		if p.errexit {
			p.done = true
		} else {
			p.noteOnce("errexit is off (set +e, or a shell started without -e), so the script goes on")
		}
		out = append(out, p)
	}
	return out
}

// expand runs the command substitutions of a word; their statuses are dropped unless the
// caller keeps the last one.
func (sm *sim) expand(w *syntax.Word, p pathState) pathState {
	if w == nil {
		return p
	}
	syntax.Walk(w, func(n syntax.Node) bool {
		var list []*syntax.Stmt
		switch x := n.(type) {
		case *syntax.CmdSubst:
			list = x.Stmts
		case *syntax.ProcSubst:
			list = x.Stmts
		default:
			return true
		}
		// bash does not keep errexit inside a command substitution.
		outs := sm.subshell(list, p, true, false, p.pipefail)
		worst := outs[0]
		for _, o := range outs {
			if o.status != ok {
				worst = o
			}
		}
		// The note of what happened inside is dropped: a command substitution never has
		// errexit; what matters is what the command around it does with its status.
		p.hit, p.reached, p.early = worst.hit, worst.reached, worst.early
		p.status = worst.status
		return false
	})
	return p
}

func (sm *sim) call(x *syntax.CallExpr, p pathState, decides, suppressed bool) []pathState {
	if len(x.Args) == 0 {
		// Assignments: the status is the last command substitution's, or success.
		p.status = ok
		for _, a := range x.Assigns {
			p = sm.expand(a.Value, p)
		}
		return sm.leafStatus([]pathState{p}, suppressed)
	}
	hitBefore := p.hit
	for _, a := range x.Assigns {
		p = sm.expand(a.Value, p)
	}
	for _, w := range x.Args {
		p = sm.expand(w, p)
	}
	if p.hit && !hitBefore {
		p.noteOnce("it runs in a command substitution whose status the command drops")
	}
	if sm.watch[x] {
		p.reached = true
		p.early = p.early || !p.hit
	}
	if sm.fail[x] {
		p.hit = true
		p.status = failed
		return sm.leafStatus([]pathState{p}, suppressed)
	}
	words := make([]string, len(x.Args))
	for i, w := range x.Args {
		words[i] = w.Lit()
		if words[i] == "" && len(w.Parts) > 0 {
			words[i] = sm.s.text(w)
		}
	}
	name := words[0]
	execd := false
	for {
		skip, ok := wrappers[path.Base(name)]
		if !ok || len(words) < 2 {
			break
		}
		if path.Base(name) == "exec" {
			execd = true
		}
		n := 1 + skip(wordsOf(words[1:]))
		if n >= len(words) {
			break
		}
		words = words[n:]
		name = words[0]
	}
	outs := sm.builtin(x, name, words[1:], p, decides, suppressed)
	if execd {
		for i := range outs {
			outs[i].done = true
		}
	}
	return sm.leafStatus(outs, suppressed)
}

func wordsOf(ss []string) []Word {
	out := make([]Word, len(ss))
	for i, s := range ss {
		out[i] = Word{Text: s, Known: true}
	}
	return out
}

// builtin runs a command: the shell's own builtins, functions, nested scripts, or a program
// (which succeeds, unless its status decides a condition, where it may go either way).
func (sm *sim) builtin(x *syntax.CallExpr, name string, args []string, p pathState, decides, suppressed bool) []pathState {
	switch name {
	case "exit", "return":
		code := p.status
		if len(args) > 0 {
			code = parseStatus(args[0], p.status)
		}
		if name == "exit" {
			p.done = true
		} else {
			p.ret = true
		}
		if p.hit && code == ok {
			if p.inTrap != "" {
				p.noteOnce("an " + p.inTrap + " trap exits with success")
			} else {
				p.noteOnce("`" + name + " 0` ends it with success")
			}
		}
		p.status = code
		return []pathState{p}
	case "break":
		p.brk, p.status = 1, ok
		return []pathState{p}
	case "continue":
		p.brk, p.status = 2, ok
		return []pathState{p}
	case "true", ":":
		p.status = ok
		return []pathState{p}
	case "false":
		p.status = failed
		return []pathState{p}
	case "set":
		sm.setFlags(&p, args)
		p.status = ok
		return []pathState{p}
	case "trap":
		sm.trap(&p, x, args)
		p.status = ok
		return []pathState{p}
	case "wait", "cd", "echo", "printf", "shopt", "export", "unset", "local", "declare", "readonly":
		p.status = ok
		if decides && (name == "wait" || name == "cd") {
			a, b := p, p
			b.status = failed
			return []pathState{a, b}
		}
		return []pathState{p}
	}
	if body, ok := p.funcs[name]; ok && p.calls < 8 {
		q := p
		q.calls++
		outs := sm.stmt(body, q, decides, suppressed)
		for i := range outs {
			outs[i].ret = false
			outs[i].calls = p.calls
		}
		return outs
	}
	if in, ok := sm.s.nested[x]; ok {
		if !in.fresh {
			return sm.stmts(in.file.Stmts, []pathState{p}, suppressed)
		}
		q := p
		q.funcs = map[string]*syntax.Stmt{}
		q.errexit, q.pipefail = in.errexit, in.pipefail
		q.exitTrap, q.errTrap = nil, nil
		outs := sm.stmts(in.file.Stmts, []pathState{q}, false)
		res := make([]pathState, 0, len(outs))
		for _, o := range outs {
			o = sm.finish(o)
			r := p
			r.status, r.hit, r.reached, r.early, r.note = o.status, o.hit, o.reached, o.early, o.note
			if r.status == failed || r.status == unknown {
				res = append(res, r)
				continue
			}
			if r.hit && !p.hit {
				r.note = "the " + in.via + " script that runs it ends with success (a new shell starts without errexit unless told)"
			}
			res = append(res, r)
		}
		return dedupe(res)
	}
	if decides {
		a, b := p, p
		a.status, b.status = ok, failed
		return []pathState{a, b}
	}
	p.status = ok
	return []pathState{p}
}

func parseStatus(s string, last int) int {
	if s == "$?" || s == "${?}" {
		return last
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return unknown
	}
	if n%256 == 0 {
		return ok
	}
	return failed
}

func (sm *sim) setFlags(p *pathState, args []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return
		}
		if (a == "-o" || a == "+o") && i+1 < len(args) {
			setOption(args[i+1], a == "-o", &p.errexit, &p.pipefail)
			i++
			continue
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			return
		}
		on := a[0] == '-'
		for j, r := range a[1:] {
			switch r {
			case 'e':
				p.errexit = on
			case 'o':
				if j == len(a)-2 && i+1 < len(args) {
					setOption(args[i+1], on, &p.errexit, &p.pipefail)
					i++
				}
			}
		}
	}
}

// trap records EXIT and ERR traps whose body is a literal script.
func (sm *sim) trap(p *pathState, x *syntax.CallExpr, args []string) {
	if len(args) < 2 {
		return
	}
	body := args[0]
	if len(x.Args) > 1 {
		body = sm.s.wordValue(x.Args[1])
	}
	var f *syntax.File
	if body != "-" && body != "" {
		parsed, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(body), "")
		if err != nil {
			return
		}
		f = parsed
	}
	for _, sig := range args[1:] {
		switch strings.TrimPrefix(strings.ToUpper(sig), "SIG") {
		case "EXIT", "0":
			p.exitTrap = f
		case "ERR":
			p.errTrap = f
		}
	}
}

// wordValue is a word's text without its quotes (no expansion).
func (s *Script) wordValue(w *syntax.Word) string {
	return s.word(w, nil).Text
}
