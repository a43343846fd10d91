package nodens

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating namespaces needs root")
	}
}

// TestNamespaces: the node's address answers inside the namespaces and not on the host, a file
// under a private folder stays inside, Dial and Relay reach a listener inside, and Destroy
// leaves no member process (also one started there and forgotten).
func TestNamespaces(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	dir := t.TempDir()
	const nodeIP = "10.250.0.2"
	n, err := Create(ctx, dir, nodeIP, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Destroy(time.Second) })

	out, err := n.Output(ctx, "ip", "-4", "addr", "show", "dev", "lo")
	if err != nil || !strings.Contains(out, nodeIP+"/32") {
		t.Fatalf("lo inside: %q, %v; want %s", out, err, nodeIP)
	}
	if host, _ := exec.Command("ip", "-4", "addr").Output(); strings.Contains(string(host), nodeIP) {
		t.Fatalf("the node's address leaked to the host: %s", host)
	}
	if err := n.Run(ctx, "sh", "-c", "echo private > /run/nodens-test-marker"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/nodens-test-marker"); err == nil {
		_ = os.Remove("/run/nodens-test-marker")
		t.Fatal("a file written under /run inside the namespaces is visible on the host")
	}

	ln := listenInside(t, n, nodeIP+":0")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "hello from inside\n")
			_ = c.Close()
		}
	}()
	read := func(c net.Conn) string {
		defer func() { _ = c.Close() }()
		b, _ := io.ReadAll(c)
		return string(b)
	}
	c, err := n.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got := read(c); got != "hello from inside\n" {
		t.Fatalf("dial inside read %q", got)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("the inside listener answers from the host's network namespace")
	}
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go n.Relay(rctx, hostLn, ln.Addr().String())
	rc, err := net.Dial("tcp", hostLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if got := read(rc); got != "hello from inside\n" {
		t.Fatalf("relay read %q", got)
	}

	// A process left inside (as containerd's shims would be) is found and stopped.
	stray, err := proc.Start(proc.Spec{Name: "stray", Dir: dir, Wrap: n.Wrap(), Path: "/bin/sleep", Args: []string{"600"}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(n.Members(), stray.PID) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !slices.Contains(n.Members(), stray.PID) {
		t.Fatalf("pid %d inside the namespaces is not a member (%v)", stray.PID, n.Members())
	}
	_ = ln.Close()
	if err := n.Destroy(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if m := n.Members(); len(m) != 0 {
		t.Fatalf("members left after Destroy: %v", m)
	}
	if stray.Alive() {
		t.Fatal("the stray process survived Destroy")
	}
}

// TestInodesReused: once a run's holder is gone the kernel gives its namespaces' inode numbers to
// the next namespaces made on the machine. Destroy (which signals members again after stopping
// the holder) and Members must then leave those alone: another test's or run's holder is not
// ours to stop. The reuse is made certain here by handing a stopped run the live one's numbers.
func TestInodesReused(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	other, err := Create(ctx, t.TempDir(), "10.250.0.3", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Destroy(time.Second) })

	gone, err := proc.Start(proc.Spec{Name: holderName, Dir: t.TempDir(), Path: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for gone.Alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stale := &NS{PID: gone.PID, NetIno: other.NetIno, MntIno: other.MntIno, dir: t.TempDir(), holder: gone}
	if m := stale.Members(); slices.Contains(m, other.PID) {
		t.Fatalf("a run whose holder is gone claims another run's holder (pid %d) by inode number: %v", other.PID, m)
	}
	if err := stale.Destroy(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !other.holder.Alive() {
		t.Fatal("Destroy of a run whose holder was gone stopped another run's holder")
	}
	if got, err := other.Output(ctx, "ip", "-4", "addr", "show", "dev", "lo"); err != nil || !strings.Contains(got, "10.250.0.3/32") {
		t.Fatalf("the other run's namespaces after the stale Destroy: %q, %v", got, err)
	}
}

// listenInside opens a listener whose socket lives in the node's network namespace. The thread
// goes back to its own namespace and is unlocked afterwards: a locked thread that exits takes
// down the children it forked (Pdeathsig), the namespace holder among them.
func listenInside(t *testing.T, n *NS, addr string) net.Listener {
	t.Helper()
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{nil, err}
			return
		}
		defer func() { _ = self.Close() }()
		f, err := os.Open("/proc/" + strconv.Itoa(n.PID) + "/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{nil, err}
			return
		}
		defer func() { _ = f.Close() }()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- res{nil, err}
			return
		}
		ln, err := net.Listen("tcp", addr)
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- res{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ln
}

// TestOrphanMember: with the holder gone, a process in a namespace with the recorded inode number
// is taken for the run's only if it runs a node program with the run's folder in its command
// line: the kernel reuses inode numbers, and another run's etcd must never be stopped for ours.
func TestOrphanMember(t *testing.T) {
	const run = "/work/a/.run/e2e/cluster"
	for _, tc := range []struct {
		exe, cmdline string
		want         bool
	}{
		{"/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2\x00-address\x00" + run + "/node/containerd/containerd.sock", true},
		{"/tools/bin/etcd", "etcd\x00--data-dir=" + run + "/etcd", true},
		{"/tools/bin/etcd (deleted)", "etcd\x00--data-dir=" + run + "/etcd", true},
		{"/tools/bin/etcd", "etcd\x00--data-dir=/work/b/.run/e2e/cluster/etcd", false}, // another run's
		{"/tools/bin/etcd", "etcd\x00--data-dir=" + run + "-other/etcd", false},        // a sibling folder
		{"/usr/bin/python3", "python3\x00" + run + "/x.py", false},                     // not a node program
		{"/usr/bin/sleep", "sleep\x00infinity", false},                                 // a holder proves nothing
	} {
		if got := orphanMember(tc.exe, tc.cmdline, run); got != tc.want {
			t.Errorf("orphanMember(%q, %q) = %v, want %v", tc.exe, tc.cmdline, got, tc.want)
		}
	}
}
