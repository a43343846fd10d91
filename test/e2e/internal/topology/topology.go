// Package topology holds the addresses every cluster of the tests shares, kind or local: kind's
// own defaults for the pod and service ranges (so that a fixed ClusterIP means the same thing
// in both), and the fixed addresses of the cluster's DNS and of the registry it pulls from.
package topology

const (
	// ClusterCIDR is the pod range (kind's default); the local node gets PodSubnet from it.
	ClusterCIDR = "10.244.0.0/16"
	PodSubnet   = "10.244.0.0/24"
	// ServiceCIDR is the Service range (kind's default).
	ServiceCIDR = "10.96.0.0/16"
	// APIServiceIP is the kubernetes Service's ClusterIP (the first of ServiceCIDR).
	APIServiceIP = "10.96.0.1"
	// DNSServiceIP is kube-dns's ClusterIP (kind's and kubeadm's choice).
	DNSServiceIP = "10.96.0.10"
	// ClusterDomain is the DNS domain of Services.
	ClusterDomain = "cluster.local"

	// RegistryIP is the in-cluster registry's fixed ClusterIP: containerd on the node reaches
	// the registry there (hosts.toml), as it does not use the cluster's DNS.
	RegistryIP   = "10.96.0.50"
	RegistryPort = "5000"
	// RegistryHost is the registry as image references name it: its fixed ClusterIP, which
	// Kyverno (in the cluster) reaches directly and containerd is told speaks plain HTTP
	// (hosts.toml). Not the Service's DNS name: Kyverno 1.19 looks up cosign v3's signature
	// bundles without the name options its --allowInsecureRegistry sets, so for a plain-HTTP
	// registry it finds them only at an address go-containerregistry itself reads over HTTP
	// (loopback, localhost or RFC 1918, as 10.96.0.50 is); at a DNS name it asks HTTPS, finds
	// no bundle, and refuses every image as unsigned. The guardrail matrix's untrusted alias is
	// the registry pod's own address (platform.OpenRegistry).
	RegistryHost = RegistryIP + ":" + RegistryPort

	// NodeName and NodeIP are the local node's name and its address inside its network
	// namespace (the API server advertises it; pods reach it through their veths).
	NodeName = "e2e-node"
	NodeIP   = "10.250.0.2"
)
