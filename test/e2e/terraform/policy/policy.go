// Package policy evaluates the Terraform guardrails of policies/terraform (Rego) on the JSON of
// `terraform show -json <planfile>`, with OPA's Go packages. The Terratest suite and the CI gate
// (cmd/tfpolicy, `make tf-policy`) both use it, so a plan is judged the same way in both.
package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Query is the rule every caller reads: a set of {rule, address, msg} objects.
const Query = "data.terraform.guardrails.violations"

// Params are the facts the caller vouches for and the plan cannot prove about itself.
type Params struct {
	// Environment whose rules apply: "staging" or "production". Empty applies production's,
	// the strictest.
	Environment string
	// AccountID is the account the plan is for (12 digits): principals of any other account are
	// foreign. Empty falls back to the root module's account_id variable of the plan.
	AccountID string
}

// Violation is one refusal: the rule that fired, the resource it is about, and why.
type Violation struct {
	Rule    string
	Address string
	Message string
}

// String is the form the tests and the gate print: "rule: address: message".
func (v Violation) String() string {
	return v.Rule + ": " + v.Address + ": " + v.Message
}

// Engine holds the compiled policies.
type Engine struct {
	query rego.PreparedEvalQuery
	store storage.Store
	files int
}

// Load compiles every .rego file of dir except the tests (*_test.rego).
func Load(ctx context.Context, dir string) (*Engine, error) {
	var modules []func(*rego.Rego)
	fsys := os.DirFS(dir)
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return nil
		}
		src, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		modules = append(modules, rego.Module(filepath.Join(dir, path), string(src)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the policies in %s: %w", dir, err)
	}
	if len(modules) == 0 {
		return nil, fmt.Errorf("no .rego policy in %s", dir)
	}
	store := inmem.NewFromObject(map[string]any{"terraform": map[string]any{"params": map[string]any{}}})
	opts := append([]func(*rego.Rego){rego.Query(Query), rego.Store(store)}, modules...)
	q, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("compile the policies in %s: %w", dir, err)
	}
	return &Engine{query: q, store: store, files: len(modules)}, nil
}

// Files is the number of policy files compiled.
func (e *Engine) Files() int { return e.files }

// Evaluate judges one plan (the parsed JSON of terraform show -json) and returns its violations,
// sorted.
func (e *Engine) Evaluate(ctx context.Context, plan map[string]any, p Params) ([]Violation, error) {
	if plan == nil {
		return nil, errors.New("no plan to judge")
	}
	if _, ok := plan["resource_changes"]; !ok {
		if _, ok := plan["planned_values"]; !ok {
			return nil, errors.New("this JSON is not a plan (no resource_changes, no planned_values): give the output of terraform show -json <planfile>")
		}
	}
	// The params go into the store for this evaluation only (a write transaction, never
	// committed), so one Engine serves any number of plans, one at a time.
	txn, err := e.store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		return nil, fmt.Errorf("open a store transaction: %w", err)
	}
	defer e.store.Abort(ctx, txn)
	params := map[string]any{"environment": p.Environment, "account_id": p.AccountID}
	if err := e.store.Write(ctx, txn, storage.ReplaceOp, storage.MustParsePath("/terraform/params"), params); err != nil {
		return nil, fmt.Errorf("set the params: %w", err)
	}
	rs, err := e.query.Eval(ctx, rego.EvalInput(plan), rego.EvalTransaction(txn))
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", Query, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("the policies define no %s", Query)
	}
	raw, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is %T, want a set", Query, rs[0].Expressions[0].Value)
	}
	out := make([]Violation, 0, len(raw))
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s holds %T, want objects", Query, r)
		}
		rule, _ := m["rule"].(string)
		addr, _ := m["address"].(string)
		msg, _ := m["msg"].(string)
		if rule == "" || addr == "" || msg == "" {
			return nil, fmt.Errorf("%s holds %v: want rule, address and msg", Query, m)
		}
		out = append(out, Violation{Rule: rule, Address: addr, Message: msg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}
