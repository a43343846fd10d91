package scenario

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Matrix is every bad request, in scoreboard order. Each changes exactly one thing of the good
// Deployment (or asks for one thing the CI deployer may not do), so the one guardrail it
// names is the only one that can refuse it.
func Matrix() []Case {
	return []Case{
		// Pod Security Admission judges Pods (for a Deployment it only warns), and runs before
		// the webhooks: a bad Pod in the restricted namespace is refused by it alone.
		podCase("psa-privileged", "a privileged container", "privileged", privileged),
		podCase("psa-host-network", "the host's network namespace", "host namespaces", hostNetwork),
		podCase("psa-hostpath", "a hostPath volume", `restricted volume type "hostPath"`, hostPath),
		podCase("psa-capabilities", "an added capability (NET_ADMIN)", "unrestricted capabilities", addCapability),
		podCase("psa-run-as-root", "running as root (UID 0)", "runAsUser=0", runAsRoot),
		podCase("psa-privilege-escalation", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation != false", privilegeEscalation),
		podCase("psa-no-seccomp", "no seccomp profile", "seccompProfile", noSeccomp),
		podCase("psa-privileged-init", "a privileged initContainer", "privileged", privilegedInit),

		// The same faults in a Deployment: Kyverno's pod-security policy (which also covers
		// init and ephemeral containers) refuses them at the door, before any Pod exists.
		deployCase("kyverno-privileged", "a privileged container", "pod-security-restricted", "privileged", privileged),
		deployCase("kyverno-host-pid", "the host's PID namespace", "pod-security-restricted", "host namespaces", hostPID),
		deployCase("kyverno-hostpath", "a hostPath volume", "pod-security-restricted", "hostpath", hostPath),
		deployCase("kyverno-capabilities", "an added capability (SYS_ADMIN)", "pod-security-restricted", "capabilit", addSysAdmin),
		deployCase("kyverno-run-as-root", "running as root (UID 0)", "pod-security-restricted", "root", runAsRoot),
		deployCase("kyverno-privilege-escalation", "allowPrivilegeEscalation: true", "pod-security-restricted", "allowPrivilegeEscalation", privilegeEscalation),
		deployCase("kyverno-no-seccomp", "no seccomp profile", "pod-security-restricted", "seccomp", noSeccomp),
		deployCase("kyverno-privileged-init", "a privileged initContainer", "pod-security-restricted", "privileged", privilegedInit),

		deployCase("writable-root-fs", "a writable root filesystem", "require-read-only-root-fs", "readOnlyRootFilesystem", writableRoot),
		deployCase("no-limits", "a container without limits", "require-requests-limits", "limits", noLimits),
		deployCase("no-limits-init", "an initContainer without limits", "require-requests-limits", "migrate", noInitLimits),
		deployCase("no-requests", "a container without requests", "require-requests-limits", "requests", noRequests),
		deployCase("no-liveness-probe", "no liveness probe", "require-probes", "liveness", noLiveness),
		deployCase("no-readiness-probe", "no readiness probe", "require-probes", "readiness", noReadiness),

		deployCase("latest-tag", "the :latest tag", "restrict-image-tags", ":latest", image(func(i Images) string { return i.Latest })),
		deployCase("untrusted-registry", "a signed image from a registry the platform does not trust", "restrict-image-registries", "does not trust", image(func(i Images) string { return i.Untrusted })),
		deployCase("unsigned-image", "an unsigned image", "verify-image-signatures", "signatures", image(func(i Images) string { return i.Unsigned })),
		deployCase("wrong-signature", "an image signed with another key", "verify-image-signatures", "signatures", image(func(i Images) string { return i.WrongKey })),
		// Signed with the trusted key, and still not what the pipeline released.
		deployCase("signed-no-sbom", "a signed image without an SBOM attestation", "verify-image-signatures", "sbom: image(s) without a CycloneDX SBOM", image(func(i Images) string { return i.NoSBOM })),
		deployCase("provenance-other-builder", "a signed image whose provenance names another builder", "verify-image-signatures", "built by a builder the platform does not trust", image(func(i Images) string { return i.OtherBuilder })),
		deployCase("provenance-other-repository", "a signed image built from another repository", "verify-image-signatures", "not built from", image(func(i Images) string { return i.OtherRepository })),
		deployCase("attested-by-other-key", "a signed image whose SBOM and provenance another key attested", "verify-image-signatures", "sbom: image(s) without a CycloneDX SBOM", image(func(i Images) string { return i.AttestedByOtherKey })),
		{
			Name: "default-namespace", What: "a workload in the default namespace", Verb: Create,
			Object: func(b Base) *unstructured.Unstructured {
				return deployment(b, "default-namespace", func(d *appsv1.Deployment) { d.Namespace = "default" })
			},
			Want: Want{Component: kube.Kyverno, Policy: "disallow-default-namespace", Reason: "default namespace"},
		},
		{
			Name: "nodeport-service", What: "a NodePort Service", Verb: Create,
			Object: func(Base) *unstructured.Unstructured { return service("nodeport-service", corev1.ServiceTypeNodePort) },
			Want:   Want{Component: kube.Kyverno, Policy: "restrict-service-types", Reason: "NodePort"},
		},
		{
			Name: "loadbalancer-service", What: "a LoadBalancer Service", Verb: Create,
			Object: func(Base) *unstructured.Unstructured {
				return service("loadbalancer-service", corev1.ServiceTypeLoadBalancer)
			},
			Want: Want{Component: kube.Kyverno, Policy: "restrict-service-types", Reason: "LoadBalancer"},
		},
		{
			Name: "cluster-admin-binding", What: "cluster-admin bound to a ServiceAccount (ClusterRoleBinding)", Verb: Create,
			Object: func(Base) *unstructured.Unstructured {
				return toUnstructured(&rbacv1.ClusterRoleBinding{
					TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
					ObjectMeta: metav1.ObjectMeta{Name: "e2e-cluster-admin-binding"},
					RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
					Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "template-api", Namespace: Namespace}},
				})
			},
			Want: Want{Component: kube.Kyverno, Policy: "disallow-service-account-cluster-admin", Reason: "cluster-admin"},
		},
		{
			Name: "cluster-admin-rolebinding", What: "cluster-admin bound to a ServiceAccount in a namespace (RoleBinding)", Verb: Create,
			Object: func(Base) *unstructured.Unstructured {
				return roleBinding("e2e-cluster-admin-rolebinding", "cluster-admin", "ci-deployer")
			},
			Want: Want{Component: kube.Kyverno, Policy: "disallow-service-account-cluster-admin", Reason: "cluster-admin"},
		},

		// The CI deployer, by impersonation: what its Role does not grant, RBAC refuses.
		{
			Name: "ci-read-secret", What: "the CI deployer reading a Secret", As: CIDeployer, Verb: Get,
			Object: func(Base) *unstructured.Unstructured { return ref("v1", "Secret", Namespace, "template-api-db") },
			Want:   Want{Component: kube.RBAC, Reason: `cannot get resource "secrets"`},
		},
		{
			Name: "ci-list-secrets", What: "the CI deployer listing Secrets", As: CIDeployer, Verb: List,
			Object: func(Base) *unstructured.Unstructured { return ref("v1", "Secret", Namespace, "") },
			Want:   Want{Component: kube.RBAC, Reason: `cannot list resource "secrets"`},
		},
		{
			Name: "ci-other-namespace", What: "the CI deployer deploying into another namespace", As: CIDeployer, Verb: Create,
			Object: func(b Base) *unstructured.Unstructured {
				return deployment(b, "ci-other-namespace", func(d *appsv1.Deployment) { d.Namespace = b.OtherNamespace })
			},
			Want: Want{Component: kube.RBAC, Reason: `cannot create resource "deployments"`},
		},
		{
			Name: "ci-create-rolebinding", What: "the CI deployer creating a RoleBinding", As: CIDeployer, Verb: Create,
			Object: func(Base) *unstructured.Unstructured {
				return roleBinding("e2e-ci-escalation", "edit", "ci-deployer")
			},
			Want: Want{Component: kube.RBAC, Reason: `cannot create resource "rolebindings"`},
		},
		{
			Name: "ci-create-secret", What: "the CI deployer writing a Secret", As: CIDeployer, Verb: Create,
			Object: func(Base) *unstructured.Unstructured {
				s := ref("v1", "Secret", Namespace, "e2e-ci-secret")
				s.Object["stringData"] = map[string]any{"k": "v"}
				return s
			},
			Want: Want{Component: kube.RBAC, Reason: `cannot create resource "secrets"`},
		},
	}
}

// GoodDeployment is the control: the overlay's own Deployment, as the CI deployer would
// create it (under another name, so it does not disturb the deployed one).
func GoodDeployment(b Base) *unstructured.Unstructured {
	return deployment(b, "good-ci-deploy", func(*appsv1.Deployment) {})
}

func podCase(name, what, reason string, mutate fault) Case {
	return Case{Name: name, What: what + " (Pod)", Verb: Create,
		Object: func(b Base) *unstructured.Unstructured {
			return pod(b, name, func(s *corev1.PodSpec) { mutate(s, b.Images) })
		},
		Want: Want{Component: kube.PodSecurity, Reason: reason}}
}

func deployCase(name, what, policy, reason string, mutate fault) Case {
	return Case{Name: name, What: what + " (Deployment)", Verb: Create,
		Object: func(b Base) *unstructured.Unstructured {
			return deployment(b, name, func(d *appsv1.Deployment) { mutate(&d.Spec.Template.Spec, b.Images) })
		},
		Want: Want{Component: kube.Kyverno, Policy: policy, Reason: reason}}
}

// fault is one change to a good pod spec (the images are the run's, for the image faults).
type fault func(*corev1.PodSpec, Images)

// A privileged container cannot also say allowPrivilegeEscalation: false (the API server's
// validation refuses the combination), so the faults unset it, as a careless manifest would.
func privileged(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.Privileged = ptr(true)
	s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
}
func hostNetwork(s *corev1.PodSpec, _ Images) { s.HostNetwork = true }
func hostPID(s *corev1.PodSpec, _ Images)     { s.HostPID = true }
func hostPath(s *corev1.PodSpec, _ Images) {
	s.Volumes = append(s.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: "/var/run"}}})
	s.Containers[0].VolumeMounts = append(s.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "host", MountPath: "/host", ReadOnly: true})
}
func addCapability(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
}
func addSysAdmin(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
}
func runAsRoot(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.RunAsUser = ptr(int64(0))
}
func privilegeEscalation(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr(true)
}
func noSeccomp(s *corev1.PodSpec, _ Images) {
	s.SecurityContext.SeccompProfile = nil
	for i := range s.InitContainers {
		s.InitContainers[i].SecurityContext.SeccompProfile = nil
	}
	for i := range s.Containers {
		s.Containers[i].SecurityContext.SeccompProfile = nil
	}
}
func privilegedInit(s *corev1.PodSpec, _ Images) {
	s.InitContainers[0].SecurityContext.Privileged = ptr(true)
	s.InitContainers[0].SecurityContext.AllowPrivilegeEscalation = nil
}

func writableRoot(s *corev1.PodSpec, _ Images) {
	s.Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr(false)
}
func noLimits(s *corev1.PodSpec, _ Images)     { s.Containers[0].Resources.Limits = nil }
func noInitLimits(s *corev1.PodSpec, _ Images) { s.InitContainers[0].Resources.Limits = nil }
func noRequests(s *corev1.PodSpec, _ Images)   { s.Containers[0].Resources.Requests = nil }
func noLiveness(s *corev1.PodSpec, _ Images)   { s.Containers[0].LivenessProbe = nil }
func noReadiness(s *corev1.PodSpec, _ Images)  { s.Containers[0].ReadinessProbe = nil }

// image swaps every image of the pod (init and app containers) for one of the run's images.
func image(pick func(Images) string) fault {
	return func(s *corev1.PodSpec, imgs Images) {
		for i := range s.InitContainers {
			s.InitContainers[i].Image = pick(imgs)
		}
		for i := range s.Containers {
			s.Containers[i].Image = pick(imgs)
		}
	}
}

// deployment copies the good Deployment under a new name and applies one change.
func deployment(b Base, name string, mutate func(*appsv1.Deployment)) *unstructured.Unstructured {
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(b.Deployment.DeepCopy().Object, &d); err != nil {
		panic(fmt.Sprintf("the rendered Deployment does not convert: %v", err))
	}
	d.ObjectMeta = metav1.ObjectMeta{Name: "e2e-" + name, Namespace: Namespace, Labels: d.Labels}
	d.Status = appsv1.DeploymentStatus{}
	mutate(&d)
	return toUnstructured(&d)
}

// pod turns the good Deployment's pod template into a Pod and applies one change.
func pod(b Base, name string, mutate func(*corev1.PodSpec)) *unstructured.Unstructured {
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(b.Deployment.DeepCopy().Object, &d); err != nil {
		panic(fmt.Sprintf("the rendered Deployment does not convert: %v", err))
	}
	p := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + name, Namespace: Namespace, Labels: d.Spec.Template.Labels},
		Spec:       d.Spec.Template.Spec,
	}
	mutate(&p.Spec)
	return toUnstructured(&p)
}

// roleBinding binds a ClusterRole to a ServiceAccount of the app namespace, in that namespace.
func roleBinding(name, clusterRole, serviceAccount string) *unstructured.Unstructured {
	return toUnstructured(&rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: Namespace}},
	})
}

func service(name string, t corev1.ServiceType) *unstructured.Unstructured {
	return toUnstructured(&corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + name, Namespace: Namespace},
		Spec: corev1.ServiceSpec{Type: t, Selector: map[string]string{"app.kubernetes.io/name": "template-api"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	})
}

func ref(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func toUnstructured(obj runtime.Object) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(fmt.Sprintf("convert %T: %v", obj, err))
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return u
}

func ptr[T any](v T) *T { return &v }

// Canary is a Deployment the harness uses to see that Kyverno's webhooks are live: the good one
// with the image picked (when pick is set) or without limits (when noLimits).
func Canary(b Base, name string, pick func(Images) string, withoutLimits bool) *unstructured.Unstructured {
	return deployment(b, name, func(d *appsv1.Deployment) {
		if pick != nil {
			image(pick)(&d.Spec.Template.Spec, b.Images)
		}
		if withoutLimits {
			noLimits(&d.Spec.Template.Spec, b.Images)
		}
	})
}
