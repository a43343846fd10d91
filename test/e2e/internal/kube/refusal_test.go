package kube

import (
	"errors"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestClassify(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		name      string
		err       error
		component Component
		webhook   string
		policies  map[string][]string
		reason    string
	}{
		{
			name:      "admitted",
			component: None,
		},
		{
			name:      "pod security admission",
			err:       apierrors.NewForbidden(pods, "p", errors.New(`violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true)`)),
			component: PodSecurity,
			reason:    `privileged (container "app" must not set securityContext.privileged=true)`,
		},
		{
			name: "kyverno cluster policy, two rules",
			err: apierrors.NewBadRequest(`admission webhook "validate.kyverno.svc-fail" denied the request: ` +
				"\n\nresource Deployment/app/web was blocked due to the following policies \n\nrequire-limits:\n  containers: limits required\n  init-containers: limits required on init containers\n"),
			component: Kyverno,
			webhook:   "validate.kyverno.svc-fail",
			policies:  map[string][]string{"require-limits": {"containers", "init-containers"}},
			reason:    "limits required; limits required on init containers",
		},
		{
			name: "kyverno validating policies",
			err: apierrors.NewBadRequest(`admission webhook "vpol.validate.kyverno.svc-fail" denied the request: ` +
				"Policy disallow-latest-tag failed: images must not use :latest; Policy require-probes failed: liveness probe required"),
			component: Kyverno,
			webhook:   "vpol.validate.kyverno.svc-fail",
			policies:  map[string][]string{"disallow-latest-tag": nil, "require-probes": nil},
			reason:    "images must not use :latest; liveness probe required",
		},
		{
			name: "rbac",
			err: apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "db",
				errors.New(`User "system:serviceaccount:template-api:ci-deployer" cannot get resource "secrets" in API group "" in the namespace "template-api"`)),
			component: RBAC,
			reason:    `User "system:serviceaccount:template-api:ci-deployer" cannot get resource "secrets" in API group "" in the namespace "template-api"`,
		},
		{
			name: "validating admission policy",
			err: apierrors.NewForbidden(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, "b",
				errors.New(`ValidatingAdmissionPolicy 'restrict-rbac-subjects' with binding 'restrict-rbac-subjects' denied request: rbac-subjects: ClusterRole view may not be granted to Group system:authenticated`)),
			component: AdmissionPolicy,
			policies:  map[string][]string{"restrict-rbac-subjects": nil},
			reason:    "rbac-subjects: ClusterRole view may not be granted to Group system:authenticated",
		},
		{
			name:      "limit range",
			err:       apierrors.NewForbidden(pods, "p", errors.New(`maximum cpu usage per Pod is 2, but limit is 256`)),
			component: LimitRange,
			reason:    "maximum cpu usage per Pod is 2, but limit is 256",
		},
		{
			name:      "resource quota",
			err:       apierrors.NewForbidden(pods, "p", errors.New(`exceeded quota: template-api, requested: pods=1, used: pods=20, limited: pods=20`)),
			component: ResourceQuota,
			reason:    "exceeded quota: template-api, requested: pods=1, used: pods=20, limited: pods=20",
		},
		{
			name:      "missing service account is not a guardrail",
			err:       apierrors.NewForbidden(pods, "p", errors.New(`error looking up service account template-api/default: serviceaccount "default" not found`)),
			component: ServiceAccountLookup,
		},
		{
			name:      "anything else",
			err:       apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "p", nil),
			component: Other,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Classify(tt.err)
			if r.Component != tt.component {
				t.Fatalf("component = %q, want %q (message %q)", r.Component, tt.component, r.Message)
			}
			if r.Webhook != tt.webhook {
				t.Errorf("webhook = %q, want %q", r.Webhook, tt.webhook)
			}
			if tt.policies != nil && !reflect.DeepEqual(r.Policies, tt.policies) {
				t.Errorf("policies = %v, want %v", r.Policies, tt.policies)
			}
			if tt.reason != "" && r.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", r.Reason, tt.reason)
			}
		})
	}
}
