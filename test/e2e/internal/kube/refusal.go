package kube

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Component is the part of the API server's request path that refused a request.
type Component string

// The components a refusal can come from. ServiceAccountLookup and Other are not guardrails: a
// test that sees them has a broken harness (no ServiceAccount) or an unexpected failure.
const (
	None        Component = ""
	PodSecurity Component = "PodSecurity"
	Kyverno     Component = "Kyverno"
	RBAC        Component = "RBAC"
	// AdmissionPolicy is a Kubernetes ValidatingAdmissionPolicy, evaluated inside the API server.
	AdmissionPolicy Component = "ValidatingAdmissionPolicy"
	// LimitRange and ResourceQuota are the API server's own admission plugins of those names.
	LimitRange           Component = "LimitRange"
	ResourceQuota        Component = "ResourceQuota"
	ServiceAccountLookup Component = "ServiceAccountLookup"
	Other                Component = "Other"
)

// Refusal is what the API server said when it refused a request, taken apart.
type Refusal struct {
	Component Component
	// Webhook is the admission webhook that denied (Kyverno only), e.g. validate.kyverno.svc-fail.
	Webhook string
	// Policies maps each Kyverno policy named in the denial to its rule names (ClusterPolicy) or
	// to nothing (ValidatingPolicy and ImageValidatingPolicy messages carry no rule name), or
	// the ValidatingAdmissionPolicy that denied to nothing.
	Policies map[string][]string
	// Reason is the human part: the PodSecurity violations, the policy messages, or RBAC's
	// "cannot <verb> resource ..." sentence.
	Reason string
	// Message is the whole error text.
	Message string
}

var (
	webhookDenied = regexp.MustCompile(`admission webhook "([^"]+)" denied the request:\s*`)
	podSecurity   = regexp.MustCompile(`violates PodSecurity "([^"]+)": (.*)`)
	rbacForbidden = regexp.MustCompile(`(User "[^"]+" cannot [a-z]+ resource .*)`)
	// ValidatingAdmissionPolicy 'name' with binding 'name' denied request: <message>
	admissionPolicy = regexp.MustCompile(`ValidatingAdmissionPolicy '([^']+)' with binding '[^']*' denied request: (.*)`)
	limitRange      = regexp.MustCompile(`((?:maximum|minimum) [a-z.-]+ usage per (?:Pod|Container|PersistentVolumeClaim) is .*)`)
	resourceQuota   = regexp.MustCompile(`(exceeded quota: .*)`)
	// ValidatingPolicy / ImageValidatingPolicy: "Policy <name> failed: <message>" (or "error").
	celPolicy = regexp.MustCompile(`Policy (\S+) (?:failed|error): `)
	// ClusterPolicy: "\n\nresource K/ns/n was blocked due to the following policies \n\n<policy>:\n  <rule>: <message>\n".
	blockedHeader = "was blocked due to the following policies"
	ruleLine      = regexp.MustCompile(`^  ([^:\s][^:]*): (.*)$`)
	policyLine    = regexp.MustCompile(`^([a-z0-9][a-z0-9.-]*):$`)
)

// Classify takes an error from the API server apart. A nil error gives a zero Refusal.
func Classify(err error) Refusal {
	if err == nil {
		return Refusal{}
	}
	msg := err.Error()
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		msg = status.Status().Message
	}
	r := Refusal{Component: Other, Message: msg, Reason: msg}
	switch {
	case strings.Contains(msg, "error looking up service account"):
		r.Component = ServiceAccountLookup
	case webhookDenied.MatchString(msg):
		m := webhookDenied.FindStringSubmatchIndex(msg)
		r.Webhook = msg[m[2]:m[3]]
		body := msg[m[1]:]
		if strings.Contains(r.Webhook, "kyverno") {
			r.Component = Kyverno
			r.Policies, r.Reason = kyvernoPolicies(body)
		} else {
			r.Reason = strings.TrimSpace(body)
		}
	case admissionPolicy.MatchString(msg):
		m := admissionPolicy.FindStringSubmatch(msg)
		r.Component, r.Policies, r.Reason = AdmissionPolicy, map[string][]string{m[1]: nil}, m[2]
	case podSecurity.MatchString(msg):
		r.Component = PodSecurity
		r.Reason = podSecurity.FindStringSubmatch(msg)[2]
	case apierrors.IsForbidden(err) && rbacForbidden.MatchString(msg):
		r.Component = RBAC
		r.Reason = rbacForbidden.FindStringSubmatch(msg)[1]
	case apierrors.IsForbidden(err) && limitRange.MatchString(msg):
		r.Component = LimitRange
		r.Reason = limitRange.FindStringSubmatch(msg)[1]
	case apierrors.IsForbidden(err) && resourceQuota.MatchString(msg):
		r.Component = ResourceQuota
		r.Reason = resourceQuota.FindStringSubmatch(msg)[1]
	}
	return r
}

// kyvernoPolicies reads the policy and rule names out of a Kyverno denial.
func kyvernoPolicies(body string) (map[string][]string, string) {
	policies := map[string][]string{}
	var reasons []string
	if strings.Contains(body, blockedHeader) {
		current := ""
		for _, line := range strings.Split(body, "\n") {
			if m := policyLine.FindStringSubmatch(line); m != nil {
				current = m[1]
				policies[current] = nil
				continue
			}
			if m := ruleLine.FindStringSubmatch(line); m != nil && current != "" {
				policies[current] = append(policies[current], m[1])
				reasons = append(reasons, strings.TrimSpace(m[2]))
			}
		}
		return policies, strings.Join(reasons, "; ")
	}
	idx := celPolicy.FindAllStringSubmatchIndex(body, -1)
	for i, m := range idx {
		policies[body[m[2]:m[3]]] = nil
		end := len(body)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		reasons = append(reasons, strings.TrimRight(strings.TrimSpace(body[m[1]:end]), ";"))
	}
	if len(idx) == 0 {
		reasons = append(reasons, strings.TrimSpace(body))
	}
	return policies, strings.Join(reasons, "; ")
}

// PolicyNames lists the policies of a Kyverno or ValidatingAdmissionPolicy refusal, sorted.
func (r Refusal) PolicyNames() []string {
	names := make([]string, 0, len(r.Policies))
	for n := range r.Policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// By says who refused, for scoreboards: "PodSecurity", "Kyverno/<policy>[/<rule>]", "RBAC".
func (r Refusal) By() string {
	switch r.Component {
	case Kyverno:
		var parts []string
		for _, p := range r.PolicyNames() {
			if rules := r.Policies[p]; len(rules) > 0 {
				parts = append(parts, p+"/"+strings.Join(rules, ","))
			} else {
				parts = append(parts, p)
			}
		}
		return "Kyverno " + strings.Join(parts, " + ")
	case AdmissionPolicy:
		return "ValidatingAdmissionPolicy " + strings.Join(r.PolicyNames(), " + ")
	case PodSecurity:
		return "Pod Security Admission (restricted)"
	case RBAC:
		return "RBAC"
	default:
		return string(r.Component)
	}
}

func (r Refusal) String() string {
	if r.Component == None {
		return "admitted"
	}
	return fmt.Sprintf("%s: %s", r.By(), r.Reason)
}
