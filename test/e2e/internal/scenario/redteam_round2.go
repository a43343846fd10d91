package scenario

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// The red team's second round: what got past the first round's fixes, class by class, and the
// write paths every rule must hold on (patches of every type, subresources, dry-run). Each bad
// attempt below was admitted before its fix on the real API server with Kyverno, except those
// marked "held": they were tried and refused already, and stay to keep it so.

// The policies the second round names besides the first round's.
const (
	polProbes = "require-probes"
	polHostPV = "restrict-host-persistent-volumes"
)

var byQuota = func(reason string) Want { return Want{Component: kube.ResourceQuota, Reason: reason} }

// secondRound is appended to the red-team table by RedTeam.
func secondRound() []Attempt {
	var t []Attempt
	t = append(t, rbacPowerAttempts()...)
	t = append(t, labelPathAttempts()...)
	t = append(t, podSecurityAttempts()...)
	t = append(t, writePathAttempts()...)
	t = append(t, drainAttempts()...)
	t = append(t, countAttempts()...)
	t = append(t, storageAttempts()...)
	return t
}

// rbacPowerAttempts: powers the first round's list did not name, and the namespace Kyverno's
// filters and Pod Security both skip (local-path-storage), where a grant was judged by nothing.
func rbacPowerAttempts() []Attempt {
	const c = "rbac"
	create := func(name, what string, obj func(Base) *unstructured.Unstructured, want Want, setup ...func(Base) *unstructured.Unstructured) Attempt {
		return Attempt{Name: name, Class: c, What: what, Op: OpCreate, Object: obj, Want: want, Setup: setup}
	}
	proxy := "reaching the kubelet, pods or Services through the API server proxy"
	guardrails := "changing the namespace's own guardrails"
	localPath := namespace("local-path-storage", nil)
	return []Attempt{
		create("crb-kubelet-proxy", "get nodes/proxy cluster-wide (a command in any pod of any node, over the kubelet's API)",
			clusterBinding("rt-kubelet-proxy", "rt-kubelet-proxy", ciSA), byKyverno(polBindings, proxy),
			clusterRole("rt-kubelet-proxy", nil, rule(core, []string{"nodes/proxy"}, []string{"get"}))),
		create("crb-node-subresources", "get nodes/* (nodes/proxy among them)",
			clusterBinding("rt-node-star", "rt-node-star", appSA), byKyverno(polBindings, proxy),
			clusterRole("rt-node-star", nil, rule(core, []string{"nodes/*"}, []string{"get"}))),
		create("rb-pod-and-service-proxy", "pods/proxy and services/proxy (the app's API past its NetworkPolicies)",
			nsBinding(Namespace, "rt-pod-proxy", "Role", "rt-pod-proxy", ciSA), byKyverno(polBindings, proxy),
			nsRole(Namespace, "rt-pod-proxy", rule(core, []string{"pods/proxy", "services/proxy"}, []string{"get", "create"}))),
		create("rb-pod-binding", "pods/binding (a pod placed on the control plane past the scheduler and restrict-scheduling)",
			nsBinding(Namespace, "rt-binder", "Role", "rt-binder", ciSA), byKyverno(polBindings, "placing pods on nodes past the scheduler"),
			nsRole(Namespace, "rt-binder", rule(core, []string{"pods/binding"}, []string{"create"}))),
		create("rb-network-policy-writer", "write the namespace's NetworkPolicies (delete the default deny)",
			nsBinding(Namespace, "rt-netpol", "Role", "rt-netpol", ciSA), byKyverno(polBindings, guardrails),
			nsRole(Namespace, "rt-netpol", rule([]string{"networking.k8s.io"}, []string{"networkpolicies"}, []string{"create", "update", "delete"}))),
		create("rb-quota-raiser", "raise the namespace's own ResourceQuota",
			nsBinding(Namespace, "rt-quota", "Role", "rt-quota", ciSA), byKyverno(polBindings, guardrails),
			nsRole(Namespace, "rt-quota", rule(core, []string{"resourcequotas"}, []string{"update", "patch"}))),
		create("rb-limitrange-remover", "delete the namespace's LimitRange",
			nsBinding(Namespace, "rt-limits", "Role", "rt-limits", appSA), byKyverno(polBindings, guardrails),
			nsRole(Namespace, "rt-limits", rule(core, []string{"limitranges"}, []string{"delete"}))),
		create("rb-endpointslice-writer", "write EndpointSlices (the database Service's traffic sent anywhere, CVE-2021-25740)",
			nsBinding(Namespace, "rt-endpoints", "Role", "rt-endpoints", ciSA), byKyverno(polBindings, "redirecting Services"),
			nsRole(Namespace, "rt-endpoints", rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, []string{"create", "update"}))),
		create("rb-namespace-status-writer", "update namespaces/status (the labels, past the label guard of the first round)",
			nsBinding(Namespace, "rt-ns-status", "Role", "rt-ns-status", ciSA), byKyverno(polBindings, "changing namespaces"),
			nsRole(Namespace, "rt-ns-status", rule(core, []string{"namespaces/status"}, []string{"update", "patch"}))),
		{Name: "widen-bound-clusterrole-to-kubelet", Class: c, What: "a ClusterRole bound to the app, widened to nodes/proxy afterwards",
			Op: OpUpdate, Object: clusterRole("rt-node-reader", nil, rule(core, []string{"nodes"}, read)),
			Mutate: addRules(rule(core, []string{"nodes/proxy"}, []string{"get"})),
			Setup: []func(Base) *unstructured.Unstructured{
				clusterRole("rt-node-reader", nil, rule(core, []string{"nodes"}, read)),
				clusterBinding("rt-node-reader", "rt-node-reader", appSA)},
			Want: byKyverno(polRoles, proxy)},
		// Held: tried and refused by the first round's rules already.
		create("rb-bind-by-resource-name", "held: bind, only on the ClusterRole view (resourceNames)",
			nsBinding(Namespace, "rt-bind-view", "Role", "rt-bind-view", ciSA), byKyverno(polBindings, "escalate, bind or impersonate"),
			nsRole(Namespace, "rt-bind-view", rbacv1.PolicyRule{APIGroups: rbacGroup, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}, ResourceNames: []string{"view"}})),
		create("crb-non-resource-urls", "held: every non-resource URL (/logs, /debug/pprof) with every verb",
			clusterBinding("rt-nonresource", "rt-nonresource", ciSA), byKyverno(polBindings, "wildcards"),
			clusterRole("rt-nonresource", nil, rbacv1.PolicyRule{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}})),
		create("crb-aggregation-by-expression", "held: a ClusterRole aggregating by label expression (unjudgeable)",
			clusterBinding("rt-agg-expr", "rt-agg-expr", ciSA), byKyverno(polBindings, "aggregates roles by label expressions"),
			func(Base) *unstructured.Unstructured {
				u := aggregatedClusterRole("rt-agg-expr", nil)(Base{})
				_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"matchExpressions": []any{map[string]any{
					"key": "rbac.authorization.k8s.io/aggregate-to-edit", "operator": "Exists"}}}}, "aggregationRule", "clusterRoleSelectors")
				return u
			}),
		create("rb-other-namespace-edit", "held: edit for the app's ServiceAccount in another team's namespace",
			nsBinding("e2e-other-team", "rt-other-edit", "ClusterRole", "edit", appSA), byKyverno(polBindings, "reading Secrets")),

		// The namespace nothing looked at.
		create("rb-local-path-storage-admin", "admin in local-path-storage for the CI ServiceAccount (then privileged pods seen by nothing)",
			nsBinding("local-path-storage", "rt-lps-admin", "ClusterRole", "admin", ciSA),
			byVAP(polPlatform, "nothing in local-path-storage may be granted to identities from outside the platform"), localPath),
		create("rb-local-path-storage-ci-group", "cluster-admin in local-path-storage for the CI group",
			nsBinding("local-path-storage", "rt-lps-group", "ClusterRole", "cluster-admin", groupSubject("template-api:ci-deployers")),
			byVAP(polPlatform, "Group template-api:ci-deployers"), localPath),
		{Name: "ci-privileged-pod-in-local-path-storage", Class: c, What: "CI creating a privileged pod in local-path-storage (held: it was never granted anything there)",
			As: ci, Op: OpCreate, Object: podIn("local-path-storage", "rt-lps-privileged", privileged),
			Setup: []func(Base) *unstructured.Unstructured{localPath}, Want: byRBAC(`cannot create resource "pods"`)},
		create("control-local-path-provisioner", "the storage provisioner's own binding in local-path-storage",
			nsBinding("local-path-storage", "rt-control-provisioner", "ClusterRole", "view", saSubject("local-path-storage", "local-path-provisioner-service-account")),
			admitted, localPath),
	}
}

// labelPathAttempts: the labels the guardrails key on, written where the first round's guard did
// not look (the status and finalize subresources), or pinned to an old Pod Security version.
func labelPathAttempts() []Attempt {
	const c = "namespaces"
	appNS := refTo("v1", "Namespace", "", Namespace)
	merge := func(data string) func(Base) Patch { return patchAs(types.MergePatchType, data) }
	return []Attempt{
		{Name: "status-weaken-enforce", Class: c, What: "enforce=privileged on the app namespace through namespaces/status",
			Op: OpPatch, Subresource: "status", Object: appNS,
			Patch: merge(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`),
			Want:  byVAP(polNamespaces, "enforce=privileged would weaken Pod Security below restricted")},
		{Name: "status-remove-environment", Class: c, What: "the environment label removed through namespaces/status (every application rule off)",
			Op: OpPatch, Subresource: "status", Object: appNS,
			Patch: func(Base) Patch {
				return Patch{Type: types.JSONPatchType, Data: `[{"op":"remove","path":"/metadata/labels/platform-template.io~1environment"}]`}
			},
			Want: byVAP(polNamespaces, "is fixed once set")},
		{Name: "status-old-version", Class: c, What: "the app namespace's enforce-version set to v1.0 through namespaces/status",
			Op: OpPatch, Subresource: "status", Object: appNS,
			Patch: merge(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce-version":"v1.0"}}}`),
			Want:  byVAP(polNamespaces, "enforce-version=v1.0 is not a Pod Security version at least the cluster's (v1.34)")},
		{Name: "finalize-weaken-enforce", Class: c, What: "enforce=privileged written through namespaces/finalize",
			Op: OpUpdate, Subresource: "finalize", Object: refTo("v1", "Namespace", "", "rt-finalize"),
			Mutate: setLabel("pod-security.kubernetes.io/enforce", "privileged"),
			Setup:  []func(Base) *unstructured.Unstructured{namespace("rt-finalize", nil)},
			Want:   byVAP(polNamespaces, "enforce=privileged would weaken")},
		{Name: "move-version-back", Class: c, What: "a namespace's enforce-version moved back from v1.35 to v1.34",
			Op: OpUpdate, Object: refTo("v1", "Namespace", "", "rt-newer"),
			Mutate: setLabel("pod-security.kubernetes.io/enforce-version", "v1.34"),
			Setup: []func(Base) *unstructured.Unstructured{namespace("rt-newer", map[string]string{
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.35"})},
			Want: byVAP(polNamespaces, "may not move back from v1.35 to v1.34")},
		{Name: "new-namespace-old-version", Class: c, What: "a new namespace at restricted v1.0 (no capabilities, seccomp or probe-host checks)",
			Op: OpCreate, Object: namespace("rt-pinned-old", map[string]string{
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.0"}),
			Want: byVAP(polNamespaces, "enforce-version=v1.0 is not a Pod Security version")},
		{Name: "new-namespace-version-only", Class: c, What: "a new namespace with only enforce-version v1.33 (the default level at an older version)",
			Op: OpCreate, Object: namespace("rt-version-only", map[string]string{"pod-security.kubernetes.io/enforce-version": "v1.33"}),
			Want: byVAP(polNamespaces, "enforce-version=v1.33 is not a Pod Security version")},
		{Name: "exception-without-scope", Class: c, What: "a named, explained PolicyException that exempts every request (no matchConditions)",
			Op: OpCreate, Object: unscopedException("rt-polex-unscoped", polProbes),
			Want: byVAP(polExceptions, "must say what it exempts")},
		{Name: "exception-legacy-every-name", Class: c, What: "a kyverno.io PolicyException for resources named *",
			Op: OpCreate, Object: legacyException("rt-polex-legacy", polProbes, "*"),
			Want: byVAP(polExceptions, "must say what it exempts")},
		{Name: "control-namespace-latest", Class: c, What: "a new namespace at restricted, version latest",
			Op: OpCreate, Object: namespace("rt-control-latest", map[string]string{
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"}),
			Want: admitted},
		{Name: "control-status-unrelated-label", Class: c, What: "an unrelated label through namespaces/status",
			Op: OpPatch, Subresource: "status", Object: appNS, Patch: merge(`{"metadata":{"labels":{"example.com/cost-center":"42"}}}`),
			Want: admitted},
		{Name: "control-legacy-exception-by-name", Class: c, What: "a kyverno.io PolicyException for one named pod",
			Op: OpCreate, Object: legacyException("rt-control-legacy", polProbes, "postgres-0"), Want: admitted},
	}
}

// podSecurityAttempts: the check Pod Security v1.34 added that Kyverno's copy of the profile
// lacked (a probe or lifecycle handler naming a host: the kubelet connects to it from the node).
// Pod Security only warns on a Deployment, and a namespace pinned to an older version never
// checks it.
func podSecurityAttempts() []Attempt {
	const c = "podsecurity"
	d := func(name, what string, mutate fault, want Want) Attempt {
		return Attempt{Name: name, Class: c, What: "CI: " + what, As: ci, Op: OpCreate, Object: inApp("rt-"+name, mutate), Want: want}
	}
	host := "probes and lifecycle handlers may not name a host"
	return []Attempt{
		d("ci-probe-host-metadata", "a liveness probe against the cloud metadata service", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].LivenessProbe.HTTPGet.Host = "169.254.169.254"
		}, byKyverno(polPodSec, host+" (the kubelet would connect to it from the node): api (169.254.169.254)")),
		d("ci-tcp-probe-host", "a readiness probe opening a socket to the API server", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].ReadinessProbe.HTTPGet = nil
			s.Containers[0].ReadinessProbe.TCPSocket = &corev1.TCPSocketAction{Host: "kubernetes.default.svc", Port: intOrString(443)}
		}, byKyverno(polPodSec, "api (kubernetes.default.svc)")),
		d("ci-prestop-host", "a preStop hook calling another host", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{
				Host: "10.0.0.1", Path: "/", Port: intOrString(80)}}}
		}, byKyverno(polPodSec, "api (10.0.0.1)")),
		d("ci-sidecar-probe-host", "a sidecar (init container, restartPolicy Always) whose startup probe names a host", func(s *corev1.PodSpec, _ Images) {
			sc := sidecarOf(s)
			sc.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Host: "169.254.169.254", Path: "/latest/meta-data/", Port: intOrString(80)}}}
			sc.LivenessProbe, sc.ReadinessProbe = s.Containers[0].LivenessProbe, s.Containers[0].ReadinessProbe
			s.InitContainers = append(s.InitContainers, sc)
		}, byKyverno(polPodSec, "rt-sidecar (169.254.169.254)")),
		d("ci-sidecar-without-probes", "a sidecar without probes (a long-running container nobody restarts)", func(s *corev1.PodSpec, _ Images) {
			s.InitContainers = append(s.InitContainers, sidecarOf(s))
		}, byKyverno(polProbes, "a livenessProbe is required in container(s): rt-sidecar")),
		d("control-sidecar-with-probes", "a sidecar with its own probes", func(s *corev1.PodSpec, _ Images) {
			sc := sidecarOf(s)
			sc.LivenessProbe, sc.ReadinessProbe = s.Containers[0].LivenessProbe, s.Containers[0].ReadinessProbe
			s.InitContainers = append(s.InitContainers, sc)
		}, admitted),
	}
}

// writePathAttempts: the rules hold whichever way a change arrives (held: each was refused
// already; they stay so that a policy matching only some operations is caught).
func writePathAttempts() []Attempt {
	const c = "writepaths"
	app := refTo("apps/v1", "Deployment", Namespace, "template-api")
	return []Attempt{
		{Name: "ci-server-side-apply-hostpath", Class: c, What: "CI: server-side apply of a hostPath volume onto the app's Deployment",
			As: ci, Op: OpPatch, Object: app, Patch: func(Base) Patch {
				return Patch{Type: types.ApplyPatchType, Data: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"template-api","namespace":"template-api"},` +
					`"spec":{"template":{"spec":{"volumes":[{"name":"rt-host","hostPath":{"path":"/"}}]}}}}`}
			}, Want: byKyverno(polPodSec, "rt-host")},
		{Name: "ci-json-patch-unsigned", Class: c, What: "CI: a JSON patch putting an unsigned image into the app's Deployment",
			As: ci, Op: OpPatch, Object: app, Patch: func(b Base) Patch {
				return Patch{Type: types.JSONPatchType, Data: fmt.Sprintf(`[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":%q}]`, b.Images.Unsigned)}
			}, Want: byKyverno(polSignatures, "signatures")},
		{Name: "ci-strategic-merge-host-network", Class: c, What: "CI: a strategic merge patch turning on the host's network",
			As: ci, Op: OpPatch, Object: app, Patch: func(Base) Patch {
				return Patch{Type: types.StrategicMergePatchType, Data: `{"spec":{"template":{"spec":{"hostNetwork":true}}}}`}
			}, Want: byKyverno(polPodSec, "host namespaces")},
		{Name: "ci-dry-run-host-pid", Class: c, What: "CI: a dry-run Deployment with the host's PID namespace (admission runs on dry-run too)",
			As: ci, Op: OpDryRun, Object: inApp("rt-dry-run", hostPID), Want: byKyverno(polPodSec, "host namespaces")},
		{Name: "ci-dry-run-secret-env", Class: c, What: "CI: a dry-run Deployment with the database Secret in its environment",
			As: ci, Op: OpDryRun, Object: inApp("rt-dry-run-env", func(s *corev1.PodSpec, _ Images) {
				s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "template-api-db"}, Key: "password"}}})
			}), Want: byKyverno(polSecrets, "never in env")},
		{Name: "admin-running-pod-unsigned", Class: c, What: "a running Pod's image replaced by an unsigned one (pods/update)",
			Op: OpPatch, Object: refTo("v1", "Pod", Namespace, debugTarget), Patch: func(b Base) Patch {
				return Patch{Type: types.JSONPatchType, Data: fmt.Sprintf(`[{"op":"replace","path":"/spec/containers/0/image","value":%q}]`, b.Images.Unsigned)}
			}, Want: byKyverno(polSignatures, "signatures")},
		{Name: "ci-deployment-status", Class: c, What: "CI: writing the Deployment's status subresource",
			As: ci, Op: OpPatch, Subresource: "status", Object: app, Patch: func(Base) Patch {
				return Patch{Type: types.MergePatchType, Data: `{"status":{"replicas":0}}`}
			}, Want: byRBAC(`cannot patch resource "deployments/status"`)},
		{Name: "control-ci-server-side-apply", Class: c, What: "CI: server-side apply of a release annotation onto the app's Deployment",
			As: ci, Op: OpPatch, Object: app, Patch: func(Base) Patch {
				return Patch{Type: types.ApplyPatchType, Data: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"template-api","namespace":"template-api"},` +
					`"spec":{"template":{"metadata":{"annotations":{"example.com/release":"red-team"}}}}}`}
			}, Want: admitted},
	}
}

// drainAttempts: budgets and autoscalers that forbid every eviction by arithmetic the first
// round's spelling checks did not do, or by the HPA side; replicas through the scale subresource;
// priority classes other than system-*.
func drainAttempts() []Attempt {
	const c = "ceilings"
	budget := refTo("policy/v1", "PodDisruptionBudget", Namespace, "template-api")
	minAvailable := func(v string) func(*unstructured.Unstructured) {
		return func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "maxUnavailable")
			setField(v, "spec", "minAvailable")(u)
		}
	}
	evict := "must let at least one pod be evicted"
	scale := func(replicas int) func(Base) Patch {
		return func(Base) Patch {
			return Patch{Type: types.MergePatchType, Data: fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)}
		}
	}
	return []Attempt{
		{Name: "ci-pdb-99-percent", Class: c, What: "CI: the app's budget at minAvailable 99% (of 2 pods, rounded up: 2)", As: ci,
			Op: OpUpdate, Object: budget, Mutate: minAvailable("99%"), Want: byKyverno(polHPAPDB, evict+" (minAvailable 99%")},
		{Name: "ci-pdb-padded-percent", Class: c, What: "CI: minAvailable 0100% (100%, spelled otherwise)", As: ci,
			Op: OpUpdate, Object: budget, Mutate: minAvailable("0100%"), Want: byKyverno(polHPAPDB, evict+" (minAvailable 0100%")},
		{Name: "ci-pdb-padded-zero", Class: c, What: "CI: maxUnavailable 00% (0%, spelled otherwise)", As: ci,
			Op: OpUpdate, Object: budget, Mutate: func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "minAvailable")
				setField("00%", "spec", "maxUnavailable")(u)
			}, Want: byKyverno(polHPAPDB, "maxUnavailable 00%")},
		{Name: "ci-pdb-if-healthy", Class: c, What: "CI: the app's budget protecting pods that never become ready (IfHealthyBudget)", As: ci,
			Op: OpUpdate, Object: budget, Mutate: setField("IfHealthyBudget", "spec", "unhealthyPodEvictionPolicy"),
			Want: byKyverno(polHPAPDB, "must set unhealthyPodEvictionPolicy: AlwaysAllow")},
		{Name: "hpa-down-to-budget", Class: c, What: "an HPA lowered to minReplicas 1, the minAvailable of the budget beside it",
			Op: OpUpdate, Object: refTo("autoscaling/v2", "HorizontalPodAutoscaler", Namespace, "rt-autoscaled"),
			Mutate: setField(int64(1), "spec", "minReplicas"),
			Setup:  []func(Base) *unstructured.Unstructured{ownDeployment("rt-autoscaled", 2), ownHPA("rt-autoscaled", 2), ownPDB("rt-autoscaled", 1)},
			Want:   byKyverno(polHPAPDB, "with minReplicas 1 would leave the PodDisruptionBudget rt-autoscaled (minAvailable 1")},
		{Name: "control-ci-hpa-down-to-one", Class: c, What: "CI: the app's HPA lowered to minReplicas 1 (its budget, maxUnavailable 1, still lets one pod go)", As: ci,
			Op: OpUpdate, Object: refTo("autoscaling/v2", "HorizontalPodAutoscaler", Namespace, "template-api"),
			Mutate: setField(int64(1), "spec", "minReplicas"), Want: admitted},
		{Name: "ci-pdb-pins-own-deployment", Class: c, What: "CI: a budget of minAvailable 1 for a one-replica Deployment without an HPA", As: ci,
			Op: OpCreate, Object: ownPDB("rt-pinned", 1),
			Setup: []func(Base) *unstructured.Unstructured{ownDeployment("rt-pinned", 1)},
			Want:  byKyverno(polHPAPDB, "(minAvailable 1, maxUnavailable  of 1 pod(s) at the fewest)")},
		{Name: "control-ci-pdb-half", Class: c, What: "CI: the app's budget at maxUnavailable 50%", As: ci,
			Op: OpUpdate, Object: budget, Mutate: func(u *unstructured.Unstructured) {
				unstructured.RemoveNestedField(u.Object, "spec", "minAvailable")
				setField("50%", "spec", "maxUnavailable")(u)
			}, Want: admitted},

		{Name: "admin-scale-5000", Class: c, What: "kubectl scale of the app's Deployment to 5,000 (deployments/scale)",
			Op: OpPatch, Subresource: "scale", Object: refTo("apps/v1", "Deployment", Namespace, "template-api"), Patch: scale(5000),
			Want: byKyverno(polCeilings, "Scale template-api asks for 5000 replicas")},
		{Name: "admin-scale-replicaset", Class: c, What: "kubectl scale of a bare ReplicaSet to 100 (replicasets/scale)",
			Op: OpPatch, Subresource: "scale", Object: refTo("apps/v1", "ReplicaSet", Namespace, "rt-scaled-rs"), Patch: scale(100),
			Setup: []func(Base) *unstructured.Unstructured{replicaSet("rt-scaled-rs", func(*corev1.PodSpec, Images) {})},
			Want:  byKyverno(polCeilings, "asks for 100 replicas")},
		{Name: "ci-scale", Class: c, What: "CI: kubectl scale (held: the deployer has no scale subresource)", As: ci,
			Op: OpPatch, Subresource: "scale", Object: refTo("apps/v1", "Deployment", Namespace, "template-api"), Patch: scale(3),
			Want: byRBAC(`cannot patch resource "deployments/scale"`)},
		{Name: "admin-statefulset-huge-claims", Class: c, What: "a StatefulSet whose volume claim template asks for 1Ti",
			Op: OpCreate, Object: statefulSet("rt-big-claims", func(t *corev1.PersistentVolumeClaim) {
				t.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: quantity("1Ti")}
			}), Want: byKyverno(polCeilings, "larger than the namespace's LimitRange allows: data")},
		{Name: "control-admin-scale-within", Class: c, What: "kubectl scale of the app's Deployment to 3",
			Op: OpPatch, Subresource: "scale", Object: refTo("apps/v1", "Deployment", Namespace, "template-api"), Patch: scale(3),
			Want: admitted},

		{Name: "ci-undeclared-priority-class", Class: c, What: "CI: a priority class an administrator made for an add-on (1,000,000,000)", As: ci,
			Op: OpCreate, Object: inApp("rt-priority", func(s *corev1.PodSpec, _ Images) { s.PriorityClassName = "rt-platform-critical" }),
			Setup: []func(Base) *unstructured.Unstructured{priorityClass("rt-platform-critical", 1000000000)},
			Want:  byKyverno(polScheduling, "priority class rt-platform-critical is not declared for pods in namespace template-api")},
	}
}

// countAttempts: the number of objects the deployer may create (a Service takes a cluster IP
// from a range every namespace shares; a ConfigMap up to 1 MiB of etcd).
func countAttempts() []Attempt {
	const c = "ceilings"
	return []Attempt{
		{Name: "ci-services-until-refused", Class: c, What: "CI: Services, one after another (the cluster's Service IP range)", As: ci,
			Op: OpFill, Object: serviceOf("rt-fill-svc", func(*corev1.Service) {}), Want: byQuota("exceeded quota: template-api, requested: services=1")},
		{Name: "ci-configmaps-until-refused", Class: c, What: "CI: ConfigMaps, one after another (etcd)", As: ci,
			Op: OpFill, Object: configMap(Namespace, "rt-fill-cm"), Want: byQuota("exceeded quota: template-api, requested: configmaps=1")},
	}
}

// storageAttempts: volumes a workload claims for itself that reach an existing volume (a
// hostPath one an administrator left Available, the database's) or its data.
func storageAttempts() []Attempt {
	const c = "storage"
	claim := func(name, what string, spec corev1.PersistentVolumeClaimSpec) Attempt {
		return Attempt{Name: name, Class: c, What: "CI: " + what, As: ci, Op: OpCreate,
			Object: inApp("rt-"+name, func(s *corev1.PodSpec, _ Images) {
				if spec.Resources.Requests == nil {
					spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")}
				}
				spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
				s.Volumes = append(s.Volumes, corev1.Volume{Name: "claimed", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
					VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: spec}}}})
			}), Want: byKyverno(polSecrets, "volume claim(s) claimed must ask for a new, empty volume")}
	}
	noClass := ""
	pvHost := "must be bound to the one claim it is for"
	return []Attempt{
		claim("ci-claim-named-volume", "an ephemeral volume bound by name to an existing PersistentVolume (a hostPath one: the node's disk)",
			corev1.PersistentVolumeClaimSpec{VolumeName: "rt-node-root", StorageClassName: &noClass}),
		claim("ci-clone-database", "an ephemeral volume cloned from the database's claim",
			corev1.PersistentVolumeClaimSpec{DataSource: &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "data-postgres-0"}}),
		claim("ci-select-volume", "an ephemeral volume choosing existing PersistentVolumes by label",
			corev1.PersistentVolumeClaimSpec{Selector: labelSelector("rt-team", "ops")}),
		{Name: "admin-hostpath-pv-available", Class: c, What: "a hostPath PersistentVolume of / left Available to any claim",
			Op: OpCreate, Object: hostPathPV("rt-node-root", "/", nil), Want: byVAP(polHostPV, pvHost)},
		{Name: "admin-hostpath-pv-released", Class: c, What: "a bound hostPath PersistentVolume made Available again (claimRef removed)",
			Op: OpUpdate, Object: refTo("v1", "PersistentVolume", "", "rt-node-logs"),
			Mutate: func(u *unstructured.Unstructured) { unstructured.RemoveNestedField(u.Object, "spec", "claimRef") },
			Setup: []func(Base) *unstructured.Unstructured{hostPathPV("rt-node-logs", "/var/log",
				&corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: Namespace, Name: "rt-logs"})},
			Want: byVAP(polHostPV, pvHost)},
		{Name: "control-bound-hostpath-pv", Class: c, What: "a hostPath PersistentVolume bound to its claim, as a provisioner makes it",
			Op: OpCreate, Object: hostPathPV("rt-provisioned", "/var/local-path-provisioner/rt",
				&corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: Namespace, Name: "rt-data"}), Want: admitted},
		{Name: "control-ci-fresh-ephemeral-volume", Class: c, What: "CI: a new, empty 1Gi ephemeral volume", As: ci, Op: OpCreate,
			Object: inApp("rt-fresh-volume", func(s *corev1.PodSpec, _ Images) {
				s.Volumes = append(s.Volumes, corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
					VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")}}}}}}})
			}), Want: admitted},
	}
}

// sidecarOf is a sidecar (an init container with restartPolicy Always) made from the app's
// migrate init container, without probes.
func sidecarOf(s *corev1.PodSpec) corev1.Container {
	sc := *s.InitContainers[0].DeepCopy()
	sc.Name, sc.Command = "rt-sidecar", []string{"/api", "serve"}
	always := corev1.ContainerRestartPolicyAlways
	sc.RestartPolicy = &always
	return sc
}
