package invariant

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// ContainerResources: every container, init container and ephemeral container of every pod
// template requests and limits CPU, memory and ephemeral storage, and every emptyDir volume has a
// sizeLimit (disk, like CPU and memory, is shared with the node's other pods).
func ContainerResources(objs []manifest.Object) []Finding {
	f := &findings{check: "ContainerResources"}
	for _, pt := range podTemplates(objs, f) {
		for _, c := range pt.containers() {
			for _, kind := range []string{"requests", "limits"} {
				list := c.C.Resources.Requests
				if kind == "limits" {
					list = c.C.Resources.Limits
				}
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
					q, ok := list[res]
					if !ok || q.IsZero() {
						f.add(pt.Owner, "%s %q has no %s.%s", c.Kind, c.C.Name, kind, res)
					}
				}
			}
		}
		for _, v := range pt.Spec.Volumes {
			if v.EmptyDir != nil && (v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.IsZero()) {
				f.add(pt.Owner, "emptyDir volume %q has no sizeLimit", v.Name)
			}
		}
	}
	return f.list
}

// ContainerSecurityContext: every container of every pod template runs with the full hardened
// security context: non-root with an explicit non-zero UID and GID, read-only root filesystem,
// no privilege escalation, not privileged, all capabilities dropped and none added, and a
// RuntimeDefault or Localhost seccomp profile. runAsNonRoot, runAsUser, runAsGroup and
// seccompProfile may come from the pod; the rest must be set on the container itself.
func ContainerSecurityContext(objs []manifest.Object) []Finding {
	f := &findings{check: "ContainerSecurityContext"}
	for _, pt := range podTemplates(objs, f) {
		psc := pt.Spec.SecurityContext
		if psc == nil {
			psc = &corev1.PodSecurityContext{}
		}
		for _, c := range pt.containers() {
			sc := c.C.SecurityContext
			if sc == nil {
				f.add(pt.Owner, "%s %q has no securityContext", c.Kind, c.C.Name)
				continue
			}
			where := fmt.Sprintf("%s %q", c.Kind, c.C.Name)
			nonRoot := psc.RunAsNonRoot
			if sc.RunAsNonRoot != nil {
				nonRoot = sc.RunAsNonRoot
			}
			if nonRoot == nil || !*nonRoot {
				f.add(pt.Owner, "%s: runAsNonRoot is not true", where)
			}
			user := psc.RunAsUser
			if sc.RunAsUser != nil {
				user = sc.RunAsUser
			}
			if user == nil || *user == 0 {
				f.add(pt.Owner, "%s: runAsUser is not set to a non-zero UID", where)
			}
			group := psc.RunAsGroup
			if sc.RunAsGroup != nil {
				group = sc.RunAsGroup
			}
			if group == nil || *group == 0 {
				f.add(pt.Owner, "%s: runAsGroup is not set to a non-zero GID", where)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				f.add(pt.Owner, "%s: readOnlyRootFilesystem is not true", where)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				f.add(pt.Owner, "%s: allowPrivilegeEscalation is not false", where)
			}
			if sc.Privileged != nil && *sc.Privileged {
				f.add(pt.Owner, "%s: privileged is true", where)
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				f.add(pt.Owner, "%s: capabilities do not drop ALL", where)
			}
			if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
				f.add(pt.Owner, "%s: capabilities add %v", where, sc.Capabilities.Add)
			}
			seccomp := psc.SeccompProfile
			if sc.SeccompProfile != nil {
				seccomp = sc.SeccompProfile
			}
			if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
				f.add(pt.Owner, "%s: seccompProfile is not RuntimeDefault or Localhost", where)
			}
		}
	}
	return f.list
}

// ContainerProbes: every long-running container has a liveness and a readiness probe (init
// containers run to completion and cannot have them).
func ContainerProbes(objs []manifest.Object) []Finding {
	f := &findings{check: "ContainerProbes"}
	for _, pt := range podTemplates(objs, f) {
		if pt.Kind == "Job" || pt.Kind == "CronJob" {
			continue
		}
		for _, c := range pt.Spec.Containers {
			if c.LivenessProbe == nil {
				f.add(pt.Owner, "container %q has no livenessProbe", c.Name)
			}
			if c.ReadinessProbe == nil {
				f.add(pt.Owner, "container %q has no readinessProbe", c.Name)
			}
		}
	}
	return f.list
}

// PodSecurityAdmission: every pod template passes the real Pod Security Admission evaluator
// (k8s.io/pod-security-admission) at level "restricted", both at the version its namespace
// pins and at "latest", so a pod the API server would refuse is caught here first.
func PodSecurityAdmission(objs []manifest.Object) []Finding {
	f := &findings{check: "PodSecurityAdmission"}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		f.add("-", "pod security evaluator: %v", err)
		return f.list
	}
	pinned := map[string]psapi.Version{}
	for id, ns := range decodeAll[corev1.Namespace](objs, "", "Namespace", f) {
		_ = id
		if v, err := psapi.ParseVersion(ns.Labels[psapi.EnforceVersionLabel]); err == nil {
			pinned[ns.Name] = v
		}
	}
	for _, pt := range podTemplates(objs, f) {
		versions := []psapi.Version{psapi.LatestVersion()}
		if v, ok := pinned[pt.Ns]; ok && !v.Latest() {
			versions = append(versions, v)
		}
		for _, v := range versions {
			lv := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: v}
			agg := policy.AggregateCheckResults(evaluator.EvaluatePod(lv, &pt.Meta, &pt.Spec))
			if !agg.Allowed {
				f.add(pt.Owner, "violates PodSecurity %q: %s", lv.String(), agg.ForbiddenDetail())
			}
		}
	}
	return f.list
}
