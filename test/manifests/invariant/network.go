package invariant

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// namespaces returns every namespace the set declares or puts an object in.
func namespaces(objs []manifest.Object) []string {
	set := map[string]bool{}
	for _, o := range objs {
		if o.Kind == "Namespace" && o.Group() == "" {
			set[o.Name] = true
		}
		if o.Namespace != "" {
			set[o.Namespace] = true
		}
	}
	return sortedKeys(set)
}

func emptySelector(s metav1.LabelSelector) bool {
	return len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// DefaultDenyPerNamespace: every namespace the overlay declares or uses has a NetworkPolicy
// that selects all its pods and denies all ingress and all egress (both policy types, no
// rules), so anything not explicitly allowed is refused.
func DefaultDenyPerNamespace(objs []manifest.Object) []Finding {
	f := &findings{check: "DefaultDenyPerNamespace"}
	nps := decodeAll[networkingv1.NetworkPolicy](objs, "networking.k8s.io", "NetworkPolicy", f)
	for _, ns := range namespaces(objs) {
		found := false
		for _, id := range sortedKeys(nps) {
			np := nps[id]
			if np.Namespace != ns || !emptySelector(np.Spec.PodSelector) {
				continue
			}
			if slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) &&
				slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) &&
				len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 {
				found = true
			}
		}
		if !found {
			f.add("Namespace/"+ns, "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)")
		}
	}
	return f.list
}

// NetworkPoliciesNarrow: no NetworkPolicy rule allows "everywhere": every ingress rule names
// its sources and every egress rule its destinations, no peer is an empty namespaceSelector
// (all namespaces) or a 0.0.0.0/0 or ::/0 ipBlock, and every rule names its ports.
func NetworkPoliciesNarrow(objs []manifest.Object) []Finding {
	f := &findings{check: "NetworkPoliciesNarrow"}
	nps := decodeAll[networkingv1.NetworkPolicy](objs, "networking.k8s.io", "NetworkPolicy", f)
	for _, id := range sortedKeys(nps) {
		np := nps[id]
		for i, r := range np.Spec.Ingress {
			if len(r.From) == 0 {
				f.add(id, "ingress rule %d has no from: it admits every source", i)
			}
			if len(r.Ports) == 0 {
				f.add(id, "ingress rule %d has no ports: it admits every port", i)
			}
			checkPeers(f, id, "ingress", i, r.From)
		}
		for i, r := range np.Spec.Egress {
			if len(r.To) == 0 {
				f.add(id, "egress rule %d has no to: it allows every destination", i)
			}
			if len(r.Ports) == 0 {
				f.add(id, "egress rule %d has no ports: it allows every port", i)
			}
			checkPeers(f, id, "egress", i, r.To)
		}
	}
	return f.list
}

func checkPeers(f *findings, id, dir string, i int, peers []networkingv1.NetworkPolicyPeer) {
	for _, p := range peers {
		if p.NamespaceSelector != nil && emptySelector(*p.NamespaceSelector) {
			f.add(id, "%s rule %d has an empty namespaceSelector: every namespace", dir, i)
		}
		if p.IPBlock != nil {
			prefix, err := netip.ParsePrefix(p.IPBlock.CIDR)
			if err != nil {
				f.add(id, "%s rule %d has an invalid ipBlock %q", dir, i, p.IPBlock.CIDR)
			} else if prefix.Bits() == 0 {
				f.add(id, "%s rule %d has ipBlock %s: every address", dir, i, p.IPBlock.CIDR)
			}
		}
	}
}

// appPolicies returns the NetworkPolicies that select the pods of the named Deployment, with
// the pod labels, or a finding when the Deployment is missing.
func appPolicies(objs []manifest.Object, f *findings, app string) (map[string]networkingv1.NetworkPolicy, bool) {
	var labels map[string]string
	var ns string
	for _, pt := range podTemplates(objs, f) {
		if pt.Kind == "Deployment" && pt.Name == app {
			labels, ns = pt.Meta.Labels, pt.Ns
		}
	}
	if labels == nil {
		f.add("Deployment/"+app, "not found")
		return nil, false
	}
	out := map[string]networkingv1.NetworkPolicy{}
	nps := decodeAll[networkingv1.NetworkPolicy](objs, "networking.k8s.io", "NetworkPolicy", f)
	for id, np := range nps {
		if np.Namespace == ns && selects(&np.Spec.PodSelector, labels) {
			out[id] = np
		}
	}
	return out, true
}

func port(p networkingv1.NetworkPolicyPort) (corev1.Protocol, intstr.IntOrString) {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if p.Port == nil {
		return proto, intstr.FromString("*")
	}
	return proto, *p.Port
}

// peerIs reports whether a peer is exactly "pods labelled podKey=podValue in the namespace
// named ns" (ns "" means the policy's own namespace: no namespaceSelector).
func peerIs(p networkingv1.NetworkPolicyPeer, ns, podKey, podValue string) bool {
	if p.IPBlock != nil || p.PodSelector == nil || p.PodSelector.MatchLabels[podKey] != podValue {
		return false
	}
	if ns == "" {
		return p.NamespaceSelector == nil
	}
	return p.NamespaceSelector != nil && p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == ns
}

// AppNetworkPolicies returns the check that the app's own traffic is exactly what it needs.
// Ingress: the HTTP port only from the ingress controller's pods in the namespace
// ingressNamespace, the metrics port only from Prometheus in monitoringNamespace. Egress: DNS
// (53/UDP and 53/TCP) only to kube-dns in kube-system, and PostgreSQL (5432/TCP) only; both
// must be present. When awsEndpoints (CIDRs) are given, HTTPS (443/TCP) to exactly those is
// allowed and required too: the AWS API through the VPC's interface endpoints, for the STS
// call behind IRSA credentials (RDS IAM auth); HTTPS anywhere else is refused.
func AppNetworkPolicies(app, ingressNamespace, monitoringNamespace string, awsEndpoints ...string) Check {
	name := "AppNetworkPolicies"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		nps, ok := appPolicies(objs, f, app)
		if !ok {
			return f.list
		}
		var sawIngress, sawDNS, sawDB, sawAWS bool
		for _, id := range sortedKeys(nps) {
			np := nps[id]
			for i, r := range np.Spec.Ingress {
				for _, p := range r.Ports {
					proto, pt := port(p)
					switch {
					case proto == corev1.ProtocolTCP && pt.String() == "8080":
						for _, peer := range r.From {
							if !peerIs(peer, ingressNamespace, "app.kubernetes.io/name", "ingress-nginx") {
								f.add(id, "ingress rule %d admits port 8080 from a peer other than the ingress controller in namespace %s", i, ingressNamespace)
							}
						}
						sawIngress = len(r.From) > 0
					case proto == corev1.ProtocolTCP && pt.String() == "9090":
						for _, peer := range r.From {
							if !peerIs(peer, monitoringNamespace, "app.kubernetes.io/name", "prometheus") {
								f.add(id, "ingress rule %d admits port 9090 from a peer other than Prometheus in namespace %s", i, monitoringNamespace)
							}
						}
					default:
						f.add(id, "ingress rule %d admits %s/%s, not an app port", i, proto, pt.String())
					}
				}
			}
			for i, r := range np.Spec.Egress {
				for _, p := range r.Ports {
					proto, pt := port(p)
					switch {
					case pt.String() == "53" && (proto == corev1.ProtocolUDP || proto == corev1.ProtocolTCP):
						for _, peer := range r.To {
							if !peerIs(peer, "kube-system", "k8s-app", "kube-dns") {
								f.add(id, "egress rule %d allows port 53 to a peer other than kube-dns in kube-system", i)
							}
						}
						sawDNS = sawDNS || len(r.To) > 0
					case pt.String() == "5432" && proto == corev1.ProtocolTCP:
						sawDB = sawDB || len(r.To) > 0
					case pt.String() == "443" && proto == corev1.ProtocolTCP && len(awsEndpoints) > 0:
						for _, peer := range r.To {
							if peer.IPBlock == nil || !slices.Contains(awsEndpoints, peer.IPBlock.CIDR) || len(peer.IPBlock.Except) > 0 {
								f.add(id, "egress rule %d allows HTTPS to a peer other than the AWS endpoint subnets %v", i, awsEndpoints)
							}
						}
						sawAWS = sawAWS || len(r.To) > 0
					default:
						f.add(id, "egress rule %d allows %s/%s: the app may only reach DNS and PostgreSQL", i, proto, pt.String())
					}
				}
			}
		}
		if !sawIngress {
			f.add("Deployment/"+app, "no NetworkPolicy admits the ingress controller to port 8080")
		}
		if !sawDNS {
			f.add("Deployment/"+app, "no NetworkPolicy allows DNS to kube-dns")
		}
		if !sawDB {
			f.add("Deployment/"+app, "no NetworkPolicy allows PostgreSQL (5432/TCP)")
		}
		if len(awsEndpoints) > 0 && !sawAWS {
			f.add("Deployment/"+app, "no NetworkPolicy allows HTTPS to the AWS endpoint subnets %v", awsEndpoints)
		}
		return f.list
	}}
}

// DatabaseAdmitsOnlyApp returns the check that the pods labelled
// app.kubernetes.io/name=<db> (an in-cluster database) are covered by a NetworkPolicy and that
// every ingress rule selecting them admits only 5432/TCP from the app's pods in the same
// namespace, with no egress allowed at all.
func DatabaseAdmitsOnlyApp(db, app string) Check {
	name := "DatabaseAdmitsOnlyApp"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		var labels map[string]string
		var ns, owner string
		for _, pt := range podTemplates(objs, f) {
			if pt.Meta.Labels["app.kubernetes.io/name"] == db {
				labels, ns, owner = pt.Meta.Labels, pt.Ns, pt.Owner
			}
		}
		if labels == nil {
			f.add(db, "no workload with pods labelled app.kubernetes.io/name=%s", db)
			return f.list
		}
		nps := decodeAll[networkingv1.NetworkPolicy](objs, "networking.k8s.io", "NetworkPolicy", f)
		admitted := false
		for _, id := range sortedKeys(nps) {
			np := nps[id]
			if np.Namespace != ns || !selects(&np.Spec.PodSelector, labels) {
				continue
			}
			if len(np.Spec.Egress) > 0 {
				f.add(id, "allows egress from the database")
			}
			for i, r := range np.Spec.Ingress {
				for _, p := range r.Ports {
					if proto, pt := port(p); proto != corev1.ProtocolTCP || pt.String() != "5432" {
						f.add(id, "ingress rule %d admits %s/%s to the database", i, proto, pt.String())
					}
				}
				for _, peer := range r.From {
					if !peerIs(peer, "", "app.kubernetes.io/name", app) {
						f.add(id, "ingress rule %d admits a peer other than the %s pods", i, app)
					}
				}
				admitted = admitted || len(r.From) > 0
			}
		}
		if !admitted {
			f.add(owner, "no NetworkPolicy admits the app to the database")
		}
		return f.list
	}}
}
