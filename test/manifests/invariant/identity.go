package invariant

import (
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// ServiceAccountTokens returns the check that no ServiceAccount token is mounted unless the
// account is in needsToken: every ServiceAccount sets automountServiceAccountToken: false, and
// no pod template turns it back on (or runs as an account the set does not declare, such as
// "default", without turning it off).
func ServiceAccountTokens(needsToken ...string) Check {
	name := "ServiceAccountTokens"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		sas := map[string]corev1.ServiceAccount{}
		for id, sa := range decodeAll[corev1.ServiceAccount](objs, "", "ServiceAccount", f) {
			sas[sa.Namespace+"/"+sa.Name] = sa
			if slices.Contains(needsToken, sa.Name) {
				continue
			}
			if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				f.add(id, "automountServiceAccountToken is not false")
			}
		}
		for _, pt := range podTemplates(objs, f) {
			saName := pt.Spec.ServiceAccountName
			if saName == "" {
				saName = "default"
			}
			if slices.Contains(needsToken, saName) {
				continue
			}
			podSetting := pt.Spec.AutomountServiceAccountToken
			switch {
			case podSetting != nil && *podSetting:
				f.add(pt.Owner, "pod template sets automountServiceAccountToken: true")
			case podSetting == nil:
				sa, ok := sas[pt.Ns+"/"+saName]
				if !ok {
					f.add(pt.Owner, "runs as ServiceAccount %q, not declared here, without automountServiceAccountToken: false", saName)
				} else if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
					f.add(pt.Owner, "runs as ServiceAccount %q, which mounts a token", saName)
				}
			}
		}
		return f.list
	}}
}

// forbiddenResources are the resources a deployer must not touch: credentials, and everything
// that grants or widens permissions or reaches beyond its namespace.
var forbiddenResources = []string{
	"secrets", "serviceaccounts/token", "roles", "rolebindings", "clusterroles",
	"clusterrolebindings", "namespaces", "networkpolicies", "pods/exec", "pods/attach",
	"pods/portforward",
}

// forbiddenVerbs escalate privileges whatever the resource.
var forbiddenVerbs = []string{"escalate", "bind", "impersonate", "*"}

// changeVerbs change an existing object: the deployer may use them only on objects it names.
var changeVerbs = []string{"update", "patch", "delete", "deletecollection"}

// CIDeployerLeastPrivilege returns the check on the CI deployer's permissions: the
// ServiceAccount sa and the groups (the deploy role's group on EKS) are bound only through
// RoleBindings, the ServiceAccount only in its own namespace, to namespaced Roles (no
// ClusterRoleBinding, no ClusterRole); at least one such binding exists; and the Roles grant
// no wildcard, no escalating verb, no non-resource URL and nothing on Secrets, RBAC objects,
// namespaces or NetworkPolicies; and what they let it change (update, patch, delete) they
// name (resourceNames): creating is the one write RBAC cannot limit by name.
func CIDeployerLeastPrivilege(sa string, groups ...string) Check {
	name := "CIDeployerLeastPrivilege"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		isSubject := func(subjects []rbacv1.Subject) bool {
			for _, s := range subjects {
				if (s.Kind == rbacv1.ServiceAccountKind && s.Name == sa) || (s.Kind == rbacv1.GroupKind && slices.Contains(groups, s.Name)) {
					return true
				}
			}
			return false
		}
		for id, crb := range decodeAll[rbacv1.ClusterRoleBinding](objs, "rbac.authorization.k8s.io", "ClusterRoleBinding", f) {
			if isSubject(crb.Subjects) {
				f.add(id, "binds the deployer (%s %v) cluster-wide", sa, groups)
			}
		}
		roles := decodeAll[rbacv1.Role](objs, "rbac.authorization.k8s.io", "Role", f)
		bindings := decodeAll[rbacv1.RoleBinding](objs, "rbac.authorization.k8s.io", "RoleBinding", f)
		bound := 0
		for _, id := range sortedKeys(bindings) {
			rb := bindings[id]
			if !isSubject(rb.Subjects) {
				continue
			}
			bound++
			for _, s := range rb.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace != rb.Namespace {
					f.add(id, "binds %s from namespace %q into namespace %q", sa, s.Namespace, rb.Namespace)
				}
			}
			if rb.RoleRef.Kind != "Role" {
				f.add(id, "binds the deployer to %s %q: only namespaced Roles are allowed", rb.RoleRef.Kind, rb.RoleRef.Name)
				continue
			}
			roleID := "Role/" + rb.Namespace + "/" + rb.RoleRef.Name
			role, ok := roles[roleID]
			if !ok {
				f.add(id, "binds the deployer to %s, which this overlay does not define", roleID)
				continue
			}
			for i, rule := range role.Rules {
				if len(rule.NonResourceURLs) > 0 {
					f.add(roleID, "rule %d grants non-resource URLs %v", i, rule.NonResourceURLs)
				}
				if slices.Contains(rule.APIGroups, "*") {
					f.add(roleID, "rule %d grants every API group", i)
				}
				for _, res := range rule.Resources {
					if res == "*" || res == "*/*" || slices.Contains(forbiddenResources, res) {
						f.add(roleID, "rule %d grants %v on %q", i, rule.Verbs, res)
					}
				}
				for _, v := range rule.Verbs {
					if slices.Contains(forbiddenVerbs, v) {
						f.add(roleID, "rule %d grants the verb %q", i, v)
					}
					if slices.Contains(changeVerbs, v) && len(rule.ResourceNames) == 0 {
						f.add(roleID, "rule %d grants %q on %v without resourceNames: the deployer may change objects it did not make", i, v, rule.Resources)
					}
				}
			}
		}
		if bound == 0 {
			f.add("ServiceAccount/"+sa, "no RoleBinding grants %s anything: the deployer identity is missing", sa)
		}
		return f.list
	}}
}

// sensitiveName matches configuration keys that name a credential. Keys ending in _FILE hold a
// path to a mounted secret, not the secret, and are fine.
var sensitiveName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|ACCESS_?KEY|API_?KEY|CREDENTIAL)`)

func holdsSecret(key string) bool {
	return sensitiveName.MatchString(key) && !regexp.MustCompile(`(?i)_FILE$`).MatchString(key)
}

// NoSecretData: the overlay carries no secret material: no Secret with data or stringData, no
// ConfigMap key and no literal container environment variable named like a credential.
// (Staging and production get credentials only from External Secrets.)
func NoSecretData(objs []manifest.Object) []Finding {
	f := &findings{check: "NoSecretData"}
	for id, s := range decodeAll[corev1.Secret](objs, "", "Secret", f) {
		if len(s.Data) > 0 || len(s.StringData) > 0 {
			f.add(id, "Secret carries data in the manifests")
		}
	}
	for id, cm := range decodeAll[corev1.ConfigMap](objs, "", "ConfigMap", f) {
		for k := range cm.Data {
			if holdsSecret(k) {
				f.add(id, "ConfigMap key %q names a credential", k)
			}
		}
	}
	for _, pt := range podTemplates(objs, f) {
		for _, c := range pt.containers() {
			for _, e := range c.C.Env {
				if e.Value != "" && holdsSecret(e.Name) {
					f.add(pt.Owner, "%s %q sets %s to a literal value", c.Kind, c.C.Name, e.Name)
				}
			}
		}
	}
	return f.list
}

// resourceOf names the API resource of the kinds a deploy may apply.
var resourceOf = map[string]struct{ Group, Resource string }{
	"Deployment":              {"apps", "deployments"},
	"StatefulSet":             {"apps", "statefulsets"},
	"Service":                 {"", "services"},
	"ConfigMap":               {"", "configmaps"},
	"PodDisruptionBudget":     {"policy", "poddisruptionbudgets"},
	"HorizontalPodAutoscaler": {"autoscaling", "horizontalpodautoscalers"},
	"Secret":                  {"", "secrets"},
	"NetworkPolicy":           {"networking.k8s.io", "networkpolicies"},
	"ServiceAccount":          {"", "serviceaccounts"},
	"Namespace":               {"", "namespaces"},
	"Role":                    {"rbac.authorization.k8s.io", "roles"},
	"RoleBinding":             {"rbac.authorization.k8s.io", "rolebindings"},
}

// generatedName is a name kustomize's generators give: the content's hash as a suffix.
var generatedName = regexp.MustCompile(`-[a-z0-9]{10}$`)

// CIAppliedObjectsWithinRole returns the check that the objects labelled
// platform-template.io/applied-by=<sa> (what the release pipeline applies as the CI deployer)
// are all of kinds the deployer's Roles let it get and create, and patch by name (a
// ConfigMap named after its content is never patched: a new content is a new name), so that a
// release never fails half-way on a permission, and that the Deployment is among them.
func CIAppliedObjectsWithinRole(sa string) Check {
	name := "CIAppliedObjectsWithinRole"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		roles := decodeAll[rbacv1.Role](objs, "rbac.authorization.k8s.io", "Role", f)
		bindings := decodeAll[rbacv1.RoleBinding](objs, "rbac.authorization.k8s.io", "RoleBinding", f)
		var rules []rbacv1.PolicyRule
		for _, rb := range bindings {
			for _, s := range rb.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && rb.RoleRef.Kind == "Role" {
					rules = append(rules, roles["Role/"+rb.Namespace+"/"+rb.RoleRef.Name].Rules...)
				}
			}
		}
		allows := func(group, resource, verb, name string) bool {
			return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
				return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) &&
					(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name))
			})
		}
		sawDeployment := false
		for _, o := range objs {
			if o.String("metadata", "labels", "platform-template.io/applied-by") != sa {
				continue
			}
			sawDeployment = sawDeployment || o.Kind == "Deployment"
			res, ok := resourceOf[o.Kind]
			if !ok {
				f.add(o.ID(), "labelled for %s, but of a kind it cannot be given", sa)
				continue
			}
			verbs := []string{"get", "create", "patch"}
			if o.Kind == "ConfigMap" && generatedName.MatchString(o.Name) {
				verbs = verbs[:2]
			}
			for _, v := range verbs {
				if !allows(res.Group, res.Resource, v, o.Name) {
					f.add(o.ID(), "labelled for %s, whose Role does not grant %q on %s %s", sa, v, res.Resource, o.Name)
				}
			}
		}
		if !sawDeployment {
			f.add("-", "no Deployment is labelled platform-template.io/applied-by=%s: the release pipeline would roll out nothing", sa)
		}
		return f.list
	}}
}
