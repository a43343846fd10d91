// Package shell reads the run: scripts of GitHub Actions steps with a real shell parser
// (mvdan.cc/sh) and answers the two questions the pipeline rules ask of a script: which
// commands can it run (including those inside `bash -c '...'`, `eval`, functions, subshells,
// here-documents fed to a shell and scripts of the repository it calls), and does the failure
// of a given command fail the step, or keep another command from running.
//
// The second question is answered by following every path through the script under the
// hypothesis that the commands in question fail and every other command succeeds, except that
// commands whose result steers the control flow (conditions of if and while, the left side of
// && and ||) may go either way. errexit, pipefail, `set +e`, traps, `exit`, functions, subshells,
// command substitutions and nested shells are followed as bash runs them.
package shell

import (
	"fmt"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Options say how the runner starts a script.
type Options struct {
	// Shell is the step's shell: "" (the runner's default, `bash -e {0}`), "bash"
	// (`bash --noprofile --norc -eo pipefail {0}`), "sh" (`sh -e {0}`), or a custom template
	// such as `bash {0}`.
	Shell string
	// Env holds the variables whose values are known before the script starts (env: of the
	// workflow, the job and the step). Values may hold ${{ }} expressions: they are kept as text.
	Env map[string]string
	// ReadFile returns a script of the repository that the step runs (`bash path`, `./path`,
	// `source path`), by path relative to the repository root; ok is false when it is not there.
	ReadFile func(path string) (data []byte, ok bool)
}

// Script is one parsed run: script.
type Script struct {
	// Lang is "bash" or "sh"; "" when the step's shell is not a POSIX shell (python, pwsh, ...),
	// in which case Opaque says so and Commands is empty.
	Lang string
	// Errexit and Pipefail are the flags the runner starts the shell with.
	Errexit, Pipefail bool
	// Commands lists every simple command the script can run, in source order, nested scripts
	// included (at the position of the command that runs them).
	Commands []*Command
	// Opaque lists the code the analysis cannot read: a command name or a script that is only
	// known at run time, code in another language.
	Opaque []Opaque
	// Assigns lists every variable the script sets, for the rest of the script or for one
	// command: NAME=value, export and declare, NAME=value before a command, env NAME=value.
	Assigns []Assign

	file   *syntax.File
	nested map[*syntax.CallExpr]*inner
	opts   Options
	exprs  map[string]string // placeholder -> ${{ }} expression it stands for
}

// Assign is a variable a script sets.
type Assign struct {
	Line  int
	Name  string
	Value Word
}

// Opaque is code the analysis cannot read.
type Opaque struct {
	Line int
	Text string
	Why  string
}

// Command is one simple command of a script.
type Command struct {
	// Name is the program run, after wrappers such as env, timeout, sudo or xargs: "kubectl".
	Name string
	// Args are its arguments after the name.
	Args []Word
	// Line is the line in the step's script of the command (for a nested script, of the
	// command that runs it).
	Line int
	// Text is the command's source text, for messages.
	Text string
	// Via says how the command is reached when it is not at the top level of the script, from
	// the outside in: "bash -c", "eval", "function f", "$(...)", "./deploy.sh".
	Via []string
	// PipedFrom is the command before this one in a pipeline (cmd | this), if any.
	PipedFrom *Command
	// Stdin is the file redirected into the command (< file), if any.
	Stdin *Word
	// Stdout lists the files the command writes its output to (> file, >> file).
	Stdout []Word
	// Background is true for `cmd &`.
	Background bool

	node *syntax.CallExpr
}

// Word is one argument as the shell would see it. What is only known at run time stays as
// it was written ($NAME, $(...)) after the known variables are expanded.
type Word struct {
	Text  string
	Known bool
}

func (w Word) String() string { return w.Text }

// Strings returns the texts of the words.
func Strings(ws []Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// inner is a script another command runs: `bash -c '...'`, `eval '...'`, `bash file`, a
// here-document fed to a shell.
type inner struct {
	via      string
	file     *syntax.File
	fresh    bool // a new shell process (bash -c, bash file); else the current shell (eval, source)
	errexit  bool
	pipefail bool
}

var ghExpr = regexp.MustCompile(`\$\{\{.*?\}\}`)

// Parse reads a run: script.
func Parse(script string, opts Options) (*Script, error) {
	s := &Script{nested: map[*syntax.CallExpr]*inner{}, opts: opts, exprs: map[string]string{}}
	lang, errexit, pipefail, ok := startFlags(opts.Shell)
	if !ok {
		why := fmt.Sprintf("the step runs in %q, not a POSIX shell: its code is not read", opts.Shell)
		if posixShell(strings.Fields(opts.Shell)[0]) != "" {
			why = fmt.Sprintf("the step runs in %q, a shell given more than its script and the options -e, -u, -x, -o errexit/pipefail/nounset/xtrace, --noprofile, --norc (a command, another file to read first): what runs is not only the code read", opts.Shell)
		}
		s.Opaque = append(s.Opaque, Opaque{Line: 1, Text: opts.Shell, Why: why})
		return s, nil
	}
	s.Lang, s.Errexit, s.Pipefail = lang, errexit, pipefail
	// ${{ }} is replaced by the runner before the shell reads the script: keep each one as a
	// word of its own so that the shell parser sees valid code.
	n := 0
	script = ghExpr.ReplaceAllStringFunc(script, func(e string) string {
		n++
		p := fmt.Sprintf("GHAEXPR%dX", n)
		s.exprs[p] = e
		return p
	})
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		return nil, fmt.Errorf("parse script: %w", err)
	}
	s.file = f
	c := &collector{s: s, vars: initialVars(opts.Env), funcs: map[string]*syntax.Stmt{}}
	c.stmts(f.Stmts, nil, 0)
	return s, nil
}

// startFlags reads the step's shell: which language, and whether errexit and pipefail are on.
func startFlags(shell string) (lang string, errexit, pipefail, ok bool) {
	switch strings.TrimSpace(shell) {
	case "":
		return "bash", true, false, true
	case "bash":
		return "bash", true, true, true
	case "sh":
		return "sh", true, false, true
	}
	f := strings.Fields(shell)
	// A custom shell must end with the script ({0}) and, before it, only set the options the
	// analysis follows: anything else (-c and a command, --rcfile, -l, -i, which read other files
	// first, or a second script) runs code that is not the step's run:.
	lang = posixShell(f[0])
	if lang == "" || len(f) < 2 || f[len(f)-1] != "{0}" {
		return "", false, false, false
	}
	errexit, pipefail, plain := shellArgs(f[1 : len(f)-1])
	if !plain {
		return "", false, false, false
	}
	return lang, errexit, pipefail, true
}

// posixShell is the language of a shell program ("bash", "sh"), or "" for any other.
func posixShell(program string) string {
	switch strings.TrimPrefix(program, "/usr/bin/") {
	case "bash", "/bin/bash":
		return "bash"
	case "sh", "/bin/sh":
		return "sh"
	}
	return ""
}

// plainOptions are the -o options a custom shell may set: none of them runs other code.
var plainOptions = map[string]bool{"errexit": true, "pipefail": true, "nounset": true, "xtrace": true}

// shellFlags reads -e, -o errexit, -o pipefail and their + forms from a shell's arguments.
func shellFlags(args []string) (errexit, pipefail bool) {
	errexit, pipefail, _ = shellArgs(args)
	return errexit, pipefail
}

// shellArgs walks a shell's arguments as its options: errexit and pipefail as they end up, and
// whether every argument is one that runs nothing else (plain: -e, -u, -x, -o and +o of
// plainOptions, --noprofile, --norc).
func shellArgs(args []string) (errexit, pipefail, plain bool) {
	plain = true
	option := func(i int, on bool) int {
		if i+1 >= len(args) {
			plain = false
			return i
		}
		plain = plain && plainOptions[args[i+1]]
		setOption(args[i+1], on, &errexit, &pipefail)
		return i + 1
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "+o":
			i = option(i, a == "-o")
		case a == "--noprofile" || a == "--norc":
		case strings.HasPrefix(a, "--"):
			plain = false
		case len(a) > 1 && (a[0] == '-' || a[0] == '+'):
			on := a[0] == '-'
			for j, r := range a[1:] {
				switch {
				case r == 'e':
					errexit = on
				case r == 'u' || r == 'x':
				case r == 'o' && j == len(a)-2:
					// -eo pipefail: the option name is the next argument
					i = option(i, on)
				default:
					plain = false
				}
			}
		default:
			plain = false
		}
	}
	return errexit, pipefail, plain
}

// setOption sets the option that `-o name` (on) or `+o name` (off) names, if it is errexit or
// pipefail: the two the analysis follows (shellFlags for a shell's arguments, setFlags for set).
func setOption(name string, on bool, errexit, pipefail *bool) {
	switch name {
	case "errexit":
		*errexit = on
	case "pipefail":
		*pipefail = on
	}
}

// runnerVars are set by the runner for every step; env: cannot change them.
var runnerVars = regexp.MustCompile(`^(GITHUB|RUNNER)_[A-Z0-9_]+$|^CI$|^HOME$`)

func initialVars(env map[string]string) map[string]Word {
	vars := map[string]Word{}
	for k, v := range env {
		if runnerVars.MatchString(k) {
			continue // GitHub does not let env: override the runner's variables
		}
		vars[k] = Word{Text: Canonical(v), Known: !strings.Contains(v, "${{")}
	}
	return vars
}

// contextVars maps the github context values that the runner also exports as variables, so
// that `${{ github.repository }}` in env: and `$GITHUB_REPOSITORY` in a script read the same.
var contextVars = map[string]string{
	"github.repository":   "GITHUB_REPOSITORY",
	"github.server_url":   "GITHUB_SERVER_URL",
	"github.ref":          "GITHUB_REF",
	"github.sha":          "GITHUB_SHA",
	"github.workflow_ref": "GITHUB_WORKFLOW_REF",
	"github.workspace":    "GITHUB_WORKSPACE",
	"runner.temp":         "RUNNER_TEMP",
}

// Canonical rewrites the ${{ }} expressions of a value that stand for a runner variable into
// that variable (${{ github.repository }} -> ${GITHUB_REPOSITORY}) and normalises the spaces
// inside the others, so that two spellings of the same value compare equal.
func Canonical(v string) string {
	return ghExpr.ReplaceAllStringFunc(v, func(e string) string {
		inner := strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimPrefix(e, "${{"), "}}")), " ")
		if name, ok := contextVars[strings.ToLower(inner)]; ok {
			return "${" + name + "}"
		}
		return "${{ " + inner + " }}"
	})
}

// Find returns the commands named name whose first non-flag argument (the subcommand) is one
// of subs (any, when subs is empty). Flags before the subcommand are skipped, with their
// values when the flag is known to take one (valued).
func (s *Script) Find(name string, valued map[string]bool, subs ...string) []*Command {
	var out []*Command
	for _, c := range s.Commands {
		if c.Name != name {
			continue
		}
		if len(subs) == 0 {
			out = append(out, c)
			continue
		}
		sub, _ := c.Subcommand(valued)
		for _, want := range subs {
			if sub == want {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Subcommand returns the first argument that is not a flag (nor a flag's value) and its index.
// valued lists the flags that take a separate value (`-n ns`); a flag written `--flag=value`
// never does.
func (c *Command) Subcommand(valued map[string]bool) (string, int) {
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i].Text
		if a == "--" {
			if i+1 < len(c.Args) {
				return c.Args[i+1].Text, i + 1
			}
			return "", -1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a, i
		}
		if !strings.Contains(a, "=") && valued[a] {
			i++
		}
	}
	return "", -1
}

// Flag returns the values given to a flag: `--flag value`, `--flag=value`, and for a short
// flag `-f value`, `-fvalue`. Names are given with their dashes; several spellings may be given.
func (c *Command) Flag(names ...string) []Word {
	var out []Word
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i].Text
		if a == "--" {
			break
		}
		for _, n := range names {
			switch {
			case a == n:
				if i+1 < len(c.Args) {
					out = append(out, c.Args[i+1])
					i++
				}
			case strings.HasPrefix(a, n+"="):
				out = append(out, Word{Text: strings.TrimPrefix(a, n+"="), Known: c.Args[i].Known})
			case len(n) == 2 && n[0] == '-' && n[1] != '-' && strings.HasPrefix(a, n) && len(a) > 2 && !strings.HasPrefix(a, "--"):
				out = append(out, Word{Text: a[2:], Known: c.Args[i].Known})
			}
		}
	}
	return out
}

// Has reports whether a flag is given, with or without a value.
func (c *Command) Has(names ...string) bool {
	for _, a := range c.Args {
		if a.Text == "--" {
			return false
		}
		for _, n := range names {
			if a.Text == n || strings.HasPrefix(a.Text, n+"=") {
				return true
			}
		}
	}
	return false
}

// Operands returns the arguments that are neither flags nor the values of valued flags.
func (c *Command) Operands(valued map[string]bool) []Word {
	var out []Word
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i].Text
		switch {
		case a == "--":
			return append(out, c.Args[i+1:]...)
		case strings.HasPrefix(a, "-") && a != "-":
			if !strings.Contains(a, "=") && valued[a] {
				i++
			}
		default:
			out = append(out, c.Args[i])
		}
	}
	return out
}

// String is the command's text with where it is reached.
func (c *Command) String() string {
	if len(c.Via) == 0 {
		return c.Text
	}
	return c.Text + " (via " + strings.Join(c.Via, ", ") + ")"
}
