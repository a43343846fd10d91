package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/nodens"
	"github.com/platform-template/template-api/test/e2e/internal/proc"
)

// TestLeftovers: each kind of thing a node can leave behind is reported (a process in its
// namespaces, a mount under its state folder, a cgroup under its root, a kernel setting not
// restored, node state), and once Destroy and Cleanup ran, nothing is.
func TestLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting namespaces, mounts and cgroups needs root (the local cluster needs it too)")
	}
	ctx := context.Background()
	state := t.TempDir()
	logs := filepath.Join(state, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// A fake /proc/sys for the kubelet's settings: one of them "changed by the kubelet".
	sys := t.TempDir()
	old := sysctlDir
	sysctlDir = sys
	t.Cleanup(func() { sysctlDir = old })
	for _, k := range kubeletSysctls {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(sys, k)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, k), []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n := &Node{opts: Options{Dir: state}}
	if err := n.recordSysctls(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sys, "kernel/panic"), []byte("10\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ns, err := nodens.Create(ctx, logs, "10.250.0.9", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Destroy(time.Second) })
	stray, err := proc.Start(proc.Spec{Name: "stray", Dir: logs, Wrap: ns.Wrap(), Path: "/bin/sleep", Args: []string{"600"}})
	if err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(state, "containerd", "mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("leftover-test", mnt, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	if err := createCgroupRoot(CgroupRoot(state)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = removeCgroups(CgroupRoot(state)) })

	time.Sleep(200 * time.Millisecond) // nsenter execs sleep
	got := strings.Join(Leftovers(state, logs), "\n")
	for _, want := range []string{
		"inside the node's namespaces", "from stray still runs", "mount " + mnt, "cgroup /sys/fs/cgroup/",
		"kernel setting kernel/panic=10 (was 0", "node state " + filepath.Join(state, "containerd"),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Leftovers does not report %q:\n%s", want, got)
		}
	}

	if err := ns.Destroy(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if stray.Alive() {
		t.Fatal("the stray process survived Destroy")
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(state); err != nil {
		t.Fatal(err)
	}
	if left := Leftovers(state, logs); len(left) != 0 {
		t.Fatalf("after Destroy and Cleanup, still left: %v", left)
	}
	if b, _ := os.ReadFile(filepath.Join(sys, "kernel/panic")); strings.TrimSpace(string(b)) != "0" {
		t.Fatalf("kernel/panic not restored: %q", b)
	}
}

// TestCgroupRoot: the cgroup root is a function of the state folder only, and differs between
// folders (two runs never share one).
func TestCgroupRoot(t *testing.T) {
	a, b := CgroupRoot("/x/.run/e2e/cluster/node"), CgroupRoot("/y/.run/e2e/cluster/node")
	if a == b || a != CgroupRoot("/x/.run/e2e/cluster/node") || !strings.HasPrefix(a, "template-api-e2e-") {
		t.Fatalf("CgroupRoot: %q, %q", a, b)
	}
}
