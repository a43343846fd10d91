// Package coverage checks that every Kyverno policy in a policy folder is tested: listed in
// the folder's kustomization, with a kyverno-test.yaml beside it that holds failing cases (and
// for a generating policy, an expected generated resource), so that a new policy cannot land
// untested.
package coverage

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Minimum numbers of cases per validating policy.
const (
	MinBad  = 3
	MinGood = 1
)

// Policy is one policy file of the folder.
type Policy struct {
	Kind string
	Name string
	// Dir is the folder holding policy.yaml and kyverno-test.yaml.
	Dir string
	// Resources are the resource types the policy matches ("pods", "deployments", ...).
	Resources []string
}

type policyFile struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		MatchConstraints struct {
			ResourceRules []struct {
				Resources []string `json:"resources"`
			} `json:"resourceRules"`
		} `json:"matchConstraints"`
	} `json:"spec"`
}

type testFile struct {
	Policies []string `json:"policies"`
	Results  []struct {
		Policy            string   `json:"policy"`
		Kind              string   `json:"kind"`
		Resources         []string `json:"resources"`
		Result            string   `json:"result"`
		GeneratedResource string   `json:"generatedResource"`
	} `json:"results"`
}

type kustomization struct {
	Resources []string `json:"resources"`
}

// Check returns every coverage problem found in the policy folder base (a kustomization
// listing <policy>/policy.yaml files). No problems means every policy is covered.
func Check(base string) ([]string, []Policy, error) {
	var problems []string
	listed := map[string]bool{}
	var k kustomization
	if err := readYAML(filepath.Join(base, "kustomization.yaml"), &k); err != nil {
		return nil, nil, err
	}
	for _, r := range k.Resources {
		listed[filepath.Clean(r)] = true
	}
	var files []string
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "policy.yaml" {
			rel, err := filepath.Rel(base, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walk %s: %w", base, err)
	}
	sort.Strings(files)
	// Other listed files (RBAC the policies need, ...) must not hold policies: a policy lives
	// in <policy>/policy.yaml, beside its test.
	for r := range listed {
		if slices.Contains(files, r) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(base, r)) //nolint:gosec // a file the policy folder's kustomization lists
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", r, err)
		}
		if strings.Contains(string(b), "policies.kyverno.io/") || strings.Contains(string(b), "kyverno.io/v1") {
			problems = append(problems, fmt.Sprintf("%s: holds a Kyverno policy outside a <policy>/policy.yaml file, so no test covers it", r))
		}
	}
	var policies []Policy
	for _, rel := range files {
		if !listed[rel] {
			problems = append(problems, fmt.Sprintf("%s: not listed in %s/kustomization.yaml, so never installed", rel, filepath.Base(base)))
		}
		var pf policyFile
		if err := readYAML(filepath.Join(base, rel), &pf); err != nil {
			return nil, nil, err
		}
		p := Policy{Kind: pf.Kind, Name: pf.Metadata.Name, Dir: filepath.Join(base, filepath.Dir(rel))}
		for _, rr := range pf.Spec.MatchConstraints.ResourceRules {
			p.Resources = append(p.Resources, rr.Resources...)
		}
		policies = append(policies, p)
		problems = append(problems, checkPolicy(p)...)
		if p.Kind == "ValidatingAdmissionPolicy" {
			problems = append(problems, checkBinding(base, rel, p.Name, listed)...)
		}
	}
	return problems, policies, nil
}

func checkPolicy(p Policy) []string {
	where := filepath.Base(p.Dir)
	var tf testFile
	if err := readYAML(filepath.Join(p.Dir, "kyverno-test.yaml"), &tf); err != nil {
		return []string{fmt.Sprintf("%s: %s: no kyverno-test.yaml beside the policy: %v", where, p.Name, err)}
	}
	if !slices.Contains(tf.Policies, "policy.yaml") {
		return []string{fmt.Sprintf("%s: kyverno-test.yaml does not load policy.yaml", where)}
	}
	bad, good := map[string]int{}, 0
	generated := 0
	for _, r := range tf.Results {
		if r.Policy != p.Name {
			continue
		}
		switch r.Result {
		case "fail":
			bad[r.Kind] += len(r.Resources)
		case "pass":
			good += len(r.Resources)
			if r.GeneratedResource != "" {
				generated++
			}
		}
	}
	total := 0
	for _, n := range bad {
		total += n
	}
	var problems []string
	switch p.Kind {
	case "GeneratingPolicy":
		if generated == 0 {
			problems = append(problems, fmt.Sprintf("%s: %s %s has no case with an expected generatedResource", where, p.Kind, p.Name))
		}
	case "ValidatingPolicy", "ImageValidatingPolicy", "ValidatingAdmissionPolicy":
		if total < MinBad {
			problems = append(problems, fmt.Sprintf("%s: %s %s has %d failing case(s), want at least %d", where, p.Kind, p.Name, total, MinBad))
		}
		// The good case of the image signature policy needs a signed image in a registry: it
		// is proven by the signature test, not by the offline kyverno-test.yaml.
		if p.Kind != "ImageValidatingPolicy" && good < MinGood {
			problems = append(problems, fmt.Sprintf("%s: %s %s has no passing case", where, p.Kind, p.Name))
		}
		// A policy on pods must show the bad case as a Pod and as the controllers that make
		// pods, since those are matched by their own rules (a bare ReplicaSet or a
		// ReplicationController is a workload like any other).
		for resource, kind := range map[string]string{"pods": "Pod", "deployments": "Deployment", "cronjobs": "CronJob",
			"replicasets": "ReplicaSet", "replicationcontrollers": "ReplicationController"} {
			if slices.Contains(p.Resources, resource) && bad[kind] == 0 {
				problems = append(problems, fmt.Sprintf("%s: %s %s matches %s but has no failing %s case", where, p.Kind, p.Name, resource, kind))
			}
		}
	default:
		problems = append(problems, fmt.Sprintf("%s: unexpected policy kind %q (want a policies.kyverno.io kind or a ValidatingAdmissionPolicy)", where, p.Kind))
	}
	return problems
}

// checkBinding: a ValidatingAdmissionPolicy does nothing without a binding, so one must lie
// beside it (binding.yaml), name it, and be listed in the kustomization.
func checkBinding(base, policyRel, name string, listed map[string]bool) []string {
	rel := filepath.Join(filepath.Dir(policyRel), "binding.yaml")
	var b struct {
		Kind string `json:"kind"`
		Spec struct {
			PolicyName        string   `json:"policyName"`
			ValidationActions []string `json:"validationActions"`
		} `json:"spec"`
	}
	if err := readYAML(filepath.Join(base, rel), &b); err != nil {
		return []string{fmt.Sprintf("%s: ValidatingAdmissionPolicy %s has no binding beside it, so it is never in force: %v", rel, name, err)}
	}
	var problems []string
	if b.Kind != "ValidatingAdmissionPolicyBinding" || b.Spec.PolicyName != name {
		problems = append(problems, fmt.Sprintf("%s: not a ValidatingAdmissionPolicyBinding of %s", rel, name))
	}
	if len(b.Spec.ValidationActions) == 0 {
		problems = append(problems, fmt.Sprintf("%s: no validationActions", rel))
	}
	if !listed[rel] {
		problems = append(problems, fmt.Sprintf("%s: not listed in %s/kustomization.yaml, so never installed", rel, filepath.Base(base)))
	}
	return problems
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path) //nolint:gosec // files of the policy folder under test
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	// A leading comment block is fine; a file must hold one document.
	if strings.Count(string(b), "\n---") > 0 && !strings.HasPrefix(strings.TrimSpace(string(b)), "---") {
		return fmt.Errorf("%s: expected a single YAML document", path)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
