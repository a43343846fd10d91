// Package invariant holds the named checks every rendered overlay must pass. Each check takes
// the whole rendered object set (some invariants relate objects to each other, such as a
// namespace and its default-deny policy) and returns one Finding per violation; no findings
// means the invariant holds.
package invariant

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// Finding is one violation of an invariant by one object.
type Finding struct {
	Check  string
	Object string
	Reason string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s", f.Check, f.Object, f.Reason)
}

// Check is a named invariant.
type Check struct {
	Name string
	Run  func(objs []manifest.Object) []Finding
}

// Structural returns the checks that take no parameters and hold for every rendered set of
// objects: well-formed, resources, security contexts, probes, Pod Security, namespaces labelled
// for it, a default deny per namespace, narrow NetworkPolicies, ceilings per namespace, and what
// pods may reach declared on their namespace.
func Structural() []Check {
	return []Check{
		{Name: "WellFormed", Run: WellFormed},
		{Name: "ContainerResources", Run: ContainerResources},
		{Name: "ContainerSecurityContext", Run: ContainerSecurityContext},
		{Name: "ContainerProbes", Run: ContainerProbes},
		{Name: "PodSecurityAdmission", Run: PodSecurityAdmission},
		{Name: "NamespacePodSecurity", Run: NamespacePodSecurity},
		{Name: "DefaultDenyPerNamespace", Run: DefaultDenyPerNamespace},
		{Name: "NetworkPoliciesNarrow", Run: NetworkPoliciesNarrow},
		{Name: "NamespaceCeilings", Run: NamespaceCeilings},
		{Name: "DeclaredSecretsAndIdentities", Run: DeclaredSecretsAndIdentities},
	}
}

// findings collects the findings of one check.
type findings struct {
	check string
	list  []Finding
}

func (f *findings) add(obj, format string, args ...any) {
	f.list = append(f.list, Finding{Check: f.check, Object: obj, Reason: fmt.Sprintf(format, args...)})
}

// podTemplate is a pod spec as found in a workload object, with where it came from.
type podTemplate struct {
	Owner    string
	Kind     string
	Name     string
	Ns       string
	Meta     metav1.ObjectMeta
	Spec     corev1.PodSpec
	Replicas *int32
}

// container is one container of a pod template, of any of the three kinds.
type container struct {
	Kind string // "container", "initContainer" or "ephemeralContainer"
	C    corev1.Container
}

func (p podTemplate) containers() []container {
	var out []container
	for _, c := range p.Spec.InitContainers {
		out = append(out, container{Kind: "initContainer", C: c})
	}
	for _, c := range p.Spec.Containers {
		out = append(out, container{Kind: "container", C: c})
	}
	for _, e := range p.Spec.EphemeralContainers {
		out = append(out, container{Kind: "ephemeralContainer", C: corev1.Container(e.EphemeralContainerCommon)})
	}
	return out
}

// podTemplates extracts every pod spec from the workload kinds. An object of a workload kind
// that does not decode is reported under the calling check, so nothing escapes inspection.
func podTemplates(objs []manifest.Object, f *findings) []podTemplate {
	var out []podTemplate
	for _, o := range objs {
		if o.Group() != "" && o.Group() != "apps" && o.Group() != "batch" {
			continue
		}
		pt := podTemplate{Owner: o.ID(), Kind: o.Kind, Name: o.Name, Ns: o.Namespace}
		var err error
		switch o.Kind {
		case "Pod":
			var v corev1.Pod
			err = o.Decode(&v)
			pt.Meta, pt.Spec = v.ObjectMeta, v.Spec
		case "Deployment":
			var v appsv1.Deployment
			err = o.Decode(&v)
			pt.Meta, pt.Spec, pt.Replicas = v.Spec.Template.ObjectMeta, v.Spec.Template.Spec, v.Spec.Replicas
		case "StatefulSet":
			var v appsv1.StatefulSet
			err = o.Decode(&v)
			pt.Meta, pt.Spec, pt.Replicas = v.Spec.Template.ObjectMeta, v.Spec.Template.Spec, v.Spec.Replicas
		case "DaemonSet":
			var v appsv1.DaemonSet
			err = o.Decode(&v)
			pt.Meta, pt.Spec = v.Spec.Template.ObjectMeta, v.Spec.Template.Spec
		case "ReplicaSet":
			var v appsv1.ReplicaSet
			err = o.Decode(&v)
			pt.Meta, pt.Spec, pt.Replicas = v.Spec.Template.ObjectMeta, v.Spec.Template.Spec, v.Spec.Replicas
		case "Job":
			var v batchv1.Job
			err = o.Decode(&v)
			pt.Meta, pt.Spec = v.Spec.Template.ObjectMeta, v.Spec.Template.Spec
		case "CronJob":
			var v batchv1.CronJob
			err = o.Decode(&v)
			pt.Meta, pt.Spec = v.Spec.JobTemplate.Spec.Template.ObjectMeta, v.Spec.JobTemplate.Spec.Template.Spec
		default:
			continue
		}
		if err != nil {
			f.add(o.ID(), "cannot inspect pod template: %v", err)
			continue
		}
		out = append(out, pt)
	}
	return out
}

// decodeAll decodes every object of the given group and kind strictly into a T.
func decodeAll[T any](objs []manifest.Object, group, kind string, f *findings) map[string]T {
	out := map[string]T{}
	for _, o := range objs {
		if o.Group() != group || o.Kind != kind {
			continue
		}
		var v T
		if err := o.Decode(&v); err != nil {
			f.add(o.ID(), "%v", err)
			continue
		}
		out[o.ID()] = v
	}
	return out
}

// sortedKeys returns the keys of m in order, so findings come out in a stable order.
func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selects reports whether a label selector (matchLabels only, as these manifests use) selects
// the given labels. A nil selector selects nothing; an empty one selects everything.
func selects(sel *metav1.LabelSelector, labels map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(k8slabels.Set(labels))
}
