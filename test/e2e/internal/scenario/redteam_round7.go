package scenario

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The red team's seventh round: what a pod spec reaches beyond its own namespace's pods and
// volumes. Pod (anti-)affinity terms may select pods of every namespace, and a required
// anti-affinity is honoured from both sides: the scheduler keeps every pod it matches off the
// nodes, or the zone, where the pod that carries it runs. Dynamic Resource Allocation (GA in
// Kubernetes 1.34) hands devices to pods that name a ResourceClaim (another workload's GPU is
// shared) or a claim template (the resource claim controller makes the claim, so the
// deployer's RBAC, which creates no claims, does not stop it). And what a controller keeps on
// the deployer's behalf, which no quota counted: every old ReplicaSet of a Deployment whose
// revisionHistoryLimit is the largest int32. Each bad attempt was admitted before its fix, from
// the CI deployer's own rights.

// seventhRound is appended to the red-team table by RedTeam.
func seventhRound() []Attempt {
	const c = "reach"
	ciDeploy := func(name, what string, f fault, want Want) Attempt { return ciAppDeployment(c, name, what, f, want) }
	term := func(ns []string, nsSelector *metav1.LabelSelector, topology string) corev1.PodAffinityTerm {
		return corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{}, Namespaces: ns, NamespaceSelector: nsSelector, TopologyKey: topology}
	}
	claims := func(cs ...corev1.PodResourceClaim) fault {
		return func(s *corev1.PodSpec, _ Images) {
			s.ResourceClaims = cs
			s.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: cs[0].Name}}
		}
	}
	return []Attempt{
		ciDeploy("ci-zone-to-itself", "a required anti-affinity against every pod of every namespace, per zone (nobody else schedules in its zones)", func(s *corev1.PodSpec, _ Images) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{term(nil, &metav1.LabelSelector{}, corev1.LabelTopologyZone)},
			}}
		}, byKyverno(polScheduling, "podAntiAffinity term(s) reach pods of other namespaces")),
		ciDeploy("ci-beside-kube-system", "an affinity placing the app beside kube-system's pods", func(s *corev1.PodSpec, _ Images) {
			s.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: term([]string{"kube-system"}, nil, corev1.LabelHostname)}},
			}}
		}, byKyverno(polScheduling, "podAffinity term(s) reach pods of other namespaces")),
		ciDeploy("ci-gpu-claim-template", "devices from a DRA claim template the namespace does not declare", claims(
			corev1.PodResourceClaim{Name: "gpu", ResourceClaimTemplateName: ptr("every-gpu")},
		), byKyverno(polSecrets, "resource claim(s) or claim template(s) every-gpu not declared for pods in namespace "+Namespace)),
		ciDeploy("ci-shared-resource-claim", "another workload's device, by naming its ResourceClaim", claims(
			corev1.PodResourceClaim{Name: "gpu", ResourceClaimName: ptr("payments-gpu")},
		), byKyverno(polSecrets, "resource claim(s) or claim template(s) payments-gpu not declared")),
		{Name: "ci-keep-every-replicaset", Class: c, What: "CI: a Deployment keeping every old ReplicaSet for ever (revisionHistoryLimit 2147483647)",
			As: ci, Op: OpCreate, Object: deploymentIn(Namespace, "rt-ci-keep-every-replicaset", func(d *appsv1.Deployment, _ Images) {
				d.Spec.RevisionHistoryLimit = ptr(int32(2147483647))
			}), Want: byKyverno(polCeilings, "keeps revisionHistoryLimit 2147483647")},
		ciDeploy("control-ci-spread-own-pods", "a required anti-affinity among the app's own pods, per node", func(s *corev1.PodSpec, _ Images) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "template-api"}},
					Namespaces:    []string{Namespace}, TopologyKey: corev1.LabelHostname,
				}},
			}}
		}, admitted),
	}
}
