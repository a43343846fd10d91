package invariant

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// typed maps apiVersion/kind to a constructor of its Go type for strict decoding.
var typed = map[string]func() any{
	"v1/Namespace":                                    func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                       func() any { return &corev1.Secret{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"v1/PersistentVolumeClaim":                        func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/ResourceQuota":                                func() any { return &corev1.ResourceQuota{} },
	"v1/LimitRange":                                   func() any { return &corev1.LimitRange{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                             func() any { return &appsv1.StatefulSet{} },
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
	"policy/v1/PodDisruptionBudget":                   func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":          func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"rbac.authorization.k8s.io/v1/Role":               func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
}

// custom lists the custom resources the overlays may use; they have no Go type here and are
// inspected field by field by the checks that care.
var custom = map[string]bool{
	"external-secrets.io/v1/SecretStore":    true,
	"external-secrets.io/v1/ExternalSecret": true,
}

// WellFormed: every object is of a known API version and kind, and every built-in object
// decodes strictly into its Go type, so a misspelt field (which the API server would drop or
// refuse) fails here instead of silently weakening a setting.
func WellFormed(objs []manifest.Object) []Finding {
	f := &findings{check: "WellFormed"}
	for _, o := range objs {
		key := o.APIVersion + "/" + o.Kind
		if custom[key] {
			continue
		}
		newT, ok := typed[key]
		if !ok {
			f.add(o.ID(), "unknown apiVersion/kind %s (add it to the manifest test's list if it is intended)", key)
			continue
		}
		if err := o.Decode(newT()); err != nil {
			f.add(o.ID(), "%v", err)
		}
	}
	return f.list
}
