package invariant

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	psapi "k8s.io/pod-security-admission/api"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// NamespacePodSecurity: every namespace the overlay declares or uses is declared here and
// labelled for Pod Security Admission with enforce, audit and warn at "restricted", each with
// a pinned version (v1.N, never "latest" or absent).
func NamespacePodSecurity(objs []manifest.Object) []Finding {
	f := &findings{check: "NamespacePodSecurity"}
	declared := map[string]corev1.Namespace{}
	for _, ns := range decodeAll[corev1.Namespace](objs, "", "Namespace", f) {
		declared[ns.Name] = ns
	}
	for _, name := range namespaces(objs) {
		ns, ok := declared[name]
		if !ok {
			f.add("Namespace/"+name, "objects are placed in it but the overlay does not declare it with Pod Security labels")
			continue
		}
		for _, mode := range []string{"enforce", "audit", "warn"} {
			label := "pod-security.kubernetes.io/" + mode
			if ns.Labels[label] != string(psapi.LevelRestricted) {
				f.add("Namespace/"+name, "%s is %q, not restricted", label, ns.Labels[label])
			}
			v := ns.Labels[label+"-version"]
			if parsed, err := psapi.ParseVersion(v); err != nil || parsed.Latest() {
				f.add("Namespace/"+name, "%s-version is %q, not a pinned v1.N", label, v)
			}
		}
	}
	return f.list
}

// digestRef matches an image reference pinned by a sha256 digest.
var digestRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// ImagesPinnedByDigest returns the check that every container image is pinned by a sha256
// digest, except the image names listed in unpinned (the local demo's own image, which the
// demo pins at deploy time).
func ImagesPinnedByDigest(unpinned ...string) Check {
	name := "ImagesPinnedByDigest"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		for _, pt := range podTemplates(objs, f) {
			for _, c := range pt.containers() {
				repo := c.C.Image
				if i := strings.IndexAny(repo, "@"); i >= 0 {
					repo = repo[:i]
				}
				if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
					repo = repo[:i]
				}
				if slices.Contains(unpinned, repo) {
					continue
				}
				if !digestRef.MatchString(c.C.Image) {
					f.add(pt.Owner, "%s %q image %q is not pinned by a sha256 digest", c.Kind, c.C.Name, c.C.Image)
				}
			}
		}
		return f.list
	}}
}

// ImagesFromRegistry returns the check that every container image comes from a registry
// matching the pattern (for staging and production: the account's ECR).
func ImagesFromRegistry(pattern string) Check {
	name := "ImagesFromRegistry"
	re := regexp.MustCompile(pattern)
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		for _, pt := range podTemplates(objs, f) {
			for _, c := range pt.containers() {
				if !re.MatchString(c.C.Image) {
					f.add(pt.Owner, "%s %q image %q is not from a trusted registry (%s)", c.Kind, c.C.Name, c.C.Image, pattern)
				}
			}
		}
		return f.list
	}}
}

// App describes what the service's Deployment must look like in an overlay.
type App struct {
	Name        string // Deployment, container-independent
	Container   string // the serving container
	UID         int64
	MinReplicas int32
	// DrainAndShutdown is SHUTDOWN_DRAIN_DELAY + SHUTDOWN_TIMEOUT in seconds; the grace period
	// must be longer.
	DrainAndShutdown int64
}

// AppDeployment returns the check on the service's Deployment: no replicas of its own (the
// HorizontalPodAutoscaler owns the count, or every apply of a release would reset it) and an HPA
// keeping at least MinReplicas, a termination grace period longer than the drain and shutdown,
// runs as UID/GID app.UID,
// spreads over nodes and zones, has startup, liveness (/healthz) and readiness (/readyz)
// probes on the serving container, and writes nowhere: no emptyDir or hostPath volume and
// every mount read-only.
func AppDeployment(app App) Check {
	name := "AppDeployment"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		var found bool
		for _, pt := range podTemplates(objs, f) {
			if pt.Kind != "Deployment" || pt.Name != app.Name {
				continue
			}
			found = true
			id := pt.Owner
			if pt.Replicas != nil {
				f.add(id, "sets replicas %d: the HorizontalPodAutoscaler owns the count, and every apply would reset it", *pt.Replicas)
			}
			if min := hpaMinReplicas(objs, pt.Ns, pt.Name, f); min == nil || *min < app.MinReplicas {
				f.add(id, "the HorizontalPodAutoscaler keeps minReplicas %v, want at least %d", deref(min), app.MinReplicas)
			}
			if g := pt.Spec.TerminationGracePeriodSeconds; g == nil || *g <= app.DrainAndShutdown {
				f.add(id, "terminationGracePeriodSeconds %v is not longer than drain delay plus shutdown timeout (%ds)", deref(g), app.DrainAndShutdown)
			}
			psc := pt.Spec.SecurityContext
			if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != app.UID || psc.RunAsGroup == nil || *psc.RunAsGroup != app.UID {
				f.add(id, "pod does not run as UID and GID %d", app.UID)
			}
			for _, c := range pt.containers() {
				if sc := c.C.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser != app.UID {
					f.add(id, "%s %q runs as UID %d, not %d", c.Kind, c.C.Name, *sc.RunAsUser, app.UID)
				}
				for _, m := range c.C.VolumeMounts {
					if !m.ReadOnly {
						f.add(id, "%s %q mounts %s writable; the service needs no writable directory", c.Kind, c.C.Name, m.MountPath)
					}
				}
			}
			for _, v := range pt.Spec.Volumes {
				if v.EmptyDir != nil || v.HostPath != nil {
					f.add(id, "volume %q is writable scratch space; the service needs none", v.Name)
				}
			}
			keys := map[string]bool{}
			for _, t := range pt.Spec.TopologySpreadConstraints {
				keys[t.TopologyKey] = true
			}
			for _, k := range []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"} {
				if !keys[k] {
					f.add(id, "no topologySpreadConstraint over %s", k)
				}
			}
			var serving *corev1.Container
			for i := range pt.Spec.Containers {
				if pt.Spec.Containers[i].Name == app.Container {
					serving = &pt.Spec.Containers[i]
				}
			}
			if serving == nil {
				f.add(id, "no container %q", app.Container)
				continue
			}
			if serving.StartupProbe == nil {
				f.add(id, "container %q has no startupProbe", app.Container)
			}
			checkHTTPProbe(f, id, app.Container, "livenessProbe", serving.LivenessProbe, "/healthz")
			checkHTTPProbe(f, id, app.Container, "readinessProbe", serving.ReadinessProbe, "/readyz")
		}
		if !found {
			f.add("Deployment/"+app.Name, "not found")
		}
		return f.list
	}}
}

func checkHTTPProbe(f *findings, id, container, kind string, p *corev1.Probe, path string) {
	if p == nil || p.HTTPGet == nil {
		f.add(id, "container %q has no HTTP %s", container, kind)
		return
	}
	if p.HTTPGet.Path != path {
		f.add(id, "container %q %s checks %q, want %q", container, kind, p.HTTPGet.Path, path)
	}
}

func deref[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// hpaMinReplicas is the minReplicas of the HorizontalPodAutoscaler scaling Deployment name in
// namespace ns (nil without one).
func hpaMinReplicas(objs []manifest.Object, ns, name string, f *findings) *int32 {
	for _, h := range decodeAll[autoscalingv2.HorizontalPodAutoscaler](objs, "autoscaling", "HorizontalPodAutoscaler", f) {
		if h.Namespace == ns && h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == name {
			if h.Spec.MinReplicas == nil {
				one := int32(1)
				return &one
			}
			return h.Spec.MinReplicas
		}
	}
	return nil
}

// Availability returns the check that every Deployment and StatefulSet running more than one
// replica (its own count, or its HPA's minReplicas when the HPA owns the count) has a
// PodDisruptionBudget selecting its pods that keeps at least minAvailable of them but still
// lets a drain proceed (keeps fewer than the replica count, whether the budget says
// minAvailable or maxUnavailable), and that every Deployment is scaled by a
// HorizontalPodAutoscaler with at least two minimum replicas.
func Availability(minAvailable int) Check {
	name := "Availability"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		pdbs := decodeAll[policyv1.PodDisruptionBudget](objs, "policy", "PodDisruptionBudget", f)
		hpas := decodeAll[autoscalingv2.HorizontalPodAutoscaler](objs, "autoscaling", "HorizontalPodAutoscaler", f)
		for _, pt := range podTemplates(objs, f) {
			if pt.Kind == "Deployment" {
				scaled := false
				for _, id := range sortedKeys(hpas) {
					h := hpas[id]
					if h.Namespace != pt.Ns || h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != pt.Name {
						continue
					}
					scaled = true
					if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
						f.add(id, "minReplicas %s, want at least 2", deref(h.Spec.MinReplicas))
					}
					if pt.Replicas == nil {
						pt.Replicas = h.Spec.MinReplicas
					}
				}
				if !scaled {
					f.add(pt.Owner, "no HorizontalPodAutoscaler scales it")
				}
			}
			if pt.Replicas == nil || *pt.Replicas < 2 {
				continue
			}
			covered := false
			for _, id := range sortedKeys(pdbs) {
				pdb := pdbs[id]
				if pdb.Namespace != pt.Ns || !selects(pdb.Spec.Selector, pt.Meta.Labels) {
					continue
				}
				covered = true
				n, err := keeps(pdb.Spec, int(*pt.Replicas))
				if err != nil {
					f.add(id, "%v", err)
					continue
				}
				if n < minAvailable {
					f.add(id, "keeps %d of %d pods, want at least %d", n, *pt.Replicas, minAvailable)
				}
				if n >= int(*pt.Replicas) {
					f.add(id, "keeps %d of %d replicas: blocks every drain", n, *pt.Replicas)
				}
			}
			if !covered {
				f.add(pt.Owner, "no PodDisruptionBudget covers its %d replicas", *pt.Replicas)
			}
		}
		return f.list
	}}
}

// clusterScoped are the kinds that have no namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "PersistentVolume": true,
	"StorageClass": true, "CustomResourceDefinition": true, "ClusterSecretStore": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
}

// ObjectsInNamespace returns the check that every namespaced object names the namespace ns
// explicitly: one without would be created wherever the kubeconfig points, outside the
// namespace's default deny and Pod Security labels.
func ObjectsInNamespace(ns string) Check {
	name := "ObjectsInNamespace"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		for _, o := range objs {
			if clusterScoped[o.Kind] {
				continue
			}
			if o.Namespace != ns {
				f.add(o.ID(), "namespace is %q, want %q", o.Namespace, ns)
			}
		}
		return f.list
	}}
}

// keeps is how many of n pods a budget keeps through a drain, as the disruption controller
// counts (percentages round up).
func keeps(spec policyv1.PodDisruptionBudgetSpec, n int) (int, error) {
	switch {
	case spec.MinAvailable != nil:
		k, err := intstr.GetScaledValueFromIntOrPercent(spec.MinAvailable, n, true)
		if err != nil {
			return 0, fmt.Errorf("minAvailable: %w", err)
		}
		return k, nil
	case spec.MaxUnavailable != nil:
		u, err := intstr.GetScaledValueFromIntOrPercent(spec.MaxUnavailable, n, true)
		if err != nil {
			return 0, fmt.Errorf("maxUnavailable: %w", err)
		}
		return n - u, nil
	}
	return 0, fmt.Errorf("sets neither minAvailable nor maxUnavailable")
}
