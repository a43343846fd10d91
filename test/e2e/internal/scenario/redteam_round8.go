package scenario

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// The red team's eighth round: a pod counted as the API server counts it. The LimitRange's
// per-Pod maximum bounds the pod's containers together (and pod-level resources, beta and on
// by default in Kubernetes 1.34, when the pod sets them), but the ceilings policy compared each
// container alone: a Deployment of two containers each at the maximum was admitted, and the API
// server then refused every pod it made. And an exemption read from a field the requester
// writes: a bare pod claiming a Job as its owner skipped the probes every long-running pod
// needs. Each bad attempt was admitted before its fix.

// eighthRound is appended to the red-team table by RedTeam.
func eighthRound() []Attempt {
	const c = "ceilings"
	// twin adds a copy of the app's container, and sets both containers' CPU limit.
	twin := func(cpu string) fault {
		return func(s *corev1.PodSpec, _ Images) {
			t := *s.Containers[0].DeepCopy()
			t.Name = "twin"
			s.Containers = append(s.Containers, t)
			for i := range s.Containers {
				s.Containers[i].Resources.Limits[corev1.ResourceCPU] = resource.MustParse(cpu)
			}
		}
	}
	forgedJobOwner := func(b Base) *unstructured.Unstructured {
		u := podIn(Namespace, "rt-forged-job-pod", func(s *corev1.PodSpec, _ Images) {
			s.Containers[0].LivenessProbe = nil
		})(b)
		u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "rt-nightly",
			UID: types.UID("4a5b6c7d-0000-4000-8000-000000000001"), Controller: ptr(true)}})
		return u
	}
	return []Attempt{
		ciAppDeployment(c, "ci-containers-add-up", "two containers each at the namespace's per-Pod CPU maximum (every pod refused by the LimitRanger)",
			twin("2"), byKyverno(polCeilings, "the pod's limits add up above the namespace's LimitRange per-Pod maximum")),
		ciAppDeployment(c, "ci-pod-level-limits", "pod-level resources (spec.resources) of 8 CPUs, above the per-Pod maximum", func(s *corev1.PodSpec, _ Images) {
			s.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			}
		}, byKyverno(polCeilings, "cpu spec.resources 8")),
		{Name: "admin-pod-forged-job-owner", Class: "probes", What: "a bare pod without a liveness probe, claiming a Job as its owner",
			Op: OpCreate, Object: forgedJobOwner, Want: byKyverno(polProbes, "a livenessProbe is required in container(s): api")},
		ciAppDeployment(c, "control-ci-containers-within-pod-maximum", "two containers whose CPU limits add up to the per-Pod maximum", twin("1"), admitted),
	}
}
