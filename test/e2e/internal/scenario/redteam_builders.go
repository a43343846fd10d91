package scenario

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Builders of the red-team table's objects. Every name starts with "rt-".

// The roles and bindings of the RBAC attempts.

func rule(groups, resources, verbs []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
}

func clusterRole(name string, labels map[string]string, rules ...rbacv1.PolicyRule) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Rules:      rules,
		})
	}
}

func aggregatedClusterRole(name string, selector map[string]string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: selector}}},
		})
	}
}

func nsRole(ns, name string, rules ...rbacv1.PolicyRule) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Rules:      rules,
		})
	}
}

func saSubject(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: ns}
}
func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: name}
}
func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: name}
}

func clusterBinding(name, clusterRole string, subjects ...rbacv1.Subject) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterRole},
			Subjects:   subjects,
		})
	}
}

// nsBinding binds a Role (roleKind "Role") or a ClusterRole in namespace ns.
func nsBinding(ns, name, roleKind, role string, subjects ...rbacv1.Subject) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: roleKind, Name: role},
			Subjects:   subjects,
		})
	}
}

// Namespaces and what lives in them.

func namespace(name string, labels map[string]string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		})
	}
}

// serviceAccount is created beside pods in namespaces without one: no controller makes the
// "default" ServiceAccount on the local control plane, and a missing one would be refused by
// the ServiceAccount plugin, which is not a guardrail.
func serviceAccount(ns, name string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		})
	}
}

// redteamSA is the ServiceAccount of the red team's pods outside the app's namespace.
const redteamSA = "rt-workload"

// podIn is the good Pod moved to namespace ns (running as redteamSA), with one change.
func podIn(ns, name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		return podUnstructured(b, ns, name, func(s *corev1.PodSpec) {
			if ns != Namespace {
				s.ServiceAccountName = redteamSA
			}
			mutate(s, b.Images)
		})
	}
}

func podUnstructured(b Base, ns, name string, mutate func(*corev1.PodSpec)) *unstructured.Unstructured {
	u := pod(b, name, mutate)
	u.SetName(name)
	u.SetNamespace(ns)
	return u
}

// deploymentIn is the good Deployment, named name in namespace ns, with one change.
func deploymentIn(ns, name string, mutate func(*appsv1.Deployment, Images)) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		u := deployment(b, name, func(d *appsv1.Deployment) { mutate(d, b.Images) })
		u.SetName(name)
		u.SetNamespace(ns)
		return u
	}
}

// inApp is deploymentIn the app's namespace with a change to the pod spec only.
func inApp(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return deploymentIn(Namespace, name, func(d *appsv1.Deployment, i Images) { mutate(&d.Spec.Template.Spec, i) })
}

// ciAppDeployment is the CI deployer writing a Deployment rt-<name> of the app in its namespace,
// its pod spec changed by mutate: created when a guardrail must refuse it, a dry run when it is a
// control (admitted, nothing stays).
func ciAppDeployment(class, name, what string, mutate fault, want Want) Attempt {
	op := OpCreate
	if want == admitted {
		op = OpDryRun
	}
	return Attempt{Name: name, Class: class, What: "CI: " + what, As: ci, Op: op, Object: inApp("rt-"+name, mutate), Want: want}
}

// ownSelector adds a label naming the attempt's object to the selector and the template of d:
// a bare ReplicaSet or ReplicationController selecting only the app's labels adopts every
// orphan pod of the app (the red team's own debug target included) where a controller-manager
// runs, and its deletion then takes those pods with it.
func ownSelector(d *appsv1.Deployment, name string) {
	const key = "red-team.platform-template.io/owner"
	d.Spec.Selector.MatchLabels[key] = name
	d.Spec.Template.Labels[key] = name
}

// replicaSet is the good Deployment's template as a bare ReplicaSet, with one change.
func replicaSet(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		ownSelector(d, name)
		mutate(&d.Spec.Template.Spec, b.Images)
		return toUnstructured(&appsv1.ReplicaSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(1)), Selector: d.Spec.Selector, Template: d.Spec.Template},
		})
	}
}

// replicationController is the same as a ReplicationController (the legacy controller).
func replicationController(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		ownSelector(d, name)
		mutate(&d.Spec.Template.Spec, b.Images)
		return toUnstructured(&corev1.ReplicationController{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: corev1.ReplicationControllerSpec{Replicas: ptr(int32(1)), Selector: d.Spec.Selector.MatchLabels,
				Template: &d.Spec.Template},
		})
	}
}

// cronJob is the good template as a CronJob, with one change.
func cronJob(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		mutate(&d.Spec.Template.Spec, b.Images)
		d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		return toUnstructured(&batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{
				Spec: batchv1.JobSpec{Template: d.Spec.Template}}},
		})
	}
}

// daemonSet is the good template as a DaemonSet, with one change.
func daemonSet(name string, mutate fault) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		mutate(&d.Spec.Template.Spec, b.Images)
		return toUnstructured(&appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec:       appsv1.DaemonSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template},
		})
	}
}

func deploymentTyped(b Base) *appsv1.Deployment {
	var d appsv1.Deployment
	u := deployment(b, "x", func(*appsv1.Deployment) {})
	if err := fromUnstructured(u, &d); err != nil {
		panic(err)
	}
	return &d
}

// debugTarget is the running app Pod the debug attempts add ephemeral containers to.
const debugTarget = "rt-debug-target"

// DebugTarget is the Pod the debug attempts need: the good pod of the overlay, without its init
// container. (Each debug request then names the app's image once: Kyverno v1.19.1's image data
// cache deadlocks on a request where one image appears twice and another follows; see
// policies/kyverno/README.md, known issue.)
func DebugTarget(b Base) *unstructured.Unstructured {
	return podUnstructured(b, Namespace, debugTarget, func(s *corev1.PodSpec) { s.InitContainers = nil })
}

// ephemeral is `kubectl debug` of debugTarget with a container made from the app container
// (image and securityContext), changed by mutate.
func ephemeral(name string, mutate func(*corev1.EphemeralContainer, Images)) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		app := d.Spec.Template.Spec.Containers[0]
		ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: name, Image: app.Image, Command: []string{"/api", "version"},
			SecurityContext: app.SecurityContext.DeepCopy(), TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}, TargetContainerName: app.Name}
		mutate(&ec, b.Images)
		return toUnstructured(&corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: debugTarget, Namespace: Namespace},
			Spec:       corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{ec}},
		})
	}
}

// Services, autoscalers, budgets, exceptions.

func serviceOf(name string, mutate func(*corev1.Service)) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		s := corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app.kubernetes.io/name": "template-api"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
		}
		mutate(&s)
		return toUnstructured(&s)
	}
}

func hpa(name, kind, target string, maxReplicas int32) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		api := "apps/v1"
		return toUnstructured(&autoscalingv2.HorizontalPodAutoscaler{
			TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: api, Kind: kind, Name: target},
				MinReplicas:    ptr(int32(1)), MaxReplicas: maxReplicas,
			},
		})
	}
}

func pdb(name, selectsApp string, minAvailable intstr.IntOrString) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&policyv1.PodDisruptionBudget{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": selectsApp}}},
		})
	}
}

// patchAs is a patch of the given type with the given body, the same for every Base.
func patchAs(kind types.PatchType, data string) func(Base) Patch {
	return func(Base) Patch { return Patch{Type: kind, Data: data} }
}

func configMap(ns, name string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Data:       map[string]string{"ca-bundle.pem": "not a real bundle"},
		})
	}
}

// policyException is a Kyverno PolicyException (policies.kyverno.io/v1) for the named policies,
// with a reason unless reason is empty.
func policyException(ns, name, reason string, policies ...string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		var refs []any
		for _, p := range policies {
			refs = append(refs, map[string]any{"name": p, "kind": "ValidatingPolicy"})
		}
		meta := map[string]any{"name": name, "namespace": ns}
		if reason != "" {
			meta["annotations"] = map[string]any{"policies.kyverno.io/reason": reason}
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "policies.kyverno.io/v1", "kind": "PolicyException", "metadata": meta,
			// Matches nothing, so that no other attempt is exempted while it exists.
			"spec": map[string]any{"policyRefs": refs, "matchConditions": []any{map[string]any{
				"name": "red-team", "expression": "object.metadata.name == 'rt-matches-nothing'"}}},
		}}
	}
}

// ref names an existing object for OpUpdate, OpGet, OpList and OpExec.
func refTo(apiVersion, kind, ns, name string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured { return ref(apiVersion, kind, ns, name) }
}

// Changes for OpUpdate.

func setLabel(key, value string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		l := u.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		if value == "" {
			delete(l, key)
		} else {
			l[key] = value
		}
		u.SetLabels(l)
	}
}

func setField(value any, path ...string) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		if err := unstructured.SetNestedField(u.Object, value, path...); err != nil {
			panic(err)
		}
	}
}

func addRules(rules ...rbacv1.PolicyRule) func(*unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		current, _, _ := unstructured.NestedSlice(u.Object, "rules")
		for _, r := range rules {
			current = append(current, toUnstructured(&rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{r}}).Object["rules"].([]any)...)
		}
		if err := unstructured.SetNestedSlice(u.Object, current, "rules"); err != nil {
			panic(err)
		}
	}
}

func quantity(s string) resource.Quantity { return resource.MustParse(s) }

// The second round's builders.

func intOrString(port int32) intstr.IntOrString { return intstr.FromInt32(port) }

func labelSelector(key, value string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}
}

// ownDeployment is the good Deployment with pods of its own (labels and selector named after
// it) and a fixed replica count, without an HPA.
func ownDeployment(name string, replicas int32) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		labels := map[string]string{"app.kubernetes.io/name": name}
		d.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: Namespace}
		d.Spec.Replicas = ptr(replicas)
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
		d.Spec.Template.Labels = labels
		d.Status = appsv1.DeploymentStatus{}
		return toUnstructured(d)
	}
}

// ownPDB is a budget for ownDeployment's pods of the same name, with minAvailable and the
// eviction policy the platform asks for.
func ownPDB(name string, minAvailable int32) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		m := intstr.FromInt32(minAvailable)
		always := policyv1.AlwaysAllow
		return toUnstructured(&policyv1.PodDisruptionBudget{
			TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &m, UnhealthyPodEvictionPolicy: &always,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": name}}},
		})
	}
}

// statefulSet is the good template as a one-replica StatefulSet with a volume claim template
// "data", changed by mutate.
func statefulSet(name string, mutate func(*corev1.PersistentVolumeClaim)) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		d := deploymentTyped(b)
		claim := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")}}}}
		mutate(&claim)
		return toUnstructured(&appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), ServiceName: name, Selector: d.Spec.Selector,
				Template: d.Spec.Template, VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim}},
		})
	}
}

func priorityClass(name string, value int32) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&schedulingv1.PriorityClass{
			TypeMeta:   metav1.TypeMeta{APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Value:      value, Description: "red team: an add-on's class",
		})
	}
}

// hostPathPV is a PersistentVolume on the node's disk at path, bound to claim when given.
func hostPathPV(name, path string, claim *corev1.ObjectReference) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return toUnstructured(&corev1.PersistentVolume{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolume"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:               corev1.ResourceList{corev1.ResourceStorage: quantity("1Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				ClaimRef:               claim,
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}},
			},
		})
	}
}

// unscopedException is a named, explained PolicyException in kyverno with no matchConditions:
// it exempts every request the policy sees.
func unscopedException(name, policy string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "policies.kyverno.io/v1", "kind": "PolicyException",
			"metadata": map[string]any{"name": name, "namespace": "kyverno",
				"annotations": map[string]any{"policies.kyverno.io/reason": "the batch team's workers have no HTTP endpoint"}},
			"spec": map[string]any{"policyRefs": []any{map[string]any{"name": policy, "kind": "ValidatingPolicy"}}},
		}}
	}
}

// legacyException is a kyverno.io/v2 PolicyException in kyverno for the pods named resourceName.
func legacyException(name, policy, resourceName string) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kyverno.io/v2", "kind": "PolicyException",
			"metadata": map[string]any{"name": name, "namespace": "kyverno",
				"annotations": map[string]any{"policies.kyverno.io/reason": "red team"}},
			"spec": map[string]any{
				"exceptions": []any{map[string]any{"policyName": policy, "ruleNames": []any{"*"}}},
				"match": map[string]any{"any": []any{map[string]any{"resources": map[string]any{
					"kinds": []any{"Pod"}, "names": []any{resourceName}}}}},
			},
		}}
	}
}

// ownHPA scales ownDeployment's Deployment of the same name from minReplicas to the quota.
func ownHPA(name string, minReplicas int32) func(Base) *unstructured.Unstructured {
	return func(b Base) *unstructured.Unstructured {
		u := hpa(name, "Deployment", name, 6)(b)
		if err := unstructured.SetNestedField(u.Object, int64(minReplicas), "spec", "minReplicas"); err != nil {
			panic(err)
		}
		return u
	}
}
