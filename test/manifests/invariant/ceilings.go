package invariant

import (
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// ceilingResources are what a namespace's quota and per-Pod limits must bound.
var ceilingResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

// NamespaceCeilings: every namespace that runs pods has a ResourceQuota bounding its pod count
// and the CPU, memory and ephemeral storage they request and are limited to, and a LimitRange
// with a per-Pod maximum of each and a per-PersistentVolumeClaim maximum of storage; the quota
// also bounds the number of objects of every kind a Role of the namespace lets someone create
// (a deployer that may create Services or ConfigMaps without a count would exhaust the cluster's
// Service IP range or fill etcd); and what the overlay itself declares fits: no workload or
// autoscaler asks for more pods than the quota, no container for more than the per-Pod maximum.
func NamespaceCeilings(objs []manifest.Object) []Finding {
	f := &findings{check: "NamespaceCeilings"}
	quotas := map[string][]corev1.ResourceQuota{}
	for _, q := range decodeAll[corev1.ResourceQuota](objs, "", "ResourceQuota", f) {
		quotas[q.Namespace] = append(quotas[q.Namespace], q)
	}
	podMax := map[string]corev1.ResourceList{}
	pvcMax := map[string]bool{}
	for _, lr := range decodeAll[corev1.LimitRange](objs, "", "LimitRange", f) {
		for _, item := range lr.Spec.Limits {
			switch item.Type {
			case corev1.LimitTypePod:
				podMax[lr.Namespace] = item.Max
			case corev1.LimitTypePersistentVolumeClaim:
				_, pvcMax[lr.Namespace] = item.Max[corev1.ResourceStorage]
			}
		}
	}
	templates := podTemplates(objs, f)
	var withPods []string
	for _, pt := range templates {
		if !slices.Contains(withPods, pt.Ns) {
			withPods = append(withPods, pt.Ns)
		}
	}
	slices.Sort(withPods)
	maxPods := map[string]int64{}
	for _, ns := range withPods {
		id := "Namespace/" + ns
		hard := corev1.ResourceList{}
		for _, q := range quotas[ns] {
			for k, v := range q.Spec.Hard {
				hard[k] = v
			}
		}
		if len(quotas[ns]) == 0 {
			f.add(id, "runs pods but has no ResourceQuota")
		} else {
			need := []corev1.ResourceName{corev1.ResourcePods}
			for _, r := range ceilingResources {
				need = append(need, corev1.ResourceName("requests."+string(r)), corev1.ResourceName("limits."+string(r)))
			}
			for _, r := range need {
				if _, ok := hard[r]; !ok {
					f.add(id, "its ResourceQuota does not bound %s", r)
				}
			}
			if n, ok := hard[corev1.ResourcePods]; ok {
				maxPods[ns] = n.Value()
			}
		}
		max, ok := podMax[ns]
		if !ok {
			f.add(id, "runs pods but has no LimitRange with a per-Pod maximum")
		}
		for _, r := range ceilingResources {
			if _, has := max[r]; ok && !has {
				f.add(id, "its LimitRange has no per-Pod maximum of %s", r)
			}
		}
		if !pvcMax[ns] {
			f.add(id, "its LimitRange has no per-PersistentVolumeClaim maximum of storage")
		}
		if len(quotas[ns]) > 0 {
			for _, c := range creatable(objs, ns, f) {
				if !countBounded(hard, c.group, c.resource) {
					f.add(id, "its ResourceQuota does not bound the number of %s, which %s may create (count/%s)", c.resource, c.role, quotaName(c.group, c.resource))
				}
			}
		}
	}
	for _, pt := range templates {
		if n, ok := maxPods[pt.Ns]; ok && pt.Replicas != nil && int64(*pt.Replicas) > n {
			f.add(pt.Owner, "%d replicas, above the namespace's quota of %d pods", *pt.Replicas, n)
		}
		for _, c := range pt.containers() {
			for _, r := range ceilingResources {
				limit, ok1 := c.C.Resources.Limits[r]
				max, ok2 := podMax[pt.Ns][r]
				if ok1 && ok2 && limit.Cmp(max) > 0 {
					f.add(pt.Owner, "%s %q limits %s to %s, above the per-Pod maximum %s", c.Kind, c.C.Name, r, limit.String(), max.String())
				}
			}
		}
	}
	for id, h := range decodeAll[autoscalingv2.HorizontalPodAutoscaler](objs, "autoscaling", "HorizontalPodAutoscaler", f) {
		if n, ok := maxPods[h.Namespace]; ok && int64(h.Spec.MaxReplicas) > n {
			f.add(id, "maxReplicas %d, above the namespace's quota of %d pods", h.Spec.MaxReplicas, n)
		}
	}
	return f.list
}

// Annotations on a Namespace declaring what its pods may reach (policies/kyverno:
// restrict-secret-and-identity-use enforces them at admission).
const (
	AnnotationPodServiceAccounts = "platform-template.io/pod-service-accounts"
	AnnotationPodSecrets         = "platform-template.io/pod-secrets"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DeclaredSecretsAndIdentities: every namespace that runs pods declares, on the Namespace, the
// ServiceAccounts its pods may run as and the Secrets they may mount; every pod template keeps
// to them, takes no Secret into its environment, and writes its termination message to
// /dev/termination-log only (never its logs, which would put what it printed into the pod
// status).
func DeclaredSecretsAndIdentities(objs []manifest.Object) []Finding {
	f := &findings{check: "DeclaredSecretsAndIdentities"}
	declared := map[string]corev1.Namespace{}
	for _, ns := range decodeAll[corev1.Namespace](objs, "", "Namespace", f) {
		declared[ns.Name] = ns
	}
	for _, pt := range podTemplates(objs, f) {
		ns, ok := declared[pt.Ns]
		if !ok {
			continue // NamespacePodSecurity reports the undeclared namespace
		}
		_, hasSAs := ns.Annotations[AnnotationPodServiceAccounts]
		_, hasSecrets := ns.Annotations[AnnotationPodSecrets]
		if !hasSAs || !hasSecrets {
			f.add("Namespace/"+ns.Name, "runs pods but does not declare %s and %s", AnnotationPodServiceAccounts, AnnotationPodSecrets)
			continue
		}
		sa := pt.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		if !slices.Contains(splitList(ns.Annotations[AnnotationPodServiceAccounts]), sa) {
			f.add(pt.Owner, "runs as ServiceAccount %q, which namespace %s does not declare for pods", sa, ns.Name)
		}
		secrets := splitList(ns.Annotations[AnnotationPodSecrets])
		for _, v := range pt.Spec.Volumes {
			var names []string
			if v.Secret != nil {
				names = append(names, v.Secret.SecretName)
			}
			if v.Projected != nil {
				for _, src := range v.Projected.Sources {
					if src.Secret != nil {
						names = append(names, src.Secret.Name)
					}
				}
			}
			for _, n := range names {
				if !slices.Contains(secrets, n) {
					f.add(pt.Owner, "volume %q mounts Secret %q, which namespace %s does not declare for pods", v.Name, n, ns.Name)
				}
			}
		}
		for _, c := range pt.containers() {
			for _, e := range c.C.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					f.add(pt.Owner, "%s %q takes Secret %q into its environment (%s)", c.Kind, c.C.Name, e.ValueFrom.SecretKeyRef.Name, e.Name)
				}
			}
			for _, e := range c.C.EnvFrom {
				if e.SecretRef != nil {
					f.add(pt.Owner, "%s %q takes Secret %q into its environment (envFrom)", c.Kind, c.C.Name, e.SecretRef.Name)
				}
			}
			if p := c.C.TerminationMessagePolicy; p != "" && p != corev1.TerminationMessageReadFile {
				f.add(pt.Owner, "%s %q: terminationMessagePolicy %s", c.Kind, c.C.Name, p)
			}
			if p := c.C.TerminationMessagePath; p != "" && p != corev1.TerminationMessagePathDefault {
				f.add(pt.Owner, "%s %q: terminationMessagePath %s", c.Kind, c.C.Name, p)
			}
		}
	}
	return f.list
}

// creation is a kind of object a Role of a namespace lets someone create.
type creation struct{ group, resource, role string }

// creatable lists what the Roles of namespace ns grant create on (subresources left out: they
// make no new object a quota counts), each once, in order.
func creatable(objs []manifest.Object, ns string, f *findings) []creation {
	var out []creation
	roles := decodeAll[rbacv1.Role](objs, "rbac.authorization.k8s.io", "Role", f)
	for _, id := range sortedKeys(roles) {
		r := roles[id]
		if r.Namespace != ns {
			continue
		}
		for _, rule := range r.Rules {
			if !slices.Contains(rule.Verbs, "create") && !slices.Contains(rule.Verbs, "*") {
				continue
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					if strings.Contains(res, "/") {
						continue
					}
					c := creation{group: g, resource: res, role: id}
					if !slices.ContainsFunc(out, func(o creation) bool { return o.group == g && o.resource == res }) {
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// quotaName is the object-count name of a resource: "deployments.apps", "configmaps".
func quotaName(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// countBounded reports whether a quota's hard limits bound the number of objects of a resource:
// count/<resource>[.<group>], or for the core kinds with a quota name of their own (services,
// configmaps, secrets, ...), that name.
func countBounded(hard corev1.ResourceList, group, resource string) bool {
	if _, ok := hard[corev1.ResourceName("count/"+quotaName(group, resource))]; ok {
		return true
	}
	if group == "" {
		_, ok := hard[corev1.ResourceName(resource)]
		return ok
	}
	return false
}
