package scenario

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const (
	polTermination = "restrict-termination"
	polTokenSecret = "restrict-service-account-token-secrets"
)

// The red team's fifth round: objects that cannot be taken away, volumes a node plugin fills on
// the pod's word, ServiceAccount tokens that never expire, and workloads written where the
// workload guardrails do not look. Each bad attempt was admitted before its fix.

// fifthRound is appended to the red-team table by RedTeam.
func fifthRound() []Attempt {
	t := append(terminationAttempts(), inlineCSIAttempts()...)
	t = append(t, tokenSecretAttempts()...)
	return append(t, elsewhereAttempts()...)
}

// elsewhereAttempts: the workload guardrails that read the namespace (Secrets and identities as
// it declares, scheduling, termination) judge application namespaces, those labelled
// platform-template.io/environment. A workload identity given the right to write workloads in
// another namespace (kube-public here) runs there what they would refuse: a Secret in an
// environment variable, a termination message read from a mounted Secret. Both were admitted
// before disallow-service-account-cluster-admin and restrict-bound-role-changes refused it.
func elsewhereAttempts() []Attempt {
	const c = "elsewhere"
	apps := []string{"apps"}
	writes := []string{"create", "update", "patch"}
	why := "writing workloads (pods and their controllers) in a namespace that is not an application namespace"
	return []Attempt{
		{Name: "rb-ci-deploys-outside-apps", Class: c, What: "the CI deployer given Deployments in a namespace without the environment label",
			Op: OpCreate, Object: nsBinding("kube-public", "rt-ci-elsewhere", "Role", "rt-ci-elsewhere", ciSA),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole("kube-public", "rt-ci-elsewhere", rule(apps, []string{"deployments"}, writes))},
			Want: byKyverno(polBindings, why)},
		{Name: "widen-bound-role-outside-apps", Class: c, What: "a Role the CI deployer holds outside application namespaces, widened to create pods",
			Op: OpUpdate, Object: nsRole("kube-public", "rt-ci-reader-elsewhere", rule(core, []string{"configmaps"}, read)),
			Mutate: addRules(rule(core, []string{"pods"}, []string{"create"})),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole("kube-public", "rt-ci-reader-elsewhere", rule(core, []string{"configmaps"}, read)),
				nsBinding("kube-public", "rt-ci-reader-elsewhere", "Role", "rt-ci-reader-elsewhere", ciSA)},
			Want: byKyverno(polRoles, why)},
		{Name: "control-deployer-role-in-app-namespace", Class: c, What: "the CI deployer given Deployments in the application namespace",
			Op: OpCreate, Object: nsBinding(Namespace, "rt-control-deploy", "Role", "rt-control-deploy", ciSA),
			Setup: []func(Base) *unstructured.Unstructured{
				nsRole(Namespace, "rt-control-deploy", rule(apps, []string{"deployments"}, writes))},
			Want: admitted},
	}
}

// tokenSecretAttempts: a Secret of type kubernetes.io/service-account-token is filled by the
// token controller with a token of the ServiceAccount it names, which never expires. Both were
// admitted before restrict-service-account-token-secrets; the second shows the policy holds in
// kube-system, where Kyverno judges nothing.
func tokenSecretAttempts() []Attempt {
	const c = "tokens"
	tokenSecret := func(ns, name, account string) func(Base) *unstructured.Unstructured {
		return func(Base) *unstructured.Unstructured {
			return toUnstructured(&corev1.Secret{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
					Annotations: map[string]string{corev1.ServiceAccountNameKey: account}},
				Type: corev1.SecretTypeServiceAccountToken,
			})
		}
	}
	return []Attempt{
		{Name: "admin-ci-deployer-token-secret", Class: c, What: "a Secret holding a token of the CI deployer that never expires",
			Op: OpCreate, Object: tokenSecret(Namespace, "rt-ci-deployer-token", "ci-deployer"),
			Want: byVAP(polTokenSecret, "would hold a token of ServiceAccount ci-deployer that never expires")},
		{Name: "admin-controller-token-secret", Class: c, What: "a Secret in kube-system holding a token of a controller's account",
			Op: OpCreate, Object: tokenSecret("kube-system", "rt-controller-token", "replicaset-controller"),
			Want: byVAP(polTokenSecret, "would hold a token of ServiceAccount replicaset-controller that never expires")},
	}
}

// inlineCSIAttempts: Pod Security allows every CSI driver inline, and the node plugin acts with
// its own rights on what the volume's attributes ask (a secrets-store driver reads cloud
// secrets, a certificate driver issues certificates for any name). Both were admitted before
// restrict-secret-and-identity-use named the drivers a Namespace allows (none by default).
func inlineCSIAttempts() []Attempt {
	const c = "csi"
	withCSI := func(name, driver string, attributes map[string]string) func(Base) *unstructured.Unstructured {
		return inApp(name, func(s *corev1.PodSpec, _ Images) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "inline", VolumeSource: corev1.VolumeSource{
				CSI: &corev1.CSIVolumeSource{Driver: driver, ReadOnly: ptr(true), VolumeAttributes: attributes}}})
		})
	}
	return []Attempt{
		{Name: "ci-inline-secrets-store", Class: c, What: "CI: every secret of a SecretProviderClass mounted through the secrets-store CSI driver",
			As: ci, Op: OpDryRun, Object: withCSI("rt-secrets-store", "secrets-store.csi.k8s.io", map[string]string{"secretProviderClass": "every-secret"}),
			Want: byKyverno(polSecrets, "inline CSI volume(s) inline (secrets-store.csi.k8s.io) of a driver not declared")},
		{Name: "admin-inline-certificate", Class: c, What: "a certificate for the API server's name, issued by cert-manager's CSI driver on the pod's word",
			Op: OpDryRun, Object: withCSI("rt-csi-certificate", "csi.cert-manager.io", map[string]string{
				"csi.cert-manager.io/issuer-name": "platform-ca", "csi.cert-manager.io/issuer-kind": "ClusterIssuer",
				"csi.cert-manager.io/dns-names": "kubernetes.default.svc"}),
			Want: byKyverno(polSecrets, "inline CSI volume(s) inline (csi.cert-manager.io) of a driver not declared")},
	}
}

// terminationAttempts: a finalizer nobody removes keeps an object, and so its namespace, for
// ever; in a template it reaches every object made from it (every pod Terminating, `kubectl
// drain` hung on its node); a grace period of a year does the same for as long. Each was admitted
// before restrict-termination, CI's too (it may create Deployments, Services and ConfigMaps and
// patch its own). The creations are dry runs: were one admitted again, nothing undeletable would
// be left behind.
func terminationAttempts() []Attempt {
	const c = "termination"
	appDeployment := refTo("apps/v1", "Deployment", Namespace, "template-api")
	appService := refTo("v1", "Service", Namespace, "template-api")
	withDeployment := func(name string, mutate func(*appsv1.Deployment)) func(Base) *unstructured.Unstructured {
		return deploymentIn(Namespace, name, func(d *appsv1.Deployment, _ Images) { mutate(d) })
	}
	withFinalizers := func(obj func(Base) *unstructured.Unstructured, finalizers ...string) func(Base) *unstructured.Unstructured {
		return func(b Base) *unstructured.Unstructured {
			u := obj(b)
			u.SetFinalizers(finalizers)
			return u
		}
	}
	return []Attempt{
		{Name: "ci-template-finalizer", Class: c, What: "CI: a Deployment whose pod template carries a finalizer (every pod Terminating for ever)",
			As: ci, Op: OpDryRun, Object: withDeployment("rt-template-finalizer", func(d *appsv1.Deployment) {
				d.Spec.Template.Finalizers = []string{"example.com/never"}
			}),
			Want: byKyverno(polTermination, "finalizer(s) example.com/never in a template (of pods, jobs or volume claims)")},
		{Name: "ci-service-finalizer", Class: c, What: "CI: a finalizer added to the app's own Service (it, and the namespace, undeletable)",
			As: ci, Op: OpPatch, Object: appService, Patch: patchAs(types.MergePatchType, `{"metadata":{"finalizers":["example.com/keep"]}}`),
			Want: byKyverno(polTermination, "finalizer(s) example.com/keep on Service template-api")},
		{Name: "ci-configmap-finalizer", Class: c, What: "CI: a ConfigMap created with a finalizer",
			As: ci, Op: OpDryRun, Object: withFinalizers(configMap(Namespace, "rt-kept-config"), "example.com/keep"),
			Want: byKyverno(polTermination, "finalizer(s) example.com/keep on ConfigMap rt-kept-config")},
		{Name: "ci-year-long-grace", Class: c, What: "CI: a Deployment with terminationGracePeriodSeconds of a year",
			As: ci, Op: OpDryRun, Object: withDeployment("rt-year-long-grace", func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(31536000))
			}),
			Want: byKyverno(polTermination, "for the pod (31536000 s)")},
		{Name: "ci-liveness-probe-grace", Class: c, What: "CI: its own Deployment's liveness probe given a grace period of a day",
			As: ci, Op: OpPatch, Object: appDeployment,
			Patch: patchAs(types.JSONPatchType, `[{"op":"add","path":"/spec/template/spec/containers/0/livenessProbe/terminationGracePeriodSeconds","value":86400}]`),
			Want:  byKyverno(polTermination, "for a probe of api (86400 s)")},
		{Name: "admin-claim-template-finalizer", Class: c, What: "a StatefulSet whose volume claim template carries a finalizer (each claim, copied whole, undeletable)",
			Op: OpDryRun, Object: statefulSet("rt-kept-claims", func(pvc *corev1.PersistentVolumeClaim) { pvc.Finalizers = []string{"example.com/keep-volume"} }),
			Want: byKyverno(polTermination, "finalizer(s) example.com/keep-volume in a template")},
		{Name: "admin-pod-job-tracking", Class: c, What: "a bare Pod with the Job tracking finalizer and no Job to remove it",
			Op: OpDryRun, Object: withFinalizers(podIn(Namespace, "rt-job-tracking", func(*corev1.PodSpec, Images) {}), "batch.kubernetes.io/job-tracking"),
			Want: byKyverno(polTermination, "finalizer(s) batch.kubernetes.io/job-tracking on Pod rt-job-tracking")},
		{Name: "control-ci-bounded-grace", Class: c, What: "CI: a Deployment that stops within the ceiling (300 s, a liveness probe's own 60 s)",
			As: ci, Op: OpDryRun, Object: withDeployment("rt-bounded-grace", func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(300))
				d.Spec.Template.Spec.Containers[0].LivenessProbe.TerminationGracePeriodSeconds = ptr(int64(60))
			}),
			Want: admitted},
	}
}
