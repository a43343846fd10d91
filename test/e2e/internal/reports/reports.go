// Package reports reads Kyverno's policy reports (wgpolicyk8s.io/v1alpha2 PolicyReports): what
// its reports controller's background scan found when it judged the objects that exist against
// every policy, one report per object. The end-to-end tests assert them and `make demo`
// summarises them per policy.
package reports

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// The results a policy report can hold.
const (
	Pass  = "pass"
	Fail  = "fail"
	Warn  = "warn"
	Error = "error"
	Skip  = "skip"
)

// Report is one PolicyReport: the results of every policy for one object (its scope).
type Report struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Scope    *Scope            `json:"scope,omitempty"`
	Results  []Result          `json:"results,omitempty"`
}

// Scope is the object a report is about.
type Scope struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
}

// Result is one policy's (or rule's) verdict on the object.
type Result struct {
	Policy  string `json:"policy"`
	Rule    string `json:"rule,omitempty"`
	Result  string `json:"result"`
	Message string `json:"message,omitempty"`
	Source  string `json:"source,omitempty"`
}

// Object names the report's object: Kind namespace/name.
func (r Report) Object() string {
	if r.Scope == nil {
		return "(no scope) " + r.Metadata.Name
	}
	if r.Scope.Namespace != "" {
		return r.Scope.Kind + " " + r.Scope.Namespace + "/" + r.Scope.Name
	}
	return r.Scope.Kind + " " + r.Scope.Name
}

// About reports whether the report is about the object of that kind and name.
func (r Report) About(kind, name string) bool {
	return r.Scope != nil && r.Scope.Kind == kind && r.Scope.Name == name
}

// Of lists the results of one policy ("" = all).
func (r Report) Of(policy string) []Result {
	var out []Result
	for _, res := range r.Results {
		if policy == "" || res.Policy == policy {
			out = append(out, res)
		}
	}
	return out
}

// List reads the PolicyReports of a namespace.
func List(ctx context.Context, c *kube.Client, namespace string) ([]Report, error) {
	list, err := c.Dynamic.Resource(kube.GVR("wgpolicyk8s.io", "v1alpha2", "policyreports")).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the policy reports of %s: %w", namespace, err)
	}
	out := make([]Report, 0, len(list.Items))
	for _, item := range list.Items {
		var r Report
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &r); err != nil {
			return nil, fmt.Errorf("policy report %s/%s: %w", namespace, item.GetName(), err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object() < out[j].Object() })
	return out, nil
}

// Counts are the results of one policy, by verdict.
type Counts map[string]int

// ByPolicy counts the results of every report by policy and verdict.
func ByPolicy(reports []Report) map[string]Counts {
	out := map[string]Counts{}
	for _, r := range reports {
		for _, res := range r.Results {
			if out[res.Policy] == nil {
				out[res.Policy] = Counts{}
			}
			out[res.Policy][res.Result]++
		}
	}
	return out
}

// Failing lists every result that is a fail or an error, as "Kind ns/name: policy: message".
func Failing(reports []Report) []string {
	var out []string
	for _, r := range reports {
		for _, res := range r.Results {
			if res.Result == Fail || res.Result == Error {
				out = append(out, fmt.Sprintf("%s: %s %s: %s", r.Object(), res.Policy, strings.ToUpper(res.Result), oneLine(res.Message)))
			}
		}
	}
	return out
}

// Write prints one line per policy: pass, fail, warn, error and skip counts over the reports.
func Write(w io.Writer, reports []Report) {
	by := ByPolicy(reports)
	names := make([]string, 0, len(by))
	width := len("policy")
	for n := range by {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%-*s %5s %5s %5s %5s %5s\n", width, "policy", Pass, Fail, Warn, Error, Skip)
	for _, n := range names {
		c := by[n]
		fmt.Fprintf(w, "%-*s %5d %5d %5d %5d %5d\n", width, n, c[Pass], c[Fail], c[Warn], c[Error], c[Skip])
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}
