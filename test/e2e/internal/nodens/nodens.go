// Package nodens gives the local cluster a network namespace and a mount namespace of its own,
// held open by one small process, so that everything the node does happens there: its veths,
// routes and nftables/iptables rules (kube-proxy's, the NetworkPolicy agent's), its mounts
// (overlay snapshots, shm, secret volumes, the pods' network-namespace bind mounts), and its
// fixed paths (/run/containerd, /run/netns, /var/lib/cni, /var/log/containers), which are
// private tmpfs mounts inside it. The host keeps none of it: when the last process in the
// namespaces is stopped, the kernel drops all of that at once. Two runs on one machine do not
// see each other's addresses, ports or rules.
//
// The host reaches the cluster only through Dial (a socket opened inside the network
// namespace), which Relay uses to expose the API server on a loopback port.
package nodens

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// holderName is the holder process's name in the state folder (holder.pid, holder.log).
const holderName = "namespaces"

// privateDirs are mounted as fresh tmpfs inside the mount namespace: the node's programs write
// there at paths they do not let us choose (containerd's shim sockets and runc state under
// /run/containerd, the pods' netns bind mounts under /run/netns, the CNI result cache under
// /var/lib/cni, the kubelet's /var/log/containers symlinks), and the host must keep none of it.
// Whole folders are covered so that no mount point has to be created on the host.
var privateDirs = []string{"/run", "/var/lib", "/var/log"}

// NS is the pair of namespaces and the process that holds them.
type NS struct {
	PID    int    // the holder
	NetIno uint64 // inode of its network namespace (identifies members)
	MntIno uint64 // inode of its mount namespace
	dir    string
	holder *proc.Process
	// orphaned: found from a record whose holder is gone. The kernel may since have given the
	// recorded inode numbers to other namespaces (another run's, on the same machine), so a
	// process counts as a member then only if it runs one of the node's programs and its command
	// line names this run's folder (every program of the cluster is given paths in it).
	orphaned bool
}

// nodePrograms are the programs that run inside the namespaces (by file name).
var nodePrograms = map[string]bool{
	"sleep": true, "containerd": true, "containerd-shim-runc-v2": true, "containerd-shim": true,
	"runc": true, "ctr": true, "kubelet": true, "kube-proxy": true, "kube-router": true,
	"kube-apiserver": true, "kube-controller-manager": true, "kube-scheduler": true, "etcd": true,
	"nsenter": true, "iptables": true, "iptables-nft": true, "ipset": true, "nft": true,
}

// Create starts the holder (`unshare --net --mount --propagation private sleep infinity`),
// brings up loopback with the node's address, turns on forwarding (a per-namespace setting),
// and mounts the private folders. On error it stops what it started.
func Create(ctx context.Context, dir, nodeIP string, detach bool) (_ *NS, err error) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, fmt.Errorf("the namespace holder needs sleep: %w", err)
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		return nil, fmt.Errorf("entering the node's namespaces needs nsenter (util-linux): %w", err)
	}
	p, err := proc.Start(proc.Spec{Name: holderName, Dir: dir, Detach: detach,
		Wrap: []string{"unshare", "--net", "--mount", "--propagation", "private", "--"},
		Path: sleep, Args: []string{"infinity"}})
	if err != nil {
		return nil, err
	}
	n := &NS{PID: p.PID, dir: dir, holder: p}
	defer func() {
		if err != nil {
			_ = n.Destroy(5 * time.Second)
		}
	}()
	self, err := nsInode(os.Getpid(), "net")
	if err != nil {
		return nil, err
	}
	// unshare execs sleep once the namespaces exist: wait for that.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.WaitFor(wctx, "the namespace holder", 10*time.Millisecond, func(context.Context) error {
		ino, err := nsInode(p.PID, "net")
		if err != nil || ino == self || !p.Alive() {
			return fmt.Errorf("not in its namespaces yet")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if n.NetIno, err = nsInode(p.PID, "net"); err != nil {
		return nil, err
	}
	if n.MntIno, err = nsInode(p.PID, "mnt"); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, holderName+".ns"),
		[]byte(fmt.Sprintf("%d %d\n", n.NetIno, n.MntIno)), 0o600); err != nil {
		return nil, fmt.Errorf("record the namespaces: %w", err)
	}
	steps := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "addr", "add", nodeIP + "/32", "dev", "lo"},
		{"sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"},
	}
	for _, d := range privateDirs {
		steps = append(steps, []string{"mount", "-t", "tmpfs", "-o", "mode=0755", "node-private", d})
	}
	for _, s := range steps {
		if err := n.Run(ctx, s...); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Find re-finds the namespaces a run left in dir (its holder still running), for Destroy.
func Find(dir string) (*NS, bool) {
	p, ok := proc.Find(dir, holderName)
	b, err := os.ReadFile(filepath.Join(dir, holderName+".ns"))
	if err != nil {
		if ok { // holder without a record: it never finished starting
			return &NS{PID: p.PID, dir: dir, holder: p}, true
		}
		return nil, false
	}
	n := &NS{dir: dir, orphaned: true}
	if _, err := fmt.Sscanf(string(b), "%d %d", &n.NetIno, &n.MntIno); err != nil {
		return nil, false
	}
	if ok {
		if ino, err := nsInode(p.PID, "net"); err == nil && ino == n.NetIno {
			n.PID, n.holder, n.orphaned = p.PID, p, false
		}
	}
	return n, true
}

// Wrap is the command prefix that runs a program inside the namespaces (nsenter execs it, so
// the program keeps nsenter's PID).
func (n *NS) Wrap() []string {
	return []string{"nsenter", "--target", strconv.Itoa(n.PID), "--net", "--mount", "--"}
}

// Run runs a short command inside the namespaces and returns its error with its output.
func (n *NS) Run(ctx context.Context, argv ...string) error {
	_, err := n.Output(ctx, argv...)
	return err
}

// Output runs a short command inside the namespaces and returns its standard output.
func (n *NS) Output(ctx context.Context, argv ...string) (string, error) {
	args := append(n.Wrap()[1:], argv...)
	cmd := exec.CommandContext(ctx, "nsenter", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s (in the node's namespaces): %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// DialContext opens a connection from inside the network namespace: the socket is created on
// a thread switched into it, and belongs to it from then on.
func (n *NS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		c, restored, err := n.dialLocked(ctx, network, addr)
		// A thread that stays in the node's namespace must not be reused: left locked, it exits
		// with this goroutine. (That kills children whose Pdeathsig is tied to it, but setns
		// back into our own namespace does not fail in practice.)
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func (n *NS) dialLocked(ctx context.Context, network, addr string) (net.Conn, bool, error) {
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, fmt.Errorf("open this thread's network namespace: %w", err)
	}
	defer func() { _ = self.Close() }()
	target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", n.PID))
	if err != nil {
		return nil, true, fmt.Errorf("open the node's network namespace (holder pid %d): %w", n.PID, err)
	}
	defer func() { _ = target.Close() }()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("enter the node's network namespace: %w", err)
	}
	var d net.Dialer
	c, dialErr := d.DialContext(ctx, network, addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		if c != nil {
			_ = c.Close()
		}
		return nil, false, fmt.Errorf("return from the node's network namespace: %w", err)
	}
	return c, true, dialErr
}

// Relay accepts connections on ln (a host address) and pipes each to target inside the
// network namespace, until ctx ends.
func (n *NS) Relay(ctx context.Context, ln net.Listener, target string) {
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = c.Close() }()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			up, err := n.DialContext(dctx, "tcp", target)
			cancel()
			if err != nil {
				return
			}
			defer func() { _ = up.Close() }()
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(up, c)
			go pipe(c, up)
			<-done
			<-done
		}()
	}
}

// Members lists the PIDs of every process inside either namespace (the holder included): the
// node's programs, containerd's shims, and anything they started that did not leave both.
// Containers have namespaces of their own and are found through their cgroups instead.
//
// The inode numbers name our namespaces only while our holder keeps them alive: once it is gone
// the kernel hands the same numbers to the next namespaces created on the machine (another
// run's, or another test's), so from then on members are judged as for an orphaned record.
func (n *NS) Members() []int {
	runDir := ""
	if n.orphaned || !n.holds() {
		runDir = filepath.Dir(n.dir)
	}
	return membersOf(n.NetIno, n.MntIno, runDir)
}

// holds: our holder still runs and is still in the namespaces we recorded.
func (n *NS) holds() bool {
	if n.holder == nil || !n.holder.Alive() {
		return false
	}
	ino, err := nsInode(n.PID, "net")
	return err == nil && ino == n.NetIno
}

// membersOf lists the processes in either namespace; with runDir set, only the node's programs
// whose command line names runDir.
func membersOf(netIno, mntIno uint64, runDir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		ni, errN := nsInode(pid, "net")
		mi, errM := nsInode(pid, "mnt")
		if (errN != nil || ni != netIno) && (errM != nil || mi != mntIno) {
			continue
		}
		if runDir != "" {
			exe, errE := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			cmdline, errC := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if errE != nil || errC != nil || !orphanMember(exe, string(cmdline), runDir) {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// orphanMember: the process runs one of the node's programs and its command line names runDir.
func orphanMember(exe, cmdline, runDir string) bool {
	return nodePrograms[filepath.Base(strings.TrimSuffix(exe, " (deleted)"))] &&
		strings.Contains(cmdline, runDir+"/")
}

// Destroy stops every member of the namespaces by its PID (SIGTERM, then SIGKILL after grace),
// the holder last; once none is left the kernel frees both namespaces and everything in them.
func (n *NS) Destroy(grace time.Duration) error {
	others := func() []int {
		var out []int
		for _, pid := range n.Members() {
			if pid != n.PID {
				out = append(out, pid)
			}
		}
		return out
	}
	if err := signalAll(others, grace); err != nil {
		return err
	}
	if n.holder != nil {
		if err := n.holder.Stop(grace); err != nil {
			return err
		}
	}
	// The record stays: Leftovers reads it to look for members after the run.
	return signalAll(n.Members, grace)
}

// signalAll sends SIGTERM to every PID list() returns, waits up to grace for them to go, then
// SIGKILLs what is left and waits again.
func signalAll(list func() []int, grace time.Duration) error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		pids := list()
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("signal pid %d: %w", pid, err)
			}
		}
		deadline := time.Now().Add(grace)
		for time.Now().Before(deadline) && len(list()) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if left := list(); len(left) > 0 {
		return fmt.Errorf("pids %v survive SIGKILL", left)
	}
	return nil
}

// nsInode is the inode of /proc/<pid>/ns/<kind>, which names the namespace.
func nsInode(pid int, kind string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}
