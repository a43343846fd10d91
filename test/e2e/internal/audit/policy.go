package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Policy is an audit.k8s.io/v1 Policy (the fields kube-apiserver v1.34 reads).
type Policy struct {
	APIVersion        string       `json:"apiVersion"`
	Kind              string       `json:"kind"`
	Metadata          any          `json:"metadata,omitempty"`
	OmitStages        []string     `json:"omitStages,omitempty"`
	OmitManagedFields bool         `json:"omitManagedFields,omitempty"`
	Rules             []PolicyRule `json:"rules"`
}

// PolicyRule is one rule; the first rule that matches a request gives its level.
type PolicyRule struct {
	Level             string           `json:"level"`
	Users             []string         `json:"users,omitempty"`
	UserGroups        []string         `json:"userGroups,omitempty"`
	Verbs             []string         `json:"verbs,omitempty"`
	Resources         []GroupResources `json:"resources,omitempty"`
	Namespaces        []string         `json:"namespaces,omitempty"`
	NonResourceURLs   []string         `json:"nonResourceURLs,omitempty"`
	OmitStages        []string         `json:"omitStages,omitempty"`
	OmitManagedFields *bool            `json:"omitManagedFields,omitempty"`
}

// GroupResources selects resources of one API group ("" is the core group).
type GroupResources struct {
	Group         string   `json:"group"`
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// LoadPolicy reads an audit policy file strictly: a field the API server would not know is an
// error here too.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the audit policy: %w", err)
	}
	var p Policy
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		return nil, fmt.Errorf("audit policy %s: %w", path, err)
	}
	if p.APIVersion != "audit.k8s.io/v1" || p.Kind != "Policy" {
		return nil, fmt.Errorf("audit policy %s is %s %s, want audit.k8s.io/v1 Policy", path, p.APIVersion, p.Kind)
	}
	for i, r := range p.Rules {
		if levelRank(r.Level) < 0 {
			return nil, fmt.Errorf("audit policy %s: rule %d has level %q", path, i+1, r.Level)
		}
	}
	return &p, nil
}

// Request describes a request for Level: who, what verb, and either a resource or a path.
type Request struct {
	User   string
	Groups []string
	Verb   string
	// A resource request names its resource; a non-resource request only its Path.
	APIGroup, Resource, Subresource, Namespace, Name string
	Path                                             string
}

// Level gives the level a request is recorded at, and the index of the rule that decided it
// (-1: no rule matched, nothing is recorded). The matching follows kube-apiserver's policy
// checker (k8s.io/apiserver/pkg/audit/policy/checker.go, ruleMatches): every selector a rule
// sets must match; the first matching rule wins.
func (p *Policy) Level(r Request) (string, int) {
	for i, rule := range p.Rules {
		if rule.matches(r) {
			return rule.Level, i
		}
	}
	return LevelNone, -1
}

func (rule PolicyRule) matches(r Request) bool {
	if len(rule.Users) > 0 && !slices.Contains(rule.Users, r.User) {
		return false
	}
	if len(rule.UserGroups) > 0 && !slices.ContainsFunc(r.Groups, func(g string) bool { return slices.Contains(rule.UserGroups, g) }) {
		return false
	}
	if len(rule.Verbs) > 0 && !slices.Contains(rule.Verbs, r.Verb) {
		return false
	}
	if len(rule.Namespaces) > 0 || len(rule.Resources) > 0 {
		return rule.matchesResource(r)
	}
	if len(rule.NonResourceURLs) > 0 {
		if r.Resource != "" {
			return false
		}
		return slices.ContainsFunc(rule.NonResourceURLs, func(spec string) bool { return pathMatches(r.Path, spec) })
	}
	return true
}

func pathMatches(path, spec string) bool {
	return spec == "*" || spec == path || (strings.HasSuffix(spec, "*") && strings.HasPrefix(path, strings.TrimRight(spec, "*")))
}

func (rule PolicyRule) matchesResource(r Request) bool {
	if r.Resource == "" {
		return false
	}
	if len(rule.Namespaces) > 0 && !slices.Contains(rule.Namespaces, r.Namespace) {
		return false
	}
	if len(rule.Resources) == 0 {
		return true
	}
	combined := r.Resource
	if r.Subresource != "" {
		combined += "/" + r.Subresource
	}
	for _, gr := range rule.Resources {
		if gr.Group != r.APIGroup {
			continue
		}
		if len(gr.Resources) == 0 {
			return true
		}
		if len(gr.ResourceNames) > 0 && !slices.Contains(gr.ResourceNames, r.Name) {
			continue
		}
		for _, res := range gr.Resources {
			switch {
			case res == combined || res == "*":
				return true
			case r.Subresource != "" && strings.HasPrefix(res, "*/") && r.Subresource == strings.TrimPrefix(res, "*/"):
				return true
			case strings.HasSuffix(res, "/*") && r.Resource == strings.TrimSuffix(res, "/*"):
				return true
			}
		}
	}
	return false
}

// levelRank orders the levels (-1: not a level).
func levelRank(l string) int {
	return slices.Index([]string{LevelNone, LevelMetadata, LevelRequest, LevelRequestResponse}, l)
}

// Above reports whether level a records more than level b.
func Above(a, b string) bool { return levelRank(a) > levelRank(b) }
