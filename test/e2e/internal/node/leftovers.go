package node

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/platform-template/template-api/test/e2e/internal/nodens"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// Leftovers lists what a stopped local cluster left on the machine, each as one line: a process
// still in its namespaces or still running from a PID file, a mount under its state folder, a
// cgroup under its cgroup root, a kernel setting the kubelet changed and nobody restored, node
// state not removed, or a kube-proxy/kube-router rule in the host's own network namespace (where
// none should ever be). Empty means nothing is left.
func Leftovers(stateDir, logDir string) []string {
	var out []string
	abs, err := filepath.Abs(stateDir)
	if err == nil {
		stateDir = abs
	}
	if ns, ok := nodens.Find(logDir); ok {
		for _, pid := range ns.Members() {
			out = append(out, fmt.Sprintf("process %d (%s) inside the node's namespaces", pid, exeOf(pid)))
		}
	}
	if entries, err := os.ReadDir(logDir); err == nil {
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".pid")
			if !ok {
				continue
			}
			if p, ok := proc.Find(logDir, name); ok {
				out = append(out, fmt.Sprintf("process %d (%s) from %s still runs", p.PID, p.Path, name))
			}
		}
	}
	for _, m := range mountsUnder(stateDir) {
		out = append(out, "mount "+m)
	}
	for _, d := range cgroupDirs(CgroupRoot(stateDir)) {
		out = append(out, "cgroup "+d)
	}
	for _, s := range changedSysctls(stateDir) {
		out = append(out, "kernel setting "+s)
	}
	for _, d := range []string{"containerd", "kubelet", "cni-ipam", "pv"} {
		if _, err := os.Stat(filepath.Join(stateDir, d)); err == nil {
			out = append(out, "node state "+filepath.Join(stateDir, d))
		}
	}
	out = append(out, hostNetworkLeftovers()...)
	return out
}

func exeOf(pid int) string {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "?"
	}
	return exe
}

// mountsUnder lists the host's mounts whose mount point or source is under dir.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		target := unescape(fields[4])
		if target == dir || strings.HasPrefix(target, dir+"/") || strings.Contains(line, dir+"/") {
			out = append(out, target)
		}
	}
	return out
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hostNetworkLeftovers looks, in the host's own network namespace, for the tables and chains
// the node's agents make: they belong in the node's namespace only.
func hostNetworkLeftovers() []string {
	var out []string
	if b, err := exec.Command("nft", "list", "tables").Output(); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(line, " kube-proxy") {
				out = append(out, "host nftables "+line)
			}
		}
	}
	if b, err := exec.Command("iptables-save").Output(); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, ":KUBE-ROUTER") || strings.HasPrefix(line, ":KUBE-NWPLCY") || strings.HasPrefix(line, ":KUBE-POD-FW") {
				out = append(out, "host iptables chain "+strings.Fields(line)[0])
			}
		}
	}
	return out
}
