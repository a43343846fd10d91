// Package kyverno runs the Kyverno CLI (the binary built from tools/kyverno) and reads what it
// decided: `kyverno apply` with a policy report, per resource, and `kyverno test`.
package kyverno

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CLI is the kyverno binary.
type CLI struct {
	Path string
}

// Subject identifies a resource in a report.
type Subject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (s Subject) String() string {
	if s.Namespace == "" {
		return s.Kind + "/" + s.Name
	}
	return s.Kind + "/" + s.Namespace + "/" + s.Name
}

// Result is one policy result for one resource.
type Result struct {
	Policy  string
	Rule    string
	Result  string // pass, fail, warn, error, skip
	Message string
}

// Report maps each resource to its results.
type Report map[Subject][]Result

// For returns the results of policy for the resource.
func (r Report) For(s Subject, policy string) []Result {
	var out []Result
	for _, res := range r[s] {
		if res.Policy == policy {
			out = append(out, res)
		}
	}
	return out
}

type policyReport struct {
	Results []struct {
		Policy    string    `json:"policy"`
		Rule      string    `json:"rule"`
		Result    string    `json:"result"`
		Message   string    `json:"message"`
		Resources []Subject `json:"resources"`
	} `json:"results"`
}

// ApplyOptions are the inputs of one `kyverno apply`.
type ApplyOptions struct {
	Policies   []string
	Resources  []string
	Exceptions []string
	ValuesFile string
	// ContextFile is a cli.kyverno.io Context with the cluster objects resource.get finds.
	ContextFile string
	// CRDs are CustomResourceDefinition files that let the CLI map custom kinds (for
	// ValidatingAdmissionPolicies on them).
	CRDs []string
	// OutputDir, when set, receives the resources that generating policies create.
	OutputDir string
	// Verbosity, when above 0, makes the engine log (to the returned output) why it decided,
	// e.g. the cosign error behind a failed signature check.
	Verbosity int
}

// Apply runs `kyverno apply` and returns its policy report, per resource. Exit status 1 with
// a report means some resource failed a policy: that is a result, not an error.
func (c CLI) Apply(ctx context.Context, o ApplyOptions) (Report, string, error) {
	args := []string{"apply"}
	args = append(args, o.Policies...)
	for _, r := range o.Resources {
		args = append(args, "--resource", r)
	}
	for _, e := range o.Exceptions {
		args = append(args, "--exception", e)
	}
	if o.ValuesFile != "" {
		args = append(args, "--values-file", o.ValuesFile)
	}
	if o.ContextFile != "" {
		args = append(args, "--context-file", o.ContextFile)
	}
	if len(o.CRDs) > 0 {
		args = append(args, "--crd-paths", strings.Join(o.CRDs, ","))
	}
	args = append(args, "--policy-report", "--output-format", "json", "--remove-color")
	if o.OutputDir != "" {
		args = append(args, "--output", o.OutputDir)
	}
	if o.Verbosity > 0 {
		args = append(args, "-v", strconv.Itoa(o.Verbosity))
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, args...) //nolint:gosec // the pinned Kyverno CLI, on test files
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	out := stdout.String() + stderr.String()
	report, found, err := parseReports(stdout.String())
	if err != nil {
		return nil, out, err
	}
	if ctx.Err() != nil {
		return nil, out, fmt.Errorf("kyverno apply did not finish within %s: %w", defaultTimeout, ctx.Err())
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, out, fmt.Errorf("run %s: %w", c.Path, runErr)
	}
	if !found {
		return nil, out, fmt.Errorf("kyverno apply printed no policy report (exit: %w):\n%s", runErr, out)
	}
	return report, out, nil
}

// defaultTimeout bounds one CLI run: a `kyverno apply` takes about a second.
const defaultTimeout = 2 * time.Minute

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultTimeout)
}

// parseReports reads the policy reports `kyverno apply --policy-report --output-format json`
// prints (one JSON document per line, sometimes glued to the text printed before it) and
// returns the results per resource, and whether any report was found.
func parseReports(stdout string) (Report, bool, error) {
	report := Report{}
	found := false
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, `{"kind":`)
		if i < 0 {
			continue
		}
		var pr policyReport
		if err := json.Unmarshal([]byte(line[i:]), &pr); err != nil {
			return nil, false, fmt.Errorf("parse kyverno apply report: %w", err)
		}
		found = true
		for _, r := range pr.Results {
			for _, s := range r.Resources {
				report[s] = append(report[s], Result{Policy: r.Policy, Rule: r.Rule, Result: r.Result, Message: r.Message})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("read kyverno apply output: %w", err)
	}
	return report, found, nil
}

// Test runs `kyverno test dir` and returns its output and whether every expectation held.
func (c CLI) Test(ctx context.Context, dir string) (string, bool, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, "test", dir, "--remove-color") //nolint:gosec // the pinned Kyverno CLI, on test files
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return string(out), false, fmt.Errorf("run %s test: %w", c.Path, err)
	}
	return string(out), err == nil, nil
}
