package shell

import (
	"bytes"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// collector lists the commands of a script in source order, with the values of the variables
// assigned before them, and parses the scripts they run.
type collector struct {
	s     *Script
	vars  map[string]Word
	funcs map[string]*syntax.Stmt
	depth int
}

const maxNesting = 6

// wrappers run the rest of their arguments as a command; skip says how many of their own
// arguments come first (flags are skipped too).
var wrappers = map[string]func(args []Word) int{
	"env": func(a []Word) int {
		i := 0
		for i < len(a) && (strings.HasPrefix(a[i].Text, "-") || strings.Contains(a[i].Text, "=")) {
			if a[i].Text == "-u" || a[i].Text == "-C" || a[i].Text == "-S" {
				i++
			}
			i++
		}
		return i
	},
	"timeout": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-s": true, "-k": true, "--signal": true, "--kill-after": true}) + 1
	},
	"sudo": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true})
	},
	"nohup":   func([]Word) int { return 0 },
	"nice":    func(a []Word) int { return skipFlags(a, map[string]bool{"-n": true}) },
	"command": func(a []Word) int { return skipFlags(a, nil) },
	"builtin": func([]Word) int { return 0 },
	"exec":    func(a []Word) int { return skipFlags(a, map[string]bool{"-a": true}) },
	"xargs": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-I": true, "-n": true, "-P": true, "-L": true, "-d": true, "-E": true, "-s": true, "-a": true})
	},
	"stdbuf":   func(a []Word) int { return skipFlags(a, nil) },
	"time":     func(a []Word) int { return skipFlags(a, nil) },
	"unbuffer": func([]Word) int { return 0 },
	"setsid":   func(a []Word) int { return skipFlags(a, nil) },
	"doas":     func(a []Word) int { return skipFlags(a, map[string]bool{"-u": true, "-C": true}) },
	"ionice":   func(a []Word) int { return skipFlags(a, map[string]bool{"-c": true, "-n": true, "-p": true}) },
	"chrt":     func(a []Word) int { return skipFlags(a, nil) + 1 },
	"taskset":  func(a []Word) int { return skipFlags(a, nil) + 1 },
	"chroot":   func(a []Word) int { return skipFlags(a, map[string]bool{"--userspec": true, "--groups": true}) + 1 },
	"flock": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-w": true, "-E": true, "--timeout": true}) + 1
	},
	"strace": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-o": true, "-e": true, "-p": true, "-s": true, "-u": true})
	},
	"ltrace": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-o": true, "-e": true, "-p": true, "-s": true, "-u": true})
	},
	"watch":    func(a []Word) int { return skipFlags(a, map[string]bool{"-n": true, "--interval": true, "-d": true}) },
	"parallel": func(a []Word) int { return skipFlags(a, map[string]bool{"-j": true, "--jobs": true, "-S": true}) },
	"faketime": func(a []Word) int { return skipFlags(a, map[string]bool{"-f": true}) + 1 },
	"busybox":  func([]Word) int { return 0 },
	"runuser": func(a []Word) int {
		if _, ok := commandFlag(a); ok {
			return -1 // runuser -c runs a script: read as one
		}
		return skipFlags(a, map[string]bool{"-u": true, "-g": true, "-G": true})
	},
	"nsenter": func(a []Word) int { return skipFlags(a, map[string]bool{"-t": true, "--target": true}) },
	"unshare": func(a []Word) int { return skipFlags(a, nil) },
	"retry": func(a []Word) int {
		return skipFlags(a, map[string]bool{"-t": true, "-d": true, "--times": true, "--delay": true})
	},
}

// commandFlag returns the value of -c (also in a cluster of short flags, -qc) or --command.
func commandFlag(a []Word) (Word, bool) {
	for i, w := range a {
		switch {
		case w.Text == "--":
			return Word{}, false
		case strings.HasPrefix(w.Text, "--command="):
			return Word{Text: strings.TrimPrefix(w.Text, "--command="), Known: w.Known}, true
		case w.Text == "--command" || len(w.Text) > 1 && w.Text[0] == '-' && w.Text[1] != '-' && strings.HasSuffix(w.Text, "c"):
			if i+1 < len(a) {
				return a[i+1], true
			}
		}
	}
	return Word{}, false
}

func skipFlags(a []Word, valued map[string]bool) int {
	i := 0
	for i < len(a) && strings.HasPrefix(a[i].Text, "-") {
		if a[i].Text == "--" {
			return i + 1
		}
		if valued[a[i].Text] {
			i++
		}
		i++
	}
	return i
}

// shells run a script given with -c, in a file, or on their standard input.
var shells = map[string]bool{"bash": true, "sh": true, "dash": true, "zsh": true, "ksh": true}

// interpreters of other languages: code given inline to them is not read.
var interpreters = map[string]string{
	"python": "-c", "python3": "-c", "python2": "-c", "node": "-e", "perl": "-e", "ruby": "-e",
	"php": "-r", "pwsh": "-c", "powershell": "-c", "deno": "eval", "osascript": "-e",
}

func (c *collector) stmts(list []*syntax.Stmt, via []string, line int) {
	for _, st := range list {
		c.stmt(st, via, line, nil)
	}
}

// stmt walks one statement; from is the command piping into it, if any.
func (c *collector) stmt(st *syntax.Stmt, via []string, line int, from *Command) *Command {
	if st == nil {
		return nil
	}
	switch x := st.Cmd.(type) {
	case *syntax.CallExpr:
		return c.call(x, st, via, line, from)
	case *syntax.BinaryCmd:
		if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
			left := c.stmt(x.X, via, line, from)
			return c.stmt(x.Y, via, line, left)
		}
		c.stmt(x.X, via, line, nil)
		c.stmt(x.Y, via, line, nil)
	case *syntax.Block:
		c.stmts(x.Stmts, via, line)
	case *syntax.Subshell:
		c.stmts(x.Stmts, via, line)
	case *syntax.IfClause:
		for ic := x; ic != nil; ic = ic.Else {
			c.stmts(ic.Cond, via, line)
			c.stmts(ic.Then, via, line)
		}
	case *syntax.WhileClause:
		c.stmts(x.Cond, via, line)
		c.stmts(x.Do, via, line)
	case *syntax.ForClause:
		if wi, ok := x.Loop.(*syntax.WordIter); ok {
			for _, w := range wi.Items {
				c.words(w, via, line)
			}
			c.vars[wi.Name.Value] = Word{Text: "$" + wi.Name.Value}
		}
		c.stmts(x.Do, via, line)
	case *syntax.CaseClause:
		c.words(x.Word, via, line)
		for _, it := range x.Items {
			c.stmts(it.Stmts, via, line)
		}
	case *syntax.FuncDecl:
		c.funcs[x.Name.Value] = x.Body
		c.stmt(x.Body, append(slices.Clone(via), "function "+x.Name.Value), line, nil)
	case *syntax.DeclClause:
		for _, a := range x.Args {
			c.words(a.Value, via, line)
			c.assign(a, lineOf(line, a))
		}
	case *syntax.TimeClause:
		c.stmt(x.Stmt, via, line, from)
	case *syntax.CoprocClause:
		c.stmt(x.Stmt, via, line, nil)
	case *syntax.TestClause:
		syntax.Walk(x, func(n syntax.Node) bool {
			if w, ok := n.(*syntax.Word); ok {
				c.words(w, via, line)
				return false
			}
			return true
		})
	}
	return nil
}

// lineOf is the line of a node: the line of the command that runs its script when nested.
func lineOf(line int, n syntax.Node) int {
	if line == 0 {
		return int(n.Pos().Line())
	}
	return line
}

func (c *collector) assign(a *syntax.Assign, line int) {
	if a.Name == nil {
		return
	}
	if a.Value == nil {
		if !a.Naked {
			c.vars[a.Name.Value] = Word{Known: true}
			c.s.Assigns = append(c.s.Assigns, Assign{Line: line, Name: a.Name.Value, Value: Word{Known: true}})
		}
		return
	}
	w := c.s.word(a.Value, c.vars)
	c.s.Assigns = append(c.s.Assigns, Assign{Line: line, Name: a.Name.Value, Value: w})
	if a.Append {
		if old, ok := c.vars[a.Name.Value]; ok {
			w = Word{Text: old.Text + w.Text, Known: old.Known && w.Known}
		}
	}
	c.vars[a.Name.Value] = w
}

// words walks the command substitutions inside a word.
func (c *collector) words(w *syntax.Word, via []string, line int) {
	if w == nil {
		return
	}
	syntax.Walk(w, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.CmdSubst:
			c.stmts(x.Stmts, append(slices.Clone(via), "$(...)"), line)
			return false
		case *syntax.ProcSubst:
			c.stmts(x.Stmts, append(slices.Clone(via), "<(...)"), line)
			return false
		}
		return true
	})
}

func (c *collector) call(x *syntax.CallExpr, st *syntax.Stmt, via []string, line int, from *Command) *Command {
	if line == 0 {
		line = int(x.Pos().Line())
	}
	for _, a := range x.Assigns {
		c.words(a.Value, via, line)
	}
	for _, w := range x.Args {
		c.words(w, via, line)
	}
	if len(x.Args) == 0 {
		for _, a := range x.Assigns {
			c.assign(a, lineOf(line, a))
		}
		return nil
	}
	// Assignments before a command are in its environment only.
	vars := c.vars
	if len(x.Assigns) > 0 {
		vars = make(map[string]Word, len(c.vars)+len(x.Assigns))
		for k, v := range c.vars {
			vars[k] = v
		}
		for _, a := range x.Assigns {
			if a.Name != nil && a.Value != nil {
				vars[a.Name.Value] = c.s.word(a.Value, c.vars)
				c.s.Assigns = append(c.s.Assigns, Assign{Line: line, Name: a.Name.Value, Value: vars[a.Name.Value]})
			}
		}
	}
	words := make([]Word, len(x.Args))
	for i, w := range x.Args {
		words[i] = c.s.word(w, vars)
	}
	return c.command(words, x, st, vars, via, line, from)
}

// command records the command a list of words runs (after its wrappers: env, timeout, sudo,
// xargs...), then the commands it runs in turn: a nested script, or find's -exec.
func (c *collector) command(words []Word, x *syntax.CallExpr, st *syntax.Stmt, vars map[string]Word, via []string, line int, from *Command) *Command {
	for len(words) > 0 {
		if path.Base(words[0].Text) == "env" {
			for _, w := range words[1:] {
				name, value, ok := strings.Cut(w.Text, "=")
				if strings.HasPrefix(w.Text, "-") || !ok {
					if !strings.HasPrefix(w.Text, "-") {
						break
					}
					continue
				}
				c.s.Assigns = append(c.s.Assigns, Assign{Line: line, Name: name, Value: Word{Text: value, Known: w.Known}})
			}
		}
		skip, ok := wrappers[path.Base(words[0].Text)]
		if !ok {
			break
		}
		n := skip(words[1:])
		if n < 0 {
			break
		}
		if 1+n >= len(words) {
			break // a wrapper with no command to run is the command (`env` alone prints the environment)
		}
		words = words[1+n:]
	}
	cmd := &Command{
		Line: line, Text: c.s.text(x), Via: slices.Clone(via), PipedFrom: from,
		Background: st != nil && st.Background, node: x,
	}
	if len(words) == 0 {
		return nil
	}
	cmd.Name, cmd.Args = words[0].Text, words[1:]
	if !words[0].Known {
		c.s.opaque(line, cmd.Text, "the command to run is only known at run time ("+words[0].Text+")")
	}
	if st != nil {
		for _, r := range st.Redirs {
			switch r.Op {
			case syntax.RdrIn:
				w := c.s.word(r.Word, vars)
				cmd.Stdin = &w
			case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.RdrClob:
				if r.N == nil || r.N.Value == "1" {
					cmd.Stdout = append(cmd.Stdout, c.s.word(r.Word, vars))
				}
			}
		}
	}
	c.s.Commands = append(c.s.Commands, cmd)
	c.nestedScript(cmd, x, st, vars, via, line)
	if path.Base(cmd.Name) == "find" {
		for _, sub := range findExecs(cmd.Args) {
			c.command(sub, x, nil, vars, via, line, nil)
		}
	}
	return cmd
}

// findExecs returns the commands find runs: each -exec, -execdir, -ok or -okdir up to its ;
// or +.
func findExecs(args []Word) [][]Word {
	var out [][]Word
	for i := 0; i < len(args); i++ {
		switch args[i].Text {
		case "-exec", "-execdir", "-ok", "-okdir":
			j := i + 1
			for j < len(args) && args[j].Text != ";" && args[j].Text != "+" {
				j++
			}
			if j > i+1 {
				out = append(out, slices.Clone(args[i+1:j]))
			}
			i = j
		}
	}
	return out
}

// nestedScript parses the script a command runs, if it runs one.
func (c *collector) nestedScript(cmd *Command, x *syntax.CallExpr, st *syntax.Stmt, vars map[string]Word, via []string, line int) {
	name := path.Base(cmd.Name)
	var (
		src      string
		known    = true
		what     string
		fresh    = true
		errexit  bool
		pipefail bool
	)
	switch {
	case name == "eval":
		var parts []string
		for _, a := range cmd.Args {
			parts = append(parts, a.Text)
			known = known && a.Known
		}
		src, what, fresh = strings.Join(parts, " "), "eval", false
	case name == "source" || name == ".":
		if len(cmd.Args) == 0 {
			return
		}
		data, ok := c.readFile(cmd.Args[0])
		if !ok {
			c.s.opaque(line, cmd.Text, "it sources "+cmd.Args[0].Text+", which is not a file of the repository")
			return
		}
		src, what, fresh = string(data), "source "+cmd.Args[0].Text, false
	case name == "su" || name == "runuser" || name == "script":
		// su -c, runuser -c and script -c run their string with a shell.
		cs, ok := commandFlag(cmd.Args)
		if !ok {
			return
		}
		src, known, what = cs.Text, cs.Known, name+" -c"
	case shells[name]:
		var flags []string
		script := -1
		for i, a := range cmd.Args {
			if strings.HasPrefix(a.Text, "-") || strings.HasPrefix(a.Text, "+") {
				flags = append(flags, a.Text)
				if a.Text == "-o" || a.Text == "+o" {
					if i+1 < len(cmd.Args) {
						flags = append(flags, cmd.Args[i+1].Text)
					}
				}
				continue
			}
			if i > 0 && (cmd.Args[i-1].Text == "-o" || cmd.Args[i-1].Text == "+o") {
				continue
			}
			script = i
			break
		}
		errexit, pipefail = shellFlags(flags)
		withC := slices.ContainsFunc(flags, func(f string) bool {
			return strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "--") && strings.ContainsRune(f, 'c')
		})
		switch {
		case withC && script >= 0:
			src, known, what = cmd.Args[script].Text, cmd.Args[script].Known, name+" -c"
		case withC:
			c.s.opaque(line, cmd.Text, name+" -c without a script")
			return
		case script >= 0:
			data, ok := c.readFile(cmd.Args[script])
			if !ok {
				c.s.opaque(line, cmd.Text, "it runs "+cmd.Args[script].Text+", which is not a file of the repository")
				return
			}
			src, what = string(data), name+" "+cmd.Args[script].Text
		default:
			// The script comes on standard input: a here-document, or a pipe.
			if hd := heredoc(st); hd != nil {
				src, what = c.s.word(hd, vars).Text, name+" <<here-document"
				known = true
			} else if cmd.PipedFrom != nil {
				c.s.opaque(line, cmd.Text, "it runs whatever "+cmd.PipedFrom.Name+" prints as a script")
				return
			} else if cmd.Stdin != nil {
				data, ok := c.readFile(*cmd.Stdin)
				if !ok {
					c.s.opaque(line, cmd.Text, "it runs "+cmd.Stdin.Text+" as a script, which is not a file of the repository")
					return
				}
				src, what = string(data), name+" < "+cmd.Stdin.Text
			} else {
				return
			}
		}
	case strings.HasPrefix(name, "./") || strings.HasPrefix(cmd.Name, "/") || strings.Contains(cmd.Name, "/"):
		data, ok := c.readFile(Word{Text: cmd.Name, Known: true})
		if !ok && !strings.HasPrefix(cmd.Name, "/") && !builtHere(cmd.Name) {
			c.s.opaque(line, cmd.Text, "it runs "+cmd.Name+", a program that is not a file of the repository (downloaded or written at run time)")
			return
		}
		if !ok || !isShellScript(data) {
			return // a program of the repository, of the system, or built from the repository
		}
		src, what = string(data), cmd.Name
		errexit, pipefail = shebangFlags(data)
	default:
		if flag, ok := interpreters[name]; ok && cmd.Has(flag) {
			c.s.opaque(line, cmd.Text, name+" runs inline code the analysis does not read")
		}
		return
	}
	if !known {
		c.s.opaque(line, cmd.Text, "the script it runs is only known at run time")
		return
	}
	if c.depth >= maxNesting {
		c.s.opaque(line, cmd.Text, "scripts nested too deep")
		return
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		c.s.opaque(line, cmd.Text, "the script it runs does not parse: "+err.Error())
		return
	}
	c.s.nested[x] = &inner{via: what, file: f, fresh: fresh, errexit: errexit, pipefail: pipefail}
	sub := &collector{s: c.s, vars: c.vars, funcs: c.funcs, depth: c.depth + 1}
	if fresh {
		sub.vars = map[string]Word{}
		for k, v := range vars {
			sub.vars[k] = v // exported or not, we cannot tell: keep what is known
		}
		sub.funcs = map[string]*syntax.Stmt{}
	}
	sub.stmts(f.Stmts, append(slices.Clone(via), what), line)
}

func heredoc(st *syntax.Stmt) *syntax.Word {
	if st == nil {
		return nil
	}
	for _, r := range st.Redirs {
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			return r.Hdoc
		case syntax.WordHdoc:
			return r.Word
		}
	}
	return nil
}

func isShellScript(data []byte) bool {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	return bytes.HasPrefix(first, []byte("#!")) && (bytes.Contains(first, []byte("bash")) || bytes.Contains(first, []byte("sh")))
}

// shebangFlags reads `#!/usr/bin/env bash -e` style flags, and a `set -e...` line is read by
// the simulation itself.
func shebangFlags(data []byte) (errexit, pipefail bool) {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(strings.TrimPrefix(string(first), "#!"))
	if len(f) > 0 && path.Base(f[0]) == "env" {
		f = f[1:]
	}
	if len(f) > 1 {
		return shellFlags(f[1:])
	}
	return false, false
}

// builtHere reports whether a program is one the repository's make builds from its pinned
// sources (.run/bin, .tools/bin).
func builtHere(name string) bool {
	p := path.Clean(strings.TrimPrefix(name, "./"))
	return strings.HasPrefix(p, ".run/") || strings.HasPrefix(p, ".tools/")
}

func (c *collector) readFile(w Word) ([]byte, bool) {
	if !w.Known || c.s.opts.ReadFile == nil {
		return nil, false
	}
	p := path.Clean(strings.TrimPrefix(w.Text, "./"))
	if strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return nil, false
	}
	return c.s.opts.ReadFile(p)
}

func (s *Script) opaque(line int, text, why string) {
	s.Opaque = append(s.Opaque, Opaque{Line: line, Text: text, Why: why})
}

// text is the source of a node, with the ${{ }} expressions put back.
func (s *Script) text(n syntax.Node) string {
	var b strings.Builder
	if err := syntax.NewPrinter(syntax.Minify(false)).Print(&b, n); err != nil {
		return ""
	}
	return s.restore(strings.TrimSpace(b.String()))
}

func (s *Script) restore(t string) string {
	if len(s.exprs) == 0 || !strings.Contains(t, "GHAEXPR") {
		return t
	}
	for p, e := range s.exprs {
		t = strings.ReplaceAll(t, p, e)
	}
	return t
}

// word expands a word with the known variables; what is only known at run time is kept as
// written.
func (s *Script) word(w *syntax.Word, vars map[string]Word) Word {
	if w == nil {
		return Word{Known: true}
	}
	out := Word{Known: true}
	var b strings.Builder
	s.parts(w.Parts, vars, &b, &out.Known)
	out.Text = s.restore(b.String())
	if out.Text != b.String() {
		out.Known = false
	}
	return out
}

func (s *Script) parts(parts []syntax.WordPart, vars map[string]Word, b *strings.Builder, known *bool) {
	for _, p := range parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(x.Value))
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			s.parts(x.Parts, vars, b, known)
		case *syntax.ParamExp:
			if x.Param != nil && !x.Excl && !x.Length && x.Index == nil && x.Slice == nil && x.Repl == nil && x.Exp == nil {
				if v, ok := vars[x.Param.Value]; ok {
					b.WriteString(v.Text)
					*known = *known && v.Known
					continue
				}
			}
			*known = false
			b.WriteString(s.text(x))
		default:
			*known = false
			b.WriteString(s.text(p))
		}
	}
}

// unescape removes the backslashes of an unquoted literal (\$ -> $, \\ -> \, \n joined).
func unescape(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			if v[i] == '\n' {
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
