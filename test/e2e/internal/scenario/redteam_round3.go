package scenario

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// The red team's third round. Two RBAC powers the second round's list did not name, each
// admitted (or refused for another reason) before its fix: a Service's status (the load balancer
// addresses every node routes to, CVE-2020-8554's second half) and certificate approval (a client
// certificate for any user, system:masters included). The rest is "held": Services exposed by a
// change of the deployer's own Service rather than a new one, the other half of CVE-2020-8554,
// and pod templates in a bare Job and a CronJob; each was refused already, and stays so that a
// policy narrowed to some kinds or operations is caught.

// thirdRound is appended to the red-team table by RedTeam.
func thirdRound() []Attempt {
	var t []Attempt
	t = append(t, redirectionAttempts()...)
	t = append(t, serviceExposureAttempts()...)
	t = append(t, jobTemplateAttempts()...)
	t = append(t, forgedStatusAttempts()...)
	return t
}

// forgedStatusAttempts: restrict-scheduling lets a Pod that carries the PodScheduled condition
// keep its spec.nodeName, because Kyverno's background scan judges Pods the scheduler placed as
// if they were being created. A Pod created with that condition forged must still be refused:
// the API server resets a new Pod's status before validating admission, so no such Pod reaches
// the policy with the condition.
func forgedStatusAttempts() []Attempt {
	return []Attempt{
		{Name: "pod-forged-scheduled-status", Class: "scheduling", What: "a Pod created with spec.nodeName and a forged PodScheduled condition in its status",
			Op: OpCreate, Object: func(b Base) *unstructured.Unstructured {
				u := podIn(Namespace, "rt-forged-scheduled", func(s *corev1.PodSpec, _ Images) { s.NodeName = "control-plane" })(b)
				u.Object["status"] = map[string]any{"phase": "Running", "conditions": []any{
					map[string]any{"type": "PodScheduled", "status": "True"}}}
				return u
			},
			Want: byKyverno(polScheduling, "spec.nodeName (control-plane) skips the scheduler")},
	}
}

// redirectionAttempts: powers that redirect traffic or mint identities without touching a pod.
func redirectionAttempts() []Attempt {
	const c = "rbac"
	serviceStatus := "redirecting Services (writing Endpoints, EndpointSlices, or a Service's status"
	certificates := "issuing certificates (approving or signing certificate requests"
	return []Attempt{
		{Name: "rb-service-status-writer", Class: c, What: "patch services/status (status.loadBalancer.ingress: the nodes route that address to the attacker's pods)",
			Op: OpCreate, Object: nsBinding(Namespace, "rt-svc-status", "Role", "rt-svc-status", ciSA),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole(Namespace, "rt-svc-status", rule(core, []string{"services/status"}, []string{"patch"}))},
			Want: byKyverno(polBindings, serviceStatus)},
		{Name: "widen-bound-role-to-service-status", Class: c, What: "a Role bound to the CI deployer, widened to services/status afterwards",
			Op: OpUpdate, Object: nsRole(Namespace, "rt-svc-reader", rule(core, []string{"services"}, read)),
			Mutate: addRules(rule(core, []string{"services/status"}, []string{"update"})),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole(Namespace, "rt-svc-reader", rule(core, []string{"services"}, read)),
				nsBinding(Namespace, "rt-svc-reader", "Role", "rt-svc-reader", ciSA)},
			Want: byKyverno(polRoles, serviceStatus)},
		{Name: "crb-certificate-approver", Class: c, What: "approve certificate requests for the API server's client signer (a certificate as system:masters)",
			Op: OpCreate, Object: clusterBinding("rt-csr-approver", "rt-csr-approver", appSA),
			Setup: []func(Base) *unstructured.Unstructured{
				clusterRole("rt-csr-approver", nil,
					rule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests"}, []string{"create", "get"}),
					rule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests/approval"}, []string{"update"}),
					rule([]string{"certificates.k8s.io"}, []string{"signers"}, []string{"approve"}))},
			Want: byKyverno(polBindings, certificates)},
		{Name: "crb-certificate-signer", Class: c, What: "sign certificate requests (status.certificate) for any signer",
			Op: OpCreate, Object: clusterBinding("rt-csr-signer", "rt-csr-signer", ciSA),
			Setup: []func(Base) *unstructured.Unstructured{
				clusterRole("rt-csr-signer", nil,
					rule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests/status"}, []string{"patch"}),
					rule([]string{"certificates.k8s.io"}, []string{"signers"}, []string{"sign"}))},
			Want: byKyverno(polBindings, certificates)},
		{Name: "control-csr-reader", Class: c, What: "reading certificate requests (no approval, no signing) for the app",
			Op: OpCreate, Object: clusterBinding("rt-csr-reader", "rt-csr-reader", appSA),
			Setup: []func(Base) *unstructured.Unstructured{
				clusterRole("rt-csr-reader", nil,
					rule([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests"}, read))},
			Want: admitted},
	}
}

// serviceExposureAttempts (held): the deployer may change its own Service, so exposure arrives
// as a patch of that Service as well as a new one; and a ClusterIP Service with externalIPs
// intercepts traffic to any address (CVE-2020-8554).
func serviceExposureAttempts() []Attempt {
	const c = "services"
	appService := refTo("v1", "Service", Namespace, "template-api")
	return []Attempt{
		{Name: "ci-patch-service-load-balancer", Class: c, What: "CI: a merge patch turning the app's Service into a LoadBalancer",
			As: ci, Op: OpPatch, Object: appService, Patch: patchAs(types.MergePatchType, `{"spec":{"type":"LoadBalancer"}}`),
			Want: byKyverno(polServices, "a LoadBalancer Service is only allowed in the ingress namespace")},
		{Name: "ci-patch-service-node-port", Class: c, What: "CI: a JSON patch turning the app's Service into a NodePort",
			As: ci, Op: OpPatch, Object: appService, Patch: patchAs(types.JSONPatchType, `[{"op":"replace","path":"/spec/type","value":"NodePort"}]`),
			Want: byKyverno(polServices, "a NodePort Service is only allowed in the ingress namespace")},
		{Name: "ci-patch-service-external-ips", Class: c, What: "CI: externalIPs added to the app's Service (traffic to that address, from any pod, lands here)",
			As: ci, Op: OpPatch, Object: appService, Patch: patchAs(types.StrategicMergePatchType, `{"spec":{"externalIPs":["203.0.113.10"]}}`),
			Want: byKyverno(polServices, "spec.externalIPs is not allowed (CVE-2020-8554)")},
		{Name: "admin-external-ips-service", Class: c, What: "a new ClusterIP Service with externalIPs (the address of an outside API, intercepted)",
			Op: OpCreate, Object: serviceOf("rt-intercept", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"203.0.113.10"} }),
			Want: byKyverno(polServices, "spec.externalIPs is not allowed")},
		{Name: "ci-service-status", Class: c, What: "CI: writing a load balancer address into its Service's status",
			As: ci, Op: OpPatch, Subresource: "status", Object: appService,
			Patch: patchAs(types.MergePatchType, `{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"}]}}}`),
			Want:  byRBAC(`cannot patch resource "services/status"`)},
		{Name: "control-ci-patch-service-annotation", Class: c, What: "CI: a merge patch of an annotation on the app's Service",
			As: ci, Op: OpPatch, Object: appService, Patch: patchAs(types.MergePatchType, `{"metadata":{"annotations":{"example.com/release":"red-team"}}}`),
			Want: admitted},
	}
}

// jobTemplateAttempts (held): the pod template of a bare Job and of a CronJob's job template are
// judged like a Deployment's.
func jobTemplateAttempts() []Attempt {
	const c = "kinds"
	unsigned := image(func(i Images) string { return i.Unsigned })
	return []Attempt{
		{Name: "job-privileged", Class: c, What: "a privileged container (bare Job)", Op: OpCreate,
			Object: job("rt-job-privileged", privileged), Want: byKyverno(polPodSec, "privileged")},
		{Name: "job-host-path", Class: c, What: "the node's root filesystem mounted (bare Job)", Op: OpCreate,
			Object: job("rt-job-host-path", func(s *corev1.PodSpec, _ Images) {
				s.Volumes = append(s.Volumes, corev1.Volume{Name: "rt-host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
			}), Want: byKyverno(polPodSec, "rt-host")},
		{Name: "cronjob-unsigned", Class: c, What: "an unsigned image (CronJob)", Op: OpCreate,
			Object: cronJob("rt-cronjob-unsigned", unsigned), Want: byKyverno(polSignatures, "signatures")},
		{Name: "cronjob-secret-env", Class: c, What: "the database Secret in the environment (CronJob)", Op: OpCreate,
			Object: cronJob("rt-cronjob-secret-env", func(s *corev1.PodSpec, _ Images) {
				s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "template-api-db"}, Key: "password"}}})
			}), Want: byKyverno(polSecrets, "never in env")},
		{Name: "control-good-job", Class: c, What: "the good template as a bare Job", Op: OpCreate,
			Object: job("rt-control-job", func(*corev1.PodSpec, Images) {}), Want: admitted},
	}
}

// job is the good template as a bare Job (suspended: nothing needs to run), with one change.
func job(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		mutate(&d.Spec.Template.Spec, b.Images)
		d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		return toUnstructured(&batchv1.Job{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec:       batchv1.JobSpec{Suspend: ptr(true), Template: d.Spec.Template},
		})
	}
}
