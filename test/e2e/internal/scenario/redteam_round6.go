package scenario

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// The red team's sixth round: placement past the guardrails of the fourth. The scheduling
// policy refused the control plane's taints and every taint, but not the others, nor another
// scheduler, nor a runtime class. Each bad attempt was admitted before its fix.

// sixthRound is appended to the red-team table by RedTeam.
func sixthRound() []Attempt {
	return append(placementAttempts(), resizeAttempts()...)
}

// resizeAttempts: Kubernetes 1.34 changes a running pod's resources in place, through the
// pods/resize subresource, which the workload policies do not match. The LimitRange holds there
// too (the API server's LimitRanger judges resize requests), and the CI deployer has no pods
// at all; both are proved here, so that a change to either shows.
func resizeAttempts() []Attempt {
	const c = "resize"
	target := func(b Base) *unstructured.Unstructured { return DebugTarget(b) }
	cpu := patchAs(types.JSONPatchType, `[{"op":"replace","path":"/spec/containers/0/resources/limits/cpu","value":"256"}]`)
	return []Attempt{
		{Name: "admin-resize-256-cpus", Class: c, What: "a running pod resized in place to 256 CPUs (pods/resize)",
			Op: OpPatch, Subresource: "resize", Object: target, Patch: cpu,
			Want: byLimits("maximum cpu usage per Pod is 2")},
		{Name: "ci-resize", Class: c, What: "CI: a running pod resized in place (held: the deployer has no pods)",
			As: ci, Op: OpPatch, Subresource: "resize", Object: target, Patch: cpu,
			Want: byRBAC(`cannot patch resource "pods/resize"`)},
	}
}

// placementAttempts: a taint keeps nodes for something else (a team's dedicated nodes, cordoned
// ones); a second scheduler need not honour taints or priorities, and a pod no scheduler takes
// waits for whoever binds it by hand; a RuntimeClass picks the node's runtime handler (one made
// for GPUs mounts the host's driver files into the container). The namespace declares none of
// them (k8s/base/namespace.yaml), so each is refused; tolerating a node's short outage, as every
// pod does, stays admitted.
func placementAttempts() []Attempt {
	const c = "placement"
	ciDeploy := func(name, what string, f fault, want Want) Attempt { return ciAppDeployment(c, name, what, f, want) }
	toleration := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	return []Attempt{
		ciDeploy("ci-dedicated-nodes", "a toleration of another team's dedicated nodes (dedicated=payments)", func(s *corev1.PodSpec, _ Images) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "payments", Effect: corev1.TaintEffectNoSchedule}}
		}, byKyverno(polScheduling, "tolerating taint(s) dedicated is not declared for pods in namespace "+Namespace)),
		ciDeploy("ci-cordoned-nodes", "a toleration of cordoned nodes (node.kubernetes.io/unschedulable)", func(s *corev1.PodSpec, _ Images) {
			s.Tolerations = []corev1.Toleration{toleration(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)}
		}, byKyverno(polScheduling, "tolerating taint(s) node.kubernetes.io/unschedulable is not declared")),
		ciDeploy("ci-other-scheduler", "pods for a scheduler that is not the default one", func(s *corev1.PodSpec, _ Images) {
			s.SchedulerName = "hand-placed"
		}, byKyverno(polScheduling, "schedulerName hand-placed: application pods are placed by the default scheduler")),
		ciDeploy("ci-runtime-class", "pods run by the nvidia runtime handler (RuntimeClass nvidia)", func(s *corev1.PodSpec, _ Images) {
			s.RuntimeClassName = ptr("nvidia")
		}, byKyverno(polScheduling, "runtime class nvidia is not declared for pods in namespace "+Namespace)),
		ciDeploy("control-ci-outage-tolerations", "tolerations of a node's short outage (not-ready, unreachable), as every pod has", func(s *corev1.PodSpec, _ Images) {
			s.Tolerations = []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(60))},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(60))},
			}
			s.SchedulerName = corev1.DefaultSchedulerName
		}, admitted),
	}
}
