package scenario

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Who refuses, for the table below.
var (
	byRBAC = func(reason string) Want { return Want{Component: kube.RBAC, Reason: reason} }
	byPSA  = func(reason string) Want { return Want{Component: kube.PodSecurity, Reason: reason} }
	byVAP  = func(policy, reason string) Want {
		return Want{Component: kube.AdmissionPolicy, Policy: policy, Reason: reason}
	}
	byKyverno = func(policy, reason string) Want { return Want{Component: kube.Kyverno, Policy: policy, Reason: reason} }
	byLimits  = func(reason string) Want { return Want{Component: kube.LimitRange, Reason: reason} }
	admitted  = Want{}
)

// The policies named below.
const (
	polBindings   = "disallow-service-account-cluster-admin"
	polRoles      = "restrict-bound-role-changes"
	polSubjects   = "restrict-rbac-subjects"
	polPlatform   = "restrict-platform-namespace-rbac"
	polNamespaces = "restrict-namespace-security-labels"
	polExceptions = "restrict-policy-exceptions"
	polPodSec     = "pod-security-restricted"
	polSignatures = "verify-image-signatures"
	polRegistries = "restrict-image-registries"
	polTags       = "restrict-image-tags"
	polReadOnly   = "require-read-only-root-fs"
	polResources  = "require-requests-limits"
	polSecrets    = "restrict-secret-and-identity-use"
	polScheduling = "restrict-scheduling"
	polHPAPDB     = "restrict-hpa-and-pdb"
	polCeilings   = "respect-namespace-ceilings"
	polServices   = "restrict-service-types"
)

var (
	rbacGroup = []string{"rbac.authorization.k8s.io"}
	core      = []string{""}
	every     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	read      = []string{"get", "list", "watch"}
	ci        = CIDeployer
	appSA     = saSubject(Namespace, "template-api")
	ciSA      = saSubject(Namespace, "ci-deployer")
)

// RedTeam is the red-team table: at least 80 bad requests across the classes of the admission
// bypasses (RBAC power for workload identities, namespaces nobody guarded, `kubectl debug`,
// kinds the filters skipped, a Secret read without `get secrets`, missing ceilings, the root
// group), by the cluster admin and by the CI deployer, each with who must refuse it and why,
// and the good controls that must stay admitted.
func RedTeam() []Attempt {
	var t []Attempt
	t = append(t, rbacAttempts()...)
	t = append(t, namespaceAttempts()...)
	t = append(t, debugAttempts()...)
	t = append(t, kindAttempts()...)
	t = append(t, exfiltrationAttempts()...)
	t = append(t, ceilingAttempts()...)
	t = append(t, groupAttempts()...)
	t = append(t, secondRound()...)
	t = append(t, thirdRound()...)
	t = append(t, fourthRound()...)
	t = append(t, fifthRound()...)
	t = append(t, sixthRound()...)
	t = append(t, seventhRound()...)
	t = append(t, eighthRound()...)
	return t
}

func rbacAttempts() []Attempt {
	const c = "rbac"
	create := func(name, what string, obj func(Base) *unstructured.Unstructured, want Want, setup ...func(Base) *unstructured.Unstructured) Attempt {
		return Attempt{Name: name, Class: c, What: what, Op: OpCreate, Object: obj, Want: want, Setup: setup}
	}
	return []Attempt{
		// Subjects that are every ServiceAccount, every caller, or a ServiceAccount in disguise.
		create("crb-sa-group-of-namespace", "cluster-admin for every ServiceAccount of the app namespace (group)",
			clusterBinding("rt-sa-group-ns", "cluster-admin", groupSubject("system:serviceaccounts:"+Namespace)),
			byVAP(polSubjects, "Group system:serviceaccounts:template-api")),
		create("crb-every-sa", "cluster-admin for every ServiceAccount (group system:serviceaccounts)",
			clusterBinding("rt-every-sa", "cluster-admin", groupSubject("system:serviceaccounts")),
			byVAP(polSubjects, "every ServiceAccount or every caller")),
		create("crb-authenticated", "cluster-admin for every authenticated caller",
			clusterBinding("rt-authenticated", "cluster-admin", groupSubject("system:authenticated")),
			byVAP(polSubjects, "Group system:authenticated")),
		create("crb-unauthenticated-view", "even view, for every unauthenticated caller",
			clusterBinding("rt-unauthenticated", "view", groupSubject("system:unauthenticated")),
			byVAP(polSubjects, "Group system:unauthenticated")),
		create("crb-anonymous-user", "view for the User system:anonymous",
			clusterBinding("rt-anonymous", "view", userSubject("system:anonymous")),
			byVAP(polSubjects, "User system:anonymous")),
		create("rb-sa-group-edit", "edit for every ServiceAccount of the namespace (RoleBinding)",
			nsBinding(Namespace, "rt-sa-group-edit", "ClusterRole", "edit", groupSubject("system:serviceaccounts:"+Namespace)),
			byVAP(polSubjects, "system:serviceaccounts:template-api")),
		create("crb-user-spelled-like-sa", "cluster-admin for a User named like the CI ServiceAccount",
			clusterBinding("rt-user-as-sa", "cluster-admin", userSubject(CIDeployer)),
			byVAP(polSubjects, "ServiceAccount spelled as a User")),
		create("rb-user-spelled-like-sa", "admin in the namespace for a User named like the app's ServiceAccount",
			nsBinding(Namespace, "rt-user-as-sa", "ClusterRole", "admin", userSubject("system:serviceaccount:template-api:template-api")),
			byVAP(polSubjects, "ServiceAccount spelled as a User")),

		// The power a role grants, whatever its name.
		create("crb-cluster-admin", "cluster-admin for the app's ServiceAccount",
			clusterBinding("rt-cluster-admin", "cluster-admin", appSA),
			byKyverno(polBindings, "binding cluster-admin to a workload identity is not allowed")),
		create("crb-ci-group-cluster-admin", "cluster-admin for the CI group (EKS access entry)",
			clusterBinding("rt-ci-group", "cluster-admin", groupSubject("template-api:ci-deployers")),
			byKyverno(polBindings, "(Group template-api:ci-deployers)")),
		create("rb-admin", "admin in the namespace for the CI ServiceAccount",
			nsBinding(Namespace, "rt-admin", "ClusterRole", "admin", ciSA),
			byKyverno(polBindings, "writing RBAC")),
		create("rb-edit", "edit in the namespace for the app's ServiceAccount",
			nsBinding(Namespace, "rt-edit", "ClusterRole", "edit", appSA),
			byKyverno(polBindings, "entering running pods")),
		create("crb-copy-of-cluster-admin", "a copy of cluster-admin under another name",
			clusterBinding("rt-copy", "rt-superuser", ciSA),
			byKyverno(polBindings, "ClusterRole rt-superuser grants wildcards"),
			clusterRole("rt-superuser", nil, rule([]string{"*"}, []string{"*"}, []string{"*"}))),
		create("crb-every-verb", "a role listing every verb instead of *",
			clusterBinding("rt-every-verb", "rt-every-verb", ciSA),
			byKyverno(polBindings, "wildcards"),
			clusterRole("rt-every-verb", nil, rule([]string{"*"}, []string{"*"}, every))),
		create("rb-every-verb-every-resource-listed", "every verb on a list of resources that includes Secrets",
			nsBinding(Namespace, "rt-listed", "Role", "rt-listed", ciSA),
			byKyverno(polBindings, "grants reading Secrets"),
			nsRole(Namespace, "rt-listed", rule([]string{"", "apps"}, []string{"pods", "services", "configmaps", "secrets", "deployments"}, every))),
		create("crb-aggregates-wildcard", "a role that aggregates a wildcard role",
			clusterBinding("rt-aggregator", "rt-aggregator", appSA),
			byKyverno(polBindings, "ClusterRole rt-aggregator grants wildcards"),
			clusterRole("rt-aggregated-child", map[string]string{"rt-team": "ops"}, rule([]string{"*"}, []string{"*"}, []string{"*"})),
			aggregatedClusterRole("rt-aggregator", map[string]string{"rt-team": "ops"})),
		create("crb-aggregation-controller-role", "the built-in aggregation controller's role (escalate on ClusterRoles)",
			clusterBinding("rt-aggregation-controller", "system:controller:clusterrole-aggregation-controller", ciSA),
			byKyverno(polBindings, "escalate, bind or impersonate")),
		create("rb-impersonate", "a Role that impersonates",
			nsBinding(Namespace, "rt-impersonate", "Role", "rt-impersonate", appSA),
			byKyverno(polBindings, "escalate, bind or impersonate"),
			nsRole(Namespace, "rt-impersonate", rule(core, []string{"serviceaccounts"}, []string{"impersonate"}))),
		create("rb-escalate", "a Role that may escalate Roles",
			nsBinding(Namespace, "rt-escalate", "Role", "rt-escalate", ciSA),
			byKyverno(polBindings, "escalate, bind or impersonate"),
			nsRole(Namespace, "rt-escalate", rule(rbacGroup, []string{"roles"}, []string{"get", "escalate"}))),
		create("crb-bind", "a ClusterRole that may bind any ClusterRole",
			clusterBinding("rt-bind", "rt-bind", ciSA),
			byKyverno(polBindings, "escalate, bind or impersonate"),
			clusterRole("rt-bind", nil, rule(rbacGroup, []string{"clusterroles"}, []string{"bind"}))),
		create("rb-secret-by-name", "read one Secret, by name",
			nsBinding(Namespace, "rt-one-secret", "Role", "rt-one-secret", appSA),
			byKyverno(polBindings, "reading Secrets"),
			nsRole(Namespace, "rt-one-secret", rbacv1.PolicyRule{APIGroups: core, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"template-api-db"}})),
		create("rb-token-request", "mint tokens for the namespace's ServiceAccounts",
			nsBinding(Namespace, "rt-tokens", "Role", "rt-tokens", ciSA),
			byKyverno(polBindings, "minting ServiceAccount tokens"),
			nsRole(Namespace, "rt-tokens", rule(core, []string{"serviceaccounts/token"}, []string{"create"}))),
		create("rb-exec", "exec into the app's pods",
			nsBinding(Namespace, "rt-exec", "Role", "rt-exec", ciSA),
			byKyverno(polBindings, "entering running pods"),
			nsRole(Namespace, "rt-exec", rule(core, []string{"pods/exec"}, []string{"create"}))),
		create("rb-pods-every-subresource", "pods/* (exec and debug included)",
			nsBinding(Namespace, "rt-pods-star", "Role", "rt-pods-star", ciSA),
			byKyverno(polBindings, "entering running pods"),
			nsRole(Namespace, "rt-pods-star", rule(core, []string{"pods/*"}, []string{"get", "create", "update"}))),
		create("rb-role-writer", "write Roles and RoleBindings in the namespace",
			nsBinding(Namespace, "rt-role-writer", "Role", "rt-role-writer", ciSA),
			byKyverno(polBindings, "writing RBAC"),
			nsRole(Namespace, "rt-role-writer", rule(rbacGroup, []string{"roles", "rolebindings"}, []string{"create", "update"}))),
		create("rb-namespace-labeller", "patch its own Namespace (its Pod Security labels)",
			nsBinding(Namespace, "rt-ns-patch", "Role", "rt-ns-patch", ciSA),
			byKyverno(polBindings, "changing namespaces"),
			nsRole(Namespace, "rt-ns-patch", rule(core, []string{"namespaces"}, []string{"get", "patch"}))),
		create("crb-policy-exception-writer", "write Kyverno PolicyExceptions",
			clusterBinding("rt-polex-writer", "rt-polex-writer", ciSA),
			byKyverno(polBindings, "writing admission control"),
			clusterRole("rt-polex-writer", nil, rule([]string{"policies.kyverno.io"}, []string{"policyexceptions"}, []string{"create"}))),
		create("crb-webhook-delete", "delete admission webhooks",
			clusterBinding("rt-webhooks", "rt-webhooks", ciSA),
			byKyverno(polBindings, "writing admission control"),
			clusterRole("rt-webhooks", nil, rule([]string{"admissionregistration.k8s.io"}, []string{"validatingwebhookconfigurations"}, []string{"delete"}))),
		create("crb-workloads-everywhere", "create Deployments in every namespace, kube-system included",
			clusterBinding("rt-deployments", "rt-deployments", ciSA),
			byKyverno(polBindings, "writing in every namespace"),
			clusterRole("rt-deployments", nil, rule([]string{"apps"}, []string{"deployments"}, []string{"create"}))),
		create("crb-named-like-kyverno", "a ClusterRoleBinding named like Kyverno's own (filtered by name upstream)",
			clusterBinding("kyverno:admission-controller", "cluster-admin", ciSA),
			byKyverno(polBindings, "binding cluster-admin to a workload identity is not allowed")),
		{Name: "widen-bound-role", Class: c, What: "a harmless Role bound to the app, widened afterwards to read Secrets",
			Op: OpUpdate, Object: nsRole(Namespace, "rt-harmless", rule(core, []string{"configmaps"}, read)),
			Mutate: addRules(rule(core, []string{"secrets"}, read)),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole(Namespace, "rt-harmless", rule(core, []string{"configmaps"}, read)),
				nsBinding(Namespace, "rt-harmless", "Role", "rt-harmless", appSA)},
			Want: byKyverno(polRoles, "would grant reading Secrets to workload identities through RoleBinding template-api/rt-harmless")},
		{Name: "bind-first-create-later", Class: c, What: "bind a Role that does not exist yet, then create it with *",
			Op: OpCreate, Object: nsRole(Namespace, "rt-later", rule([]string{"*"}, []string{"*"}, []string{"*"})),
			Setup: []func(Base) *unstructured.Unstructured{nsBinding(Namespace, "rt-later", "Role", "rt-later", ciSA)},
			Want:  byKyverno(polRoles, "would grant wildcards")},
		{Name: "widen-bound-clusterrole", Class: c, What: "a read-only ClusterRole bound cluster-wide, widened to write Deployments",
			Op: OpUpdate, Object: clusterRole("rt-reader", nil, rule(core, []string{"pods"}, read)),
			Mutate: addRules(rule([]string{"apps"}, []string{"deployments"}, []string{"create"})),
			Setup: []func(Base) *unstructured.Unstructured{
				clusterRole("rt-reader", nil, rule(core, []string{"pods"}, read)),
				clusterBinding("rt-reader", "rt-reader", appSA)},
			Want: byKyverno(polRoles, "writing in every namespace")},
		{Name: "widen-view-by-aggregation", Class: c, What: "a ClusterRole labelled aggregate-to-view that reads Secrets, while view is bound to the app",
			Op: OpCreate, Object: clusterRole("rt-into-view", map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}, rule(core, []string{"secrets"}, read)),
			Setup: []func(Base) *unstructured.Unstructured{nsBinding(Namespace, "rt-view", "ClusterRole", "view", appSA)},
			Want:  byKyverno(polRoles, "(of view, which aggregates it)")},

		// The namespaces Kyverno does not see.
		create("rb-kube-system-cluster-admin", "cluster-admin in kube-system for the CI ServiceAccount",
			nsBinding("kube-system", "rt-kube-system", "ClusterRole", "cluster-admin", ciSA),
			byVAP(polPlatform, "nothing in kube-system may be granted to identities from outside the platform")),
		create("rb-kyverno-admin-for-ci", "admin in the kyverno namespace for the CI ServiceAccount (then a PolicyException)",
			nsBinding("kyverno", "rt-kyverno", "ClusterRole", "admin", ciSA),
			byVAP(polPlatform, "ServiceAccount template-api/ci-deployer")),
		create("rb-kyverno-edit-for-ci-group", "edit in the kyverno namespace for the CI group",
			nsBinding("kyverno", "rt-kyverno-group", "ClusterRole", "edit", groupSubject("template-api:ci-deployers")),
			byVAP(polPlatform, "Group template-api:ci-deployers")),
		create("rb-kube-system-person", "view in kube-system for a person",
			nsBinding("kube-system", "rt-kube-system-user", "ClusterRole", "view", userSubject("mallory@example.com")),
			byVAP(polPlatform, "User mallory@example.com")),
		create("rb-kube-public-edit", "edit in kube-public for the app (judged now that the filter is gone)",
			nsBinding("kube-public", "rt-kube-public", "ClusterRole", "edit", appSA),
			byKyverno(polBindings, "reading Secrets")),
		create("rb-kube-node-lease-admin", "admin in kube-node-lease for the CI ServiceAccount",
			nsBinding("kube-node-lease", "rt-node-lease", "ClusterRole", "admin", ciSA),
			byKyverno(polBindings, "writing RBAC")),

		// The CI deployer itself.
		{Name: "ci-create-clusterrolebinding", Class: c, What: "CI binding itself cluster-admin", As: ci, Op: OpCreate,
			Object: clusterBinding("rt-ci-self", "cluster-admin", ciSA), Want: byRBAC(`cannot create resource "clusterrolebindings"`)},
		{Name: "ci-create-role", Class: c, What: "CI writing itself a Role", As: ci, Op: OpCreate,
			Object: nsRole(Namespace, "rt-ci-role", rule(core, []string{"secrets"}, read)), Want: byRBAC(`cannot create resource "roles"`)},
		{Name: "ci-token-request", Class: c, What: "CI minting a token for the app's ServiceAccount", As: ci, Op: OpToken,
			Object: refTo("v1", "ServiceAccount", Namespace, "template-api"), Want: byRBAC(`cannot create resource "serviceaccounts/token"`)},
		{Name: "ci-exec", Class: c, What: "CI exec into a pod", As: ci, Op: OpExec,
			Object: func(b Base) *unstructured.Unstructured { return DebugTarget(b) }, Want: byRBAC(`cannot create resource "pods/exec"`)},
		{Name: "ci-pod-logs", Class: c, What: "CI reading a pod's logs", As: ci, Op: OpLogs,
			Object: refTo("v1", "Pod", Namespace, debugTarget), Want: byRBAC(`cannot get resource "pods/log"`)},

		// Good controls.
		{Name: "control-view-for-sa", Class: c, What: "the built-in view bound to the app's ServiceAccount", Op: OpCreate,
			Object: nsBinding(Namespace, "rt-control-view", "ClusterRole", "view", appSA), Want: admitted},
		{Name: "control-harmless-widening", Class: c, What: "a bound Role widened with another harmless read", Op: OpUpdate,
			Object: nsRole(Namespace, "rt-control-role", rule(core, []string{"configmaps"}, read)),
			Mutate: addRules(rule(core, []string{"events"}, read)),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole(Namespace, "rt-control-role", rule(core, []string{"configmaps"}, read)),
				nsBinding(Namespace, "rt-control-role", "Role", "rt-control-role", appSA)},
			Want: admitted},
		{Name: "control-discovery-for-everyone", Class: c, What: "system:discovery for every authenticated caller, as Kubernetes does",
			Op: OpCreate, Object: clusterBinding("rt-control-discovery", "system:discovery", groupSubject("system:authenticated")), Want: admitted},
		{Name: "control-harmless-into-view", Class: c, What: "a read-only ClusterRole aggregated into view while view is bound",
			Op:     OpCreate,
			Object: clusterRole("rt-control-into-view", map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}, rule([]string{"apps"}, []string{"statefulsets"}, read)),
			Setup:  []func(Base) *unstructured.Unstructured{nsBinding(Namespace, "rt-control-view2", "ClusterRole", "view", appSA)},
			Want:   admitted},
		{Name: "control-platform-binding", Class: c, What: "a RoleBinding in kube-system for a kube-system controller", Op: OpCreate,
			Object: nsBinding("kube-system", "rt-control-leader", "Role", "system::leader-locking-kube-scheduler", saSubject("kube-system", "rt-controller")),
			Want:   admitted},
	}
}

func namespaceAttempts() []Attempt {
	const c = "namespaces"
	withSA := func(ns string) func(Base) *unstructured.Unstructured { return serviceAccount(ns, redteamSA) }
	appNS := refTo("v1", "Namespace", "", Namespace)
	return []Attempt{
		{Name: "unlabelled-namespace-privileged-pod", Class: c, What: "a privileged Pod in a namespace nobody labelled",
			Op: OpCreate, Object: podIn("rt-unlabelled", "rt-privileged", privileged),
			Setup: []func(Base) *unstructured.Unstructured{namespace("rt-unlabelled", nil), withSA("rt-unlabelled")},
			Want:  byPSA("privileged")},
		{Name: "kube-public-privileged-pod", Class: c, What: "a privileged Pod in kube-public",
			Op: OpCreate, Object: podIn("kube-public", "rt-privileged", privileged),
			Setup: []func(Base) *unstructured.Unstructured{withSA("kube-public")}, Want: byPSA("privileged")},
		{Name: "kube-node-lease-hostpath-pod", Class: c, What: "a hostPath Pod in kube-node-lease",
			Op: OpCreate, Object: podIn("kube-node-lease", "rt-hostpath", hostPath),
			Setup: []func(Base) *unstructured.Unstructured{withSA("kube-node-lease")}, Want: byPSA("hostPath")},
		{Name: "kyverno-namespace-privileged-pod", Class: c, What: "a privileged Pod in the kyverno namespace",
			Op: OpCreate, Object: podIn("kyverno", "rt-privileged", privileged),
			Setup: []func(Base) *unstructured.Unstructured{withSA("kyverno")}, Want: byPSA("privileged")},
		{Name: "kube-node-lease-unsigned-pod", Class: c, What: "an unsigned image in kube-node-lease (Kyverno now judges it)",
			Op: OpCreate, Object: podIn("kube-node-lease", "rt-unsigned", image(func(i Images) string { return i.Unsigned })),
			Setup: []func(Base) *unstructured.Unstructured{withSA("kube-node-lease")},
			Want:  byKyverno(polSignatures, "signatures")},
		{Name: "kube-public-hostpath-deployment", Class: c, What: "a hostPath Deployment in kube-public (Pod Security only warns on Deployments)",
			Op: OpCreate, Object: deploymentIn("kube-public", "rt-hostpath", func(d *appsv1.Deployment, i Images) { hostPath(&d.Spec.Template.Spec, i) }),
			Want: byKyverno(polPodSec, "hostPath")},
		{Name: "remove-enforce-label", Class: c, What: "removing the app namespace's Pod Security enforce label",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("pod-security.kubernetes.io/enforce", ""),
			Want: byVAP(polNamespaces, "must keep pod-security.kubernetes.io/enforce=restricted")},
		{Name: "weaken-enforce-label", Class: c, What: "enforce=privileged on the app namespace",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("pod-security.kubernetes.io/enforce", "privileged"),
			Want: byVAP(polNamespaces, "would weaken Pod Security below restricted")},
		{Name: "weaken-enforce-version", Class: c, What: "moving the enforce-version back to v1.0",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("pod-security.kubernetes.io/enforce-version", "v1.0"),
			Want: byVAP(polNamespaces, "enforce-version=v1.0 is not a Pod Security version at least the cluster's")},
		{Name: "remove-enforce-version", Class: c, What: "removing the enforce-version (unpinned)",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("pod-security.kubernetes.io/enforce-version", ""),
			Want: byVAP(polNamespaces, "a pinned pod-security.kubernetes.io/enforce-version")},
		{Name: "change-environment", Class: c, What: "relabelling the app namespace as staging (other rules apply)",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("platform-template.io/environment", "staging"),
			Want: byVAP(polNamespaces, "is fixed once set")},
		{Name: "remove-environment", Class: c, What: "removing the app namespace's environment label",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("platform-template.io/environment", ""),
			Want: byVAP(polNamespaces, "is fixed once set")},
		{Name: "new-namespace-privileged", Class: c, What: "a new namespace labelled enforce=privileged",
			Op: OpCreate, Object: namespace("rt-privileged-ns", map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}),
			Want: byVAP(polNamespaces, "enforce=privileged would weaken")},
		{Name: "new-namespace-baseline", Class: c, What: "a new namespace labelled enforce=baseline",
			Op: OpCreate, Object: namespace("rt-baseline-ns", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}),
			Want: byVAP(polNamespaces, "enforce=baseline would weaken")},
		{Name: "new-namespace-unknown-environment", Class: c, What: "an environment label the policies do not know (prod)",
			Op: OpCreate, Object: namespace("rt-prod-typo", map[string]string{"platform-template.io/environment": "prod",
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.34"}),
			Want: byVAP(polNamespaces, "must be development, staging or production")},
		{Name: "exception-outside-kyverno", Class: c, What: "a PolicyException written into the app namespace",
			Op: OpCreate, Object: policyException(Namespace, "rt-polex", "red team", polPodSec),
			Want: byVAP(polExceptions, "exceptions belong in the kyverno namespace")},
		{Name: "exception-without-reason", Class: c, What: "a PolicyException without a reason",
			Op: OpCreate, Object: policyException("kyverno", "rt-polex-unexplained", "", polPodSec),
			Want: byVAP(polExceptions, "must say why")},
		{Name: "exception-wildcard", Class: c, What: "a PolicyException for every policy (*)",
			Op: OpCreate, Object: policyException("kyverno", "rt-polex-wildcard", "red team", "*"),
			Want: byVAP(polExceptions, "no wildcard")},
		{Name: "ci-exception-in-kyverno", Class: c, What: "CI writing a PolicyException", As: ci,
			Op: OpCreate, Object: policyException("kyverno", "rt-ci-polex", "red team", polPodSec),
			Want: byRBAC(`cannot create resource "policyexceptions"`)},
		{Name: "ci-patch-namespace", Class: c, What: "CI relabelling its namespace", As: ci,
			Op: OpUpdate, Object: appNS, Mutate: setLabel("pod-security.kubernetes.io/enforce", "privileged"),
			Want: byRBAC(`cannot update resource "namespaces"`)},

		{Name: "control-unlabelled-namespace", Class: c, What: "a new namespace without labels (restricted by default)",
			Op: OpCreate, Object: namespace("rt-control-ns", nil), Want: admitted},
		{Name: "control-restricted-pod-in-unlabelled-namespace", Class: c, What: "a good Pod in a namespace nobody labelled",
			Op: OpCreate, Object: podIn("rt-control-ns2", "rt-good", func(*corev1.PodSpec, Images) {}),
			Setup: []func(Base) *unstructured.Unstructured{namespace("rt-control-ns2", nil), withSA("rt-control-ns2")},
			Want:  admitted},
		{Name: "control-unrelated-label", Class: c, What: "an unrelated label on the app namespace",
			Op: OpUpdate, Object: appNS, Mutate: setLabel("example.com/team", "payments"), Want: admitted},
		{Name: "control-exception-by-admin", Class: c, What: "a named, explained PolicyException in kyverno, by the admin",
			Op: OpCreate, Object: policyException("kyverno", "rt-control-polex", "red-team control", polPodSec), Want: admitted},
	}
}

func debugAttempts() []Attempt {
	const c = "debug"
	dbg := func(name, what string, mutate func(*corev1.EphemeralContainer, Images), want Want) Attempt {
		return Attempt{Name: name, Class: c, What: "kubectl debug: " + what, Op: OpDebug, Object: ephemeral("rt-"+name, mutate), Want: want}
	}
	return []Attempt{
		dbg("debug-unsigned", "an unsigned image next to the app and its Secret",
			func(e *corev1.EphemeralContainer, i Images) { e.Image = i.Unsigned }, byKyverno(polSignatures, "signatures")),
		dbg("debug-wrong-key", "an image signed with another key",
			func(e *corev1.EphemeralContainer, i Images) { e.Image = i.WrongKey }, byKyverno(polSignatures, "signatures")),
		dbg("debug-untrusted-registry", "an image from a registry the platform does not trust",
			func(e *corev1.EphemeralContainer, i Images) { e.Image = i.Untrusted }, byKyverno(polRegistries, "does not trust")),
		dbg("debug-latest", "the :latest tag",
			func(e *corev1.EphemeralContainer, i Images) { e.Image = i.Latest }, byKyverno(polTags, ":latest")),
		dbg("debug-privileged", "a privileged debug container",
			func(e *corev1.EphemeralContainer, _ Images) {
				e.SecurityContext.Privileged, e.SecurityContext.AllowPrivilegeEscalation = ptr(true), nil
			}, byPSA("privileged")),
		dbg("debug-root", "a debug container running as root",
			func(e *corev1.EphemeralContainer, _ Images) { e.SecurityContext.RunAsUser = ptr(int64(0)) }, byPSA("runAsUser=0")),
		dbg("debug-writable-root", "a debug container with a writable root filesystem",
			func(e *corev1.EphemeralContainer, _ Images) { e.SecurityContext.ReadOnlyRootFilesystem = ptr(false) },
			byKyverno(polReadOnly, "readOnlyRootFilesystem")),
		dbg("debug-secret-env", "a debug container with the database Secret in its environment",
			func(e *corev1.EphemeralContainer, _ Images) {
				e.Env = []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "template-api-db"}, Key: "password"}}}}
			}, byKyverno(polSecrets, "never in env")),
		{Name: "ci-debug", Class: c, What: "CI adding a debug container", As: ci, Op: OpDebug,
			Object: ephemeral("rt-ci-debug", func(*corev1.EphemeralContainer, Images) {}),
			Want:   byRBAC(`cannot update resource "pods/ephemeralcontainers"`)},
		dbg("control-debug-signed", "a signed, restricted debug container", func(*corev1.EphemeralContainer, Images) {}, admitted),
	}
}

func kindAttempts() []Attempt {
	const c = "kinds"
	rs := func(name, what string, mutate fault, want Want) Attempt {
		return Attempt{Name: name, Class: c, What: what + " (bare ReplicaSet)", Op: OpCreate, Object: replicaSet("rt-"+name, mutate), Want: want}
	}
	rc := func(name, what string, mutate fault, want Want) Attempt {
		return Attempt{Name: name, Class: c, What: what + " (ReplicationController)", Op: OpCreate, Object: replicationController("rt-"+name, mutate), Want: want}
	}
	unsigned := image(func(i Images) string { return i.Unsigned })
	return []Attempt{
		rs("rs-privileged", "a privileged container", privileged, byKyverno(polPodSec, "privileged")),
		rs("rs-unsigned", "an unsigned image", unsigned, byKyverno(polSignatures, "signatures")),
		rs("rs-no-limits", "a container without limits", noLimits, byKyverno(polResources, "limits.cpu")),
		rc("rc-privileged", "a privileged container", privileged, byKyverno(polPodSec, "privileged")),
		rc("rc-unsigned", "an unsigned image", unsigned, byKyverno(polSignatures, "signatures")),
		rc("rc-host-network", "the host's network", hostNetwork, byKyverno(polPodSec, "host namespaces")),
		rc("rc-writable-root", "a writable root filesystem", writableRoot, byKyverno(polReadOnly, "readOnlyRootFilesystem")),
		{Name: "cronjob-privileged", Class: c, What: "a privileged container (CronJob)", Op: OpCreate,
			Object: cronJob("rt-cronjob-privileged", privileged), Want: byKyverno(polPodSec, "privileged")},
		{Name: "daemonset-host-pid", Class: c, What: "the host's PID namespace on every node (DaemonSet)", Op: OpCreate,
			Object: daemonSet("rt-daemonset-host-pid", hostPID), Want: byKyverno(polPodSec, "host namespaces")},
		{Name: "control-good-replicaset", Class: c, What: "the good template as a bare ReplicaSet", Op: OpCreate,
			Object: replicaSet("rt-control-rs", func(*corev1.PodSpec, Images) {}), Want: admitted},
	}
}

func exfiltrationAttempts() []Attempt {
	const c = "exfiltration"
	ciDeploy := func(name, what string, mutate fault, want Want) Attempt {
		return ciAppDeployment(c, name, what, mutate, want)
	}
	secretRef := func(name string) *corev1.SecretKeySelector {
		return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "password"}
	}
	return []Attempt{
		ciDeploy("ci-env-secret", "the database Secret in an environment variable the app echoes", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "DB_HOST", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secretRef("template-api-db")}})
		}, byKyverno(polSecrets, "never in env or envFrom: api")),
		ciDeploy("ci-envfrom-secret", "every key of the Secret as environment (envFrom)", func(s *corev1.PodSpec, _ Images) {
			s.InitContainers[0].EnvFrom = append(s.InitContainers[0].EnvFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "template-api-db"}}})
		}, byKyverno(polSecrets, "never in env or envFrom: migrate")),
		ciDeploy("ci-fallback-to-logs", "terminationMessagePolicy FallbackToLogsOnError (logs into the pod status)", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError
		}, byKyverno(polSecrets, "never the logs")),
		ciDeploy("ci-termination-path", "the termination message read from the password file", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].TerminationMessagePath = "/var/run/secrets/db/password"
		}, byKyverno(polSecrets, "/dev/termination-log")),
		ciDeploy("ci-other-service-account", "the pods run as the CI ServiceAccount", func(s *corev1.PodSpec, _ Images) {
			s.ServiceAccountName = "ci-deployer"
		}, byKyverno(polSecrets, "ServiceAccount ci-deployer is not declared")),
		ciDeploy("ci-default-service-account", "the pods run as the namespace's default ServiceAccount", func(s *corev1.PodSpec, _ Images) {
			s.ServiceAccountName = ""
		}, byKyverno(polSecrets, "ServiceAccount default is not declared")),
		ciDeploy("ci-automount-token", "a Kubernetes API token mounted into the app", func(s *corev1.PodSpec, _ Images) {
			s.AutomountServiceAccountToken = ptr(true)
		}, byKyverno(polSecrets, "automountServiceAccountToken must be false")),
		ciDeploy("ci-projected-token", "a projected ServiceAccount token for the API server", func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "https://kubernetes.default.svc"}}}}}})
		}, byKyverno(polSecrets, "only the IRSA token")),
		ciDeploy("ci-undeclared-secret-volume", "a Secret the namespace does not declare, mounted", func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, secretVolume("other", "rt-other-app-db"))
		}, byKyverno(polSecrets, "Secret(s) rt-other-app-db not declared")),
		ciDeploy("ci-projected-secret", "an undeclared Secret through a projected volume", func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "other", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kyverno-svc.kyverno.svc.kyverno-tls-pair"}}}}}}})
		}, byKyverno(polSecrets, "not declared")),
		{Name: "ci-read-pod-status-of-others", Class: c, What: "CI reading Secrets directly", As: ci, Op: OpList,
			Object: refTo("v1", "Secret", Namespace, ""), Want: byRBAC(`cannot list resource "secrets"`)},
		{Name: "ci-update-foreign-configmap", Class: c, What: "CI rewriting a ConfigMap it did not make (the RDS certificate bundle)", As: ci,
			Op: OpUpdate, Object: configMap(Namespace, "rt-rds-ca-bundle"), Mutate: setField("attacker's CA", "data", "ca-bundle.pem"),
			Setup: []func(Base) *unstructured.Unstructured{configMap(Namespace, "rt-rds-ca-bundle")},
			Want:  byRBAC(`cannot update resource "configmaps"`)},
		{Name: "control-ci-updates-its-deployment", Class: c, What: "CI updating the app's own Deployment", As: ci, Op: OpUpdate,
			Object: refTo("apps/v1", "Deployment", Namespace, "template-api"),
			Mutate: setField("red-team", "spec", "template", "metadata", "annotations", "example.com/release"), Want: admitted},
	}
}

func ceilingAttempts() []Attempt {
	const c = "ceilings"
	ciDeploy := func(name, what string, mutate func(*appsv1.Deployment, Images), want Want) Attempt {
		return Attempt{Name: name, Class: c, What: "CI: " + what, As: ci, Op: OpCreate, Object: deploymentIn(Namespace, "rt-"+name, mutate), Want: want}
	}
	spec := func(f fault) func(*appsv1.Deployment, Images) {
		return func(d *appsv1.Deployment, i Images) { f(&d.Spec.Template.Spec, i) }
	}
	return []Attempt{
		ciDeploy("ci-5000-replicas", "5,000 replicas", func(d *appsv1.Deployment, _ Images) { d.Spec.Replicas = ptr(int32(5000)) },
			byKyverno(polCeilings, "asks for 5000 replicas")),
		ciDeploy("ci-256-cpus", "a container limited to 256 CPUs", spec(func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].Resources.Limits[corev1.ResourceCPU] = quantity("256")
			s.Containers[0].Resources.Requests[corev1.ResourceCPU] = quantity("256")
		}), byKyverno(polCeilings, "api cpu 256")),
		{Name: "admin-pod-256-cpus", Class: c, What: "a Pod limited to 256 CPUs (the API server's LimitRange)", Op: OpCreate,
			Object: podIn(Namespace, "rt-256-cpus", func(s *corev1.PodSpec, _ Images) {
				s.Containers[0].Resources.Limits[corev1.ResourceCPU] = quantity("256")
			}), Want: byLimits("maximum cpu usage per Pod is 2")},
		ciDeploy("ci-system-node-critical", "priorityClassName system-node-critical", spec(func(s *corev1.PodSpec, _ Images) {
			s.PriorityClassName = "system-node-critical"
		}), byKyverno(polScheduling, "priority class system-node-critical")),
		ciDeploy("ci-node-name", "spec.nodeName (past the scheduler)", spec(func(s *corev1.PodSpec, _ Images) { s.NodeName = "control-plane" }),
			byKyverno(polScheduling, "spec.nodeName")),
		ciDeploy("ci-tolerate-all", "a toleration of every taint", spec(func(s *corev1.PodSpec, _ Images) {
			s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}), byKyverno(polScheduling, "tolerating every taint")),
		ciDeploy("ci-control-plane-toleration", "a toleration of the control plane's taint", spec(func(s *corev1.PodSpec, _ Images) {
			s.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}), byKyverno(polScheduling, "node-role.kubernetes.io/control-plane")),
		ciDeploy("ci-control-plane-selector", "a nodeSelector on the control plane", spec(func(s *corev1.PodSpec, _ Images) {
			s.NodeSelector = map[string]string{"node-role.kubernetes.io/control-plane": ""}
		}), byKyverno(polScheduling, "may not select the control plane")),
		ciDeploy("ci-huge-emptydir", "a 500Gi emptyDir", spec(func(s *corev1.PodSpec, _ Images) {
			q := quantity("500Gi")
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &q}}})
		}), byKyverno(polCeilings, "scratch")),
		ciDeploy("ci-unbounded-emptydir", "an emptyDir without a size limit", spec(func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		}), byKyverno(polResources, "needs a sizeLimit: scratch")),
		ciDeploy("ci-huge-ephemeral-volume", "a 1Ti generic ephemeral volume", spec(func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "big", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity("1Ti")}}}}}}})
		}), byKyverno(polCeilings, "big")),
		ciDeploy("ci-no-ephemeral-storage", "a container without ephemeral-storage limits", spec(func(s *corev1.PodSpec, _ Images) {
			delete(s.Containers[0].Resources.Limits, corev1.ResourceEphemeralStorage)
		}), byKyverno(polResources, "api lacks limits.ephemeral-storage")),
		{Name: "ci-external-name", Class: c, What: "CI: an ExternalName Service pointing a trusted name outside", As: ci, Op: OpCreate,
			Object: serviceOf("rt-db", func(s *corev1.Service) {
				s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.attacker.example"}
			}), Want: byKyverno(polServices, "ExternalName")},
		{Name: "ci-db-service-selector", Class: c, What: "CI repointing the database Service at its own pods", As: ci, Op: OpUpdate,
			Object: refTo("v1", "Service", Namespace, "postgres"),
			Mutate: setField(map[string]any{"app.kubernetes.io/name": "rt-fake-db"}, "spec", "selector"),
			Want:   byRBAC(`cannot update resource "services"`)},
		{Name: "ci-hpa-on-database", Class: c, What: "CI: an HPA on the database's StatefulSet", As: ci, Op: OpCreate,
			Object: hpa("postgres", "StatefulSet", "postgres", 5), Want: byKyverno(polHPAPDB, "may only scale the Deployment postgres")},
		{Name: "ci-hpa-other-name", Class: c, What: "CI: a second HPA on the app under another name", As: ci, Op: OpCreate,
			Object: hpa("rt-second-hpa", "Deployment", "template-api", 5), Want: byKyverno(polHPAPDB, "may only scale the Deployment rt-second-hpa")},
		{Name: "ci-hpa-5000", Class: c, What: "CI: the app's HPA raised to 5,000 replicas", As: ci, Op: OpUpdate,
			Object: refTo("autoscaling/v2", "HorizontalPodAutoscaler", Namespace, "template-api"),
			Mutate: setField(int64(5000), "spec", "maxReplicas"), Want: byKyverno(polCeilings, "asks for 5000 replicas")},
		{Name: "ci-pdb-on-database", Class: c, What: "CI: a 100% disruption budget on the database", As: ci, Op: OpCreate,
			Object: pdb("postgres", "postgres", intstr.FromString("100%")), Want: byKyverno(polHPAPDB, "Deployment postgres, which does not exist")},
		{Name: "ci-pdb-blocks-drains", Class: c, What: "CI: the app's budget set to maxUnavailable 0", As: ci, Op: OpUpdate,
			Object: refTo("policy/v1", "PodDisruptionBudget", Namespace, "template-api"),
			Mutate: func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "minAvailable")
				setField(int64(0), "spec", "maxUnavailable")(u)
			}, Want: byKyverno(polHPAPDB, "must let at least one pod be evicted")},
		{Name: "control-ci-hpa-within-quota", Class: c, What: "CI raising the app's HPA within the quota", As: ci, Op: OpUpdate,
			Object: refTo("autoscaling/v2", "HorizontalPodAutoscaler", Namespace, "template-api"),
			Mutate: setField(int64(10), "spec", "maxReplicas"), Want: admitted},
	}
}

func groupAttempts() []Attempt {
	const c = "groups"
	d := func(name, what string, mutate fault, want Want) Attempt {
		return Attempt{Name: name, Class: c, What: what, Op: OpCreate, Object: inApp("rt-"+name, mutate), Want: want}
	}
	return []Attempt{
		d("run-as-group-0", "runAsGroup 0 (pod)", func(s *corev1.PodSpec, _ Images) { s.SecurityContext.RunAsGroup = ptr(int64(0)) },
			byKyverno(polPodSec, "group 0")),
		d("container-run-as-group-0", "runAsGroup 0 (container)", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].SecurityContext.RunAsGroup = ptr(int64(0))
		}, byKyverno(polPodSec, "group 0")),
		d("fs-group-0", "fsGroup 0", func(s *corev1.PodSpec, _ Images) { s.SecurityContext.FSGroup = ptr(int64(0)) },
			byKyverno(polPodSec, "group 0")),
		d("supplemental-group-0", "supplementalGroups [0]", func(s *corev1.PodSpec, _ Images) {
			s.SecurityContext.SupplementalGroups = []int64{0}
		}, byKyverno(polPodSec, "group 0")),
		d("pod-seccomp-unconfined", "pod-level seccomp Unconfined, overridden in every container", func(s *corev1.PodSpec, _ Images) {
			s.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, byKyverno(polPodSec, "pod-level seccompProfile")),
		{Name: "pod-run-as-group-0", Class: c, What: "runAsGroup 0 in a Pod (Pod Security does not look at groups)", Op: OpCreate,
			Object: podIn(Namespace, "rt-pod-group-0", func(s *corev1.PodSpec, _ Images) { s.SecurityContext.RunAsGroup = ptr(int64(0)) }),
			Want:   byKyverno(polPodSec, "group 0")},
	}
}

// secretVolume mounts the Secret named secret as volume name.
func secretVolume(name, secret string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
