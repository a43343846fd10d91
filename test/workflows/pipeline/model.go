// Package pipeline reads everything under .github/ the way GitHub does (workflows through
// actionlint's parser, which resolves YAML anchors and aliases and refuses merge keys and
// duplicate keys, as GitHub does; composite actions with the same rules) into one model that
// the rules check: workflows, jobs, steps, local composite actions, and the files they run.
package pipeline

import (
	"sort"
	"strings"
)

// Workflow is one workflow file.
type Workflow struct {
	Path        string
	Name        string
	Triggers    []*Trigger
	Permissions *Permissions // nil when absent
	Env         Env
	Shell       string // defaults.run.shell
	WorkingDir  string // defaults.run.working-directory
	Concurrency *Concurrency
	Jobs        []*Job // in file order
}

// Trigger is one event under on:, with its filters.
type Trigger struct {
	Event                    string
	Line                     int
	Branches, BranchesIgnore []string
	Tags, TagsIgnore         []string
	Paths, PathsIgnore       []string
	Types                    []string
	Workflows                []string // workflow_run
	HasBranches, HasTags     bool     // a branches/branches-ignore or tags/tags-ignore filter is set
}

// Permissions is a permissions block: a shorthand (read-all, write-all) or scopes.
type Permissions struct {
	Line   int
	All    string
	Scopes map[string]string
}

// Writes lists the scopes granted write access; "*" for write-all.
func (p *Permissions) Writes() []string {
	if p == nil {
		return nil
	}
	if p.All == "write-all" {
		return []string{"*"}
	}
	var w []string
	for s, a := range p.Scopes {
		if a == "write" {
			w = append(w, s)
		}
	}
	sort.Strings(w)
	return w
}

// Concurrency is a concurrency block.
type Concurrency struct {
	Group            string
	CancelInProgress string // "", "true", "false" or an expression
}

// Env is an env: block. Expr is set when the whole block is one expression.
type Env struct {
	Vars map[string]string
	Expr string
	Line int
}

// Job is one job.
type Job struct {
	ID          string
	Line        int
	Name        string
	If          string
	IfLine      int
	Needs       []string
	RunsOn      []string // labels
	RunsOnExpr  string   // runs-on given as an expression
	RunnerGroup string
	Permissions *Permissions
	Environment string // name ("" when none)
	EnvLine     int
	Concurrency *Concurrency
	Timeout     string // timeout-minutes: a number or an expression; "" when absent
	// ContinueOnError is "" when absent, "true"/"false", or an expression.
	ContinueOnError string
	Env             Env
	Shell           string // defaults.run.shell of the job
	WorkingDir      string // defaults.run.working-directory of the job
	Outputs         map[string]string
	// Matrix lists the values each matrix key can take (rows and include entries).
	Matrix     map[string][]string
	MatrixExpr bool
	// MatrixExprs holds the matrix rows given as one expression (target: ${{ fromJSON(...) }}).
	MatrixExprs map[string]string
	Images      map[string]string // container and service images, by "container" / "service <id>"
	Call        *Call             // a reusable workflow call
	Steps       []*Step
}

// Call is a job that calls a reusable workflow.
type Call struct {
	Uses           string
	Line           int
	Comment        string // the comment after uses: (the version)
	With           map[string]string
	Secrets        map[string]string
	InheritSecrets bool
}

// Step is one step of a job or of a composite action.
type Step struct {
	Index           int
	Line            int
	Name            string
	ID              string
	If              string
	Uses            string
	UsesLine        int
	UsesComment     string
	With            map[string]string
	Run             string
	RunLine         int // the line of run: (of its | or > for a block)
	ScriptLine      int // the line of the script's first line
	Shell           string
	WorkingDir      string // working-directory of a run step
	Env             Env
	ContinueOnError string
	// In is the composite action the step belongs to (its directory), "" for a job's own step.
	In string
	// Parent is the job step that uses the composite action this step belongs to.
	Parent *Step
}

// Label names a step in messages: its name, else its id, else what it uses or runs.
func (s *Step) Label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.ID != "":
		return s.ID
	case s.Uses != "":
		return s.Uses
	}
	first, _, _ := strings.Cut(strings.TrimSpace(s.Run), "\n")
	return first
}

// Action returns what a step uses without its ref, lower case ("actions/checkout",
// "github/codeql-action/upload-sarif"); "" for run steps, local actions and docker:// images.
func (s *Step) Action() string { return ActionName(s.Uses) }

// ActionName is the action part of a uses: value, lower case.
func ActionName(uses string) string {
	if uses == "" || strings.HasPrefix(uses, "./") || strings.HasPrefix(uses, "docker://") {
		return ""
	}
	name, _, _ := strings.Cut(uses, "@")
	return strings.ToLower(name)
}

// Repository is the owner/repo an action or reusable workflow lives in, lower case.
func Repository(uses string) string {
	name := ActionName(uses)
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return name
	}
	return parts[0] + "/" + parts[1]
}

// Local reports whether a uses: value names something in this repository.
func Local(uses string) bool { return strings.HasPrefix(uses, "./") }

// Action is a composite (or other) action of this repository, read from its action.yml.
type Action struct {
	Path  string // .github/actions/x/action.yml
	Dir   string // .github/actions/x
	Name  string
	Using string // composite, node24, docker...
	Image string // runs.image of a docker action
	Steps []*Step
}
