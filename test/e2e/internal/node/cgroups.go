package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupFS is where the cgroup v1 hierarchies are mounted (a variable for the tests).
var cgroupFS = "/sys/fs/cgroup"

// hierarchies lists the mounted cgroup hierarchies (v1 controllers, named ones, unified).
func hierarchies() []string {
	entries, err := os.ReadDir(cgroupFS)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(cgroupFS, e.Name())
		if st, err := os.Lstat(p); err == nil && st.IsDir() { // symlinks (cpu,cpuacct) are aliases
			out = append(out, p)
		}
	}
	return out
}

// createCgroupRoot makes the node's cgroup in every hierarchy (the kubelet wants it to exist);
// a new cpuset cgroup gets its parent's CPUs and memory nodes, or no task could join it.
func createCgroupRoot(root string) error {
	for _, h := range hierarchies() {
		d := filepath.Join(h, root)
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", d, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			parent, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				continue // not the cpuset hierarchy
			}
			if err := os.WriteFile(filepath.Join(d, f), parent, 0o644); err != nil {
				return fmt.Errorf("set %s of cgroup %s: %w", f, d, err)
			}
		}
	}
	return nil
}

// cgroupDirs lists every cgroup folder under root in every hierarchy, deepest first.
func cgroupDirs(root string) []string {
	var dirs []string
	for _, h := range hierarchies() {
		base := filepath.Join(h, root)
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// cgroupPIDs lists the processes in the cgroups under root (any hierarchy).
func cgroupPIDs(root string) []int {
	seen := map[int]bool{}
	var pids []int
	for _, d := range cgroupDirs(root) {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// killContainers SIGKILLs every process in the node's cgroups (the containers: the kubelet put
// each pod there), by PID, until none is left.
func killContainers(root string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids := cgroupPIDs(root)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container processes %v in cgroup %s survive SIGKILL", pids, root)
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill container process %d: %w", pid, err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeCgroups removes the node's cgroup folders, deepest first (a cgroup is removed with
// rmdir once it holds no process).
func removeCgroups(root string) error {
	var errs []error
	for _, d := range cgroupDirs(root) {
		var err error
		for i := 0; i < 50; i++ {
			if err = os.Remove(d); err == nil || errors.Is(err, fs.ErrNotExist) {
				err = nil
				break
			}
			time.Sleep(100 * time.Millisecond) // a process may take a moment to leave
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
