package workflows

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/rules"
	"github.com/platform-template/template-api/test/workflows/shell"
	"go.yaml.in/yaml/v4"
)

// The mutation suite: operators (mutations_test.go) each make one insecure change to a copy of
// the real .github/ tree, once per place it applies to (every job that deploys, every scan,
// every action...), found by what the workflows do rather than by their text. Each change must
// be refused by the rule named for it. TestSecureVariantsPass makes secure changes that every
// rule must accept.

// variant is one mutated copy of the tree.
type variant struct {
	target string
	files  mutate.Files
	rule   string // when the operator's rule depends on the target
}

// operator makes one kind of insecure change wherever it applies.
type operator struct {
	class, name, rule string
	gen               func(g *gen) []variant
}

// gen hands operators the real tree and ways to change one place of it at a time.
type gen struct {
	t    *testing.T
	base mutate.Files
}

func (g *gen) parse(p string, files mutate.Files) *mutate.Doc {
	d, err := mutate.Parse(p, files[p])
	if err != nil {
		g.t.Fatalf("%s: %v", p, err)
	}
	return d
}

// place is a job or a step of the real tree, as an operator sees it.
type place struct {
	file string
	doc  *mutate.Doc
	job  mutate.Job
	step *yaml.Node // nil for a job
}

func (p place) String() string {
	s := strings.TrimPrefix(p.file, ".github/workflows/") + "/" + p.job.ID
	if p.step != nil {
		label := mutate.Str(p.step, "name")
		if label == "" {
			label = mutate.Str(p.step, "id")
		}
		if label == "" {
			label = mutate.Uses(p.step)
		}
		if label == "" {
			label = fmt.Sprintf("step %d", mutate.StepIndex(p.job.Node, p.step))
		}
		s += "/" + label
	}
	return s
}

// jobs returns one variant per job that matches: edit changes the job in a fresh copy.
func (g *gen) jobs(match func(p place) bool, edit func(p place) bool) []variant {
	var out []variant
	for _, f := range g.base.Workflows() {
		d := g.parse(f, g.base)
		for i, j := range d.Jobs() {
			if !match(place{file: f, doc: d, job: j}) {
				continue
			}
			files := g.base.Clone()
			doc := g.parse(f, files)
			p := place{file: f, doc: doc, job: doc.Jobs()[i]}
			if !edit(p) {
				continue
			}
			files[f] = doc.Bytes()
			out = append(out, variant{target: p.String(), files: files})
		}
	}
	return out
}

// steps returns one variant per step that matches.
func (g *gen) steps(match func(p place) bool, edit func(p place) bool) []variant {
	var out []variant
	for _, f := range g.base.Workflows() {
		d := g.parse(f, g.base)
		for i, j := range d.Jobs() {
			for k, s := range mutate.Steps(j.Node) {
				if !match(place{file: f, doc: d, job: j, step: s}) {
					continue
				}
				files := g.base.Clone()
				doc := g.parse(f, files)
				job := doc.Jobs()[i]
				p := place{file: f, doc: doc, job: job, step: mutate.Steps(job.Node)[k]}
				if !edit(p) {
					continue
				}
				files[f] = doc.Bytes()
				out = append(out, variant{target: p.String(), files: files})
			}
		}
	}
	return out
}

// workflows returns one variant per workflow that matches.
func (g *gen) workflows(match func(file string, d *mutate.Doc) bool, edit func(file string, d *mutate.Doc) bool) []variant {
	var out []variant
	for _, f := range g.base.Workflows() {
		if !match(f, g.parse(f, g.base)) {
			continue
		}
		files := g.base.Clone()
		doc := g.parse(f, files)
		if !edit(f, doc) {
			continue
		}
		files[f] = doc.Bytes()
		out = append(out, variant{target: strings.TrimPrefix(f, ".github/workflows/"), files: files})
	}
	return out
}

// first keeps the first n variants (an operator whose targets are all alike).
func first(n int, vs []variant) []variant {
	if len(vs) > n {
		return vs[:n]
	}
	return vs
}

// script helpers

// runCmds lists the commands of a step's run: script.
func runCmds(step *yaml.Node) []mutate.Command {
	cmds, err := mutate.Commands(mutate.Str(step, "run"))
	if err != nil {
		return nil
	}
	return cmds
}

func stepRuns(step *yaml.Node, words ...string) bool {
	return slices.ContainsFunc(runCmds(step), func(c mutate.Command) bool { return c.Is(words...) })
}

func jobRuns(job *yaml.Node, words ...string) bool {
	return slices.ContainsFunc(mutate.Steps(job), func(s *yaml.Node) bool { return stepRuns(s, words...) })
}

func jobUses(job *yaml.Node, action string) bool {
	return slices.ContainsFunc(mutate.Steps(job), func(s *yaml.Node) bool { return mutate.Uses(s) == action })
}

// deploys reports whether a job applies to a cluster (kubectl apply, flags anywhere).
func deploysJob(job *yaml.Node) bool {
	return slices.ContainsFunc(mutate.Steps(job), func(s *yaml.Node) bool {
		return slices.ContainsFunc(runCmds(s), func(c mutate.Command) bool {
			return len(c.Words) > 0 && c.Words[0] == "kubectl" && slices.Contains(c.Words, "apply")
		})
	})
}

func appliesTerraform(job *yaml.Node) bool {
	return slices.ContainsFunc(mutate.Steps(job), func(s *yaml.Node) bool {
		return slices.ContainsFunc(runCmds(s), func(c mutate.Command) bool {
			return len(c.Words) > 1 && c.Words[0] == "terraform" && slices.Contains(c.Words, "apply")
		})
	})
}

// editRun rewrites the first command of a step's script that is words.
func editRun(step *yaml.Node, words []string, with func(script string, c mutate.Command) string) bool {
	script := mutate.Str(step, "run")
	c, ok := mutate.FindCommand(script, words...)
	if !ok {
		return false
	}
	mutate.SetStr(step, "run", with(script, c))
	return true
}

// verifyStep reports whether a step runs `cosign verify` in a job that deploys.
func verifyStep(p place) bool {
	return p.step != nil && stepRuns(p.step, "cosign", "verify") && deploysJob(p.job.Node)
}

// kubeconfigStep matches the steps of deploy jobs that write the cluster's kubeconfig.
func kubeconfigStep(p place) bool {
	return p.step != nil && stepRuns(p.step, "aws", "eks", "update-kubeconfig") && deploysJob(p.job.Node)
}

// insertBefore inserts a step before the first step matching match.
func insertBefore(job *yaml.Node, match func(*yaml.Node) bool, step *yaml.Node) bool {
	for i, s := range mutate.Steps(job) {
		if match(s) {
			mutate.InsertStep(job, i, step)
			return true
		}
	}
	return false
}

func isVerify(s *yaml.Node) bool { return stepRuns(s, "cosign", "verify") }

// TestChecksFireOnMutatedRealWorkflows runs the mutation suite and reports its kill rate.
func TestChecksFireOnMutatedRealWorkflows(t *testing.T) {
	base := realFiles(t)
	cfg := config(t)
	if fs := check(t, base, cfg); len(fs) > 0 {
		t.Fatalf("the real tree already breaks rules:\n%v", fs)
	}
	g := &gen{t: t, base: base}
	type result struct {
		class, name, target, rule string
		killed, other             bool
	}
	var results []result
	for _, op := range operators() {
		vs := op.gen(g)
		if len(vs) == 0 {
			t.Errorf("operator %s/%s finds nothing to change in the real workflows: the suite has lost a target", op.class, op.name)
			continue
		}
		for _, v := range vs {
			rule := op.rule
			if v.rule != "" {
				rule = v.rule
			}
			r := result{class: op.class, name: op.name, target: v.target, rule: rule}
			t.Run(op.class+"/"+op.name+"/"+v.target, func(t *testing.T) {
				if dir := os.Getenv("MUTATION_DUMP"); dir != "" {
					dump(t, dir, op.class+"-"+op.name+"-"+v.target, base, v.files)
				}
				validMutation(t, base, v.files)
				fs := check(t, v.files, cfg)
				var got []string
				for _, f := range fs {
					got = append(got, "  "+f.String())
					if f.Rule == rule {
						r.killed = true
					}
					if f.Rule == "workflow-syntax" && rule != "workflow-syntax" {
						t.Errorf("the mutation broke the file's syntax, so it proves nothing about [%s]: %s", rule, f)
					}
				}
				r.other = len(fs) > 0
				if !r.killed {
					t.Errorf("not refused by [%s]; findings:\n%s", rule, strings.Join(got, "\n"))
				}
			})
			results = append(results, r)
		}
	}
	// The report: per class, mutations and how many the named rule refused.
	byClass := map[string][3]int{}
	for _, r := range results {
		c := byClass[r.class]
		c[0]++
		if r.killed {
			c[1]++
		} else if r.other {
			c[2]++
		}
		byClass[r.class] = c
	}
	var classes []string
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var b strings.Builder
	total, killed := 0, 0
	fmt.Fprintf(&b, "| class | mutations | refused by the named rule | refused by another rule only |\n| --- | --- | --- | --- |\n")
	for _, c := range classes {
		n := byClass[c]
		total += n[0]
		killed += n[1]
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", c, n[0], n[1], n[2])
	}
	fmt.Fprintf(&b, "| all | %d | %d (%.1f%%) | |\n", total, killed, 100*float64(killed)/float64(max(total, 1)))
	t.Logf("mutation suite: %d single insecure changes to copies of the real workflows, %d refused by the rule named for them\n%s", total, killed, b.String())
	if p := os.Getenv("MUTATION_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	if total < 150 {
		t.Errorf("the suite makes %d mutations; it must make at least 150", total)
	}
	ruleSeen := map[string]bool{}
	for _, r := range results {
		ruleSeen[r.rule] = true
	}
	for _, r := range rules.All() {
		if !ruleSeen[r.Name] {
			t.Errorf("no mutation expects rule %s", r.Name)
		}
	}
}

// validMutation fails a mutation whose scripts no longer parse: it would be refused for that,
// not for what it means.
func validMutation(t *testing.T, base, files mutate.Files) {
	t.Helper()
	cached := pipeline.NewCached(readCache, repo.MustRoot(t), files)
	for _, w := range cached.Workflows {
		if string(base[w.Path]) == string(files[w.Path]) && !slices.ContainsFunc(slices.Collect(maps.Keys(files)), func(p string) bool {
			return strings.HasPrefix(p, ".github/actions/") && string(base[p]) != string(files[p])
		}) {
			continue // unchanged, and the real tree parses (TestRepositoryWorkflowsFollowEveryRule)
		}
		for _, j := range w.Jobs {
			for _, s := range cached.Flow(j) {
				if s.Run == "" {
					continue
				}
				if _, err := shell.Parse(s.Run, shell.Options{Shell: s.Shell}); err != nil {
					t.Errorf("%s job %s step %q no longer parses: %v", w.Path, j.ID, s.Label(), err)
				}
			}
		}
	}
}

// dump writes the files a mutation changed, for a person to read (MUTATION_DUMP=dir).
func dump(t *testing.T, dir, name string, base, files mutate.Files) {
	t.Helper()
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == ':' || r == '"' || r == '\'' {
			return '_'
		}
		return r
	}, name)
	for p, data := range files {
		if string(base[p]) == string(data) {
			continue
		}
		out := filepath.Join(dir, name, p)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
