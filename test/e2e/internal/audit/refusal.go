package audit

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Annotations the API server adds to an event (kube-apiserver v1.34, seen in this repository's
// logs; testdata/ holds real events).
const (
	// AnnotationDecision is the authorizer's verdict: "allow" or "forbid" (RBAC refusing).
	AnnotationDecision = "authorization.k8s.io/decision"
	AnnotationReason   = "authorization.k8s.io/reason"
	// AnnotationPodSecurity is the Pod Security level a Pod was judged against, e.g.
	// "restricted:latest" (written whenever Pod Security evaluated the request).
	AnnotationPodSecurity = "pod-security.kubernetes.io/enforce-policy"
	// AnnotationVAPFailure lists a ValidatingAdmissionPolicy's failures (JSON), written when its
	// binding's validationActions include Audit.
	AnnotationVAPFailure = "validation.policy.admission.k8s.io/validation_failure"
)

// Refusal takes apart the refusal the event records, with the same reading the tests apply to
// the error a client got (kube.Classify on the answer's status): the component, the denying
// webhook and policies, the reason. It is the zero Refusal for an answer below 400, and has
// Component Other for a failure that is no guardrail (a 404, a conflict).
func (e *Event) Refusal() kube.Refusal {
	if e.Code() < 400 {
		return kube.Refusal{}
	}
	return kube.Classify(&apierrors.StatusError{ErrStatus: *e.ResponseStatus})
}

// Refused reports whether a guardrail refused the request: RBAC, Pod Security, an admission
// webhook or policy (not a missing object, a conflict, or a harness fault). Only the request's
// ResponseComplete event counts, so that a refused long-running request (exec, logs) is counted
// once, not again for its ResponseStarted event.
func (e *Event) Refused() bool {
	if e.Stage != StageResponseComplete {
		return false
	}
	switch e.Refusal().Component {
	case kube.None, kube.Other, kube.ServiceAccountLookup:
		return false
	}
	return true
}

// Evidence checks that the event's annotations agree with the refusal its answer carries, where
// the API server writes one: RBAC's refusals have the authorizer's "forbid", Pod Security's
// the level it enforced. It returns what disagrees ("" when all agrees).
func (e *Event) Evidence() string {
	r := e.Refusal()
	switch r.Component {
	case kube.RBAC:
		if d := e.Annotations[AnnotationDecision]; d != "forbid" {
			return fmt.Sprintf("refused by RBAC but the authorizer's decision is %q", d)
		}
	case kube.PodSecurity:
		if e.Annotations[AnnotationPodSecurity] == "" {
			return "refused by Pod Security but no " + AnnotationPodSecurity + " annotation"
		}
		if d := e.Annotations[AnnotationDecision]; d != "allow" {
			return fmt.Sprintf("refused by Pod Security after the authorizer said %q", d)
		}
	case kube.None, kube.Other:
	default: // admission: the authorizer let it through
		if d := e.Annotations[AnnotationDecision]; d != "allow" {
			return fmt.Sprintf("refused by %s after the authorizer said %q", r.Component, d)
		}
	}
	return ""
}

// Who names the requester: the user, or the user impersonated and by whom.
func (e *Event) Who() string {
	if e.ImpersonatedUser != nil {
		return e.ImpersonatedUser.Username + " (impersonated by " + e.User.Username + ")"
	}
	return e.User.Username
}

// Actor is the user the request acted as (the impersonated one, if any).
func (e *Event) Actor() string {
	if e.ImpersonatedUser != nil {
		return e.ImpersonatedUser.Username
	}
	return e.User.Username
}

// Object names what the request was about: resource[/subresource] [namespace/]name, or the
// URL of a non-resource request.
func (e *Event) Object() string {
	o := e.ObjectRef
	if o == nil {
		return e.RequestURI
	}
	res := o.Resource
	if o.APIGroup != "" {
		res += "." + o.APIGroup
	}
	if o.Subresource != "" {
		res += "/" + o.Subresource
	}
	name := o.Name
	if o.Namespace != "" {
		name = o.Namespace + "/" + name
	}
	return strings.TrimSuffix(res+" "+name, " ")
}

// By names what refused the request, as the scoreboard does, with Pod Security's enforced
// level from the annotation.
func (e *Event) By() string {
	r := e.Refusal()
	if r.Component == kube.PodSecurity {
		if lvl := e.Annotations[AnnotationPodSecurity]; lvl != "" {
			return "Pod Security Admission (" + lvl + ")"
		}
	}
	return r.By()
}

// Line is one refused request on one line: time, who, verb, object, what refused it and why.
func (e *Event) Line() string {
	return fmt.Sprintf("%s %s: %s %s REFUSED by %s: %s", e.RequestReceivedTimestamp.UTC().Format("2006-01-02T15:04:05Z"),
		e.Who(), e.Verb, e.Object(), e.By(), oneLine(e.Refusal().Reason, 240))
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max-3] + "..."
	}
	return s
}
