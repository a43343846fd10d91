package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// kubeletSysctls are the kernel settings the kubelet sets at start (setupKernelTunables in
// pkg/kubelet/cm of k8s.io/kubernetes v1.34.4, with protectKernelDefaults false). They are
// global, not per namespace: the node records them before the kubelet starts and puts them
// back when it stops.
var kubeletSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
}

// sysctlDir is /proc/sys (a variable for the tests).
var sysctlDir = "/proc/sys"

const sysctlRecord = "sysctls-before-kubelet.json"

// recordSysctls writes the current values, once per state folder (a restart of the kubelet
// must not record the values it set itself).
func (n *Node) recordSysctls() error {
	path := filepath.Join(n.opts.Dir, sysctlRecord)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	values := map[string]string{}
	for _, k := range kubeletSysctls {
		b, err := os.ReadFile(filepath.Join(sysctlDir, k))
		if err != nil {
			return fmt.Errorf("read %s: %w", k, err)
		}
		values[k] = strings.TrimSpace(string(b))
	}
	b, err := json.Marshal(values)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// restoreSysctls puts back the recorded values and removes the record.
func restoreSysctls(stateDir string) error {
	path := filepath.Join(stateDir, sysctlRecord)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var values map[string]string
	if err := json.Unmarshal(b, &values); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var errs []error
	for k, v := range values {
		if err := os.WriteFile(filepath.Join(sysctlDir, k), []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore %s=%s: %w", k, v, err))
		}
	}
	if len(errs) == 0 {
		_ = os.Remove(path)
	}
	return errors.Join(errs...)
}

// changedSysctls lists the settings that differ from a record not yet restored.
func changedSysctls(stateDir string) []string {
	b, err := os.ReadFile(filepath.Join(stateDir, sysctlRecord))
	if err != nil {
		return nil
	}
	var values map[string]string
	if json.Unmarshal(b, &values) != nil {
		return nil
	}
	var out []string
	for k, v := range values {
		cur, err := os.ReadFile(filepath.Join(sysctlDir, k))
		if err == nil && strings.TrimSpace(string(cur)) != v {
			out = append(out, fmt.Sprintf("%s=%s (was %s before the kubelet)", k, strings.TrimSpace(string(cur)), v))
		}
	}
	return out
}
