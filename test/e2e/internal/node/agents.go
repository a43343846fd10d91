package node

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/platform-template/template-api/test/e2e/internal/proc"
	"github.com/platform-template/template-api/test/e2e/internal/topology"
)

// kubeletConfig is the kubelet's KubeletConfiguration. Every path it would otherwise put on the
// host is under the state folder; the cgroupfs driver (no systemd as PID 1) under the node's own
// cgroup root; eviction and image garbage collection relaxed (a shared build machine's disk is
// not the node's to police, and the imported images cannot be pulled again); authentication by
// the run's CA and authorization by the API server (so that `kubectl logs`, exec and
// port-forward are checked like on any cluster).
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: %[2]q
tlsPrivateKeyFile: %[3]q
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %[4]q}
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
cgroupRoot: /%[5]s
cgroupsPerQOS: true
failCgroupV1: false
containerRuntimeEndpoint: unix://%[6]s
clusterDNS: [%[7]s]
clusterDomain: %[8]s
resolvConf: %[9]q
podLogsDir: %[10]q
volumePluginDir: %[11]q
failSwapOn: false
protectKernelDefaults: false
serializeImagePulls: false
evictionHard:
  memory.available: 50Mi
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
shutdownGracePeriod: 0s
`

// resolvConf is what pods with dnsPolicy Default (CoreDNS itself) get: the node has no
// upstream resolver, so none is named; ClusterFirst pods get the cluster's DNS.
const resolvConf = "options ndots:1\n"

func (n *Node) startKubelet() error {
	root := n.dir("kubelet")
	for _, d := range []string{root, n.dir("pod-logs"), n.dir("volume-plugins")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	if err := createCgroupRoot(CgroupRoot(n.opts.Dir)); err != nil {
		return err
	}
	resolv := n.dir("resolv.conf")
	if err := os.WriteFile(resolv, []byte(resolvConf), 0o644); err != nil {
		return err
	}
	cfg := fmt.Sprintf(kubeletConfig, topology.NodeIP, n.opts.KubeletCert, n.opts.KubeletKey, n.opts.CAFile,
		CgroupRoot(n.opts.Dir), filepath.Join(n.dir("containerd"), "containerd.sock"), topology.DNSServiceIP,
		topology.ClusterDomain, resolv, n.dir("pod-logs"), n.dir("volume-plugins"))
	cfgPath := n.dir("kubelet-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	_, err := n.start(proc.Spec{Name: procKubelet, Path: n.opts.Bin.Kubelet, Args: []string{
		"--config=" + cfgPath, "--kubeconfig=" + n.opts.KubeletKubeconfig, "--root-dir=" + root,
		"--hostname-override=" + topology.NodeName, "--node-ip=" + topology.NodeIP,
		"--node-labels=topology.kubernetes.io/zone=local", "--v=1",
	}})
	return err
}

// kubeProxyConfig: the nftables mode (one table per family, gone with the namespace), and no
// change to the kernel's global conntrack settings.
const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection:
  kubeconfig: %[1]q
hostnameOverride: %[2]s
clusterCIDR: %[3]s
bindAddress: %[4]s
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`

func (n *Node) startKubeProxy() error {
	cfg := fmt.Sprintf(kubeProxyConfig, n.opts.KubeProxyKubeconfig, topology.NodeName, topology.ClusterCIDR, topology.NodeIP)
	cfgPath := n.dir("kube-proxy-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	_, err := n.start(proc.Spec{Name: procKubeProxy, Path: n.opts.Bin.KubeProxy, Args: []string{"--config=" + cfgPath, "--v=1"}})
	return err
}

// startKubeRouter runs kube-router as the NetworkPolicy agent only (no routing, no service
// proxy, no CNI of its own): iptables rules and ipsets in the node's network namespace.
// kubeRouterHealthPort is kube-router's health check, inside the node's namespace.
const kubeRouterHealthPort = "20244"

func (n *Node) startKubeRouter() (*proc.Process, error) {
	return n.start(proc.Spec{Name: procKubeRouter, Path: n.opts.Bin.KubeRouter, Args: []string{
		"--kubeconfig=" + n.opts.KubeRouterKubeconfig,
		"--hostname-override=" + topology.NodeName,
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
		"--enable-cni=false", "--enable-ipv4=true", "--enable-ipv6=false",
		"--metrics-port=0", "--health-port=" + kubeRouterHealthPort,
		"--service-cluster-ip-range=" + topology.ServiceCIDR,
		"--v=1",
	}})
}
