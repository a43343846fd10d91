// Package proc starts the processes of a local control plane and stops them again by their PID.
//
// A process started for a test is a child of the test binary (and is killed with it); a process
// started for the demo is detached into its own session and found again later through its PID
// file, so that `make demo-down` can stop exactly what `make demo` started.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Spec says how to start one process.
type Spec struct {
	Name   string   // short name, used for the log and PID file names
	Path   string   // binary
	Args   []string // arguments
	Env    []string // extra environment, appended to os.Environ()
	Dir    string   // folder holding <name>.log and <name>.pid
	Detach bool     // survive the parent (demo); otherwise die with it (tests)
	// Wrap is a command that execs Path in its place (e.g. nsenter into the node's
	// namespaces): it must exec, not fork, so that the PID recorded is Path's.
	Wrap []string
}

// Process is a started (or re-found) process.
type Process struct {
	Name    string
	PID     int
	Path    string
	LogPath string
	pidPath string
	// started is the process's start time (clock ticks after boot, /proc/<pid>/stat): with the
	// PID and the binary it names the process exactly, even after the PID is recycled by
	// another run of the same binary (the tools are shared between checkouts).
	started uint64
	done    chan struct{} // closed when a child we started exits; nil for re-found processes
}

// Start launches the process with stdout and stderr to <dir>/<name>.log and records its PID.
func Start(spec Spec) (*Process, error) {
	if err := os.MkdirAll(spec.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", spec.Dir, err)
	}
	logPath := filepath.Join(spec.Dir, spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log for %s: %w", spec.Name, err)
	}
	defer func() { _ = logFile.Close() }()
	argv := append(append(append([]string{}, spec.Wrap...), spec.Path), spec.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if spec.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Its own process group (a Ctrl-C reaches the test, which stops it in order) and a
		// SIGKILL when the test binary dies without cleaning up (a panic, a timeout).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", spec.Name, spec.Path, err)
	}
	path, err := filepath.EvalSymlinks(spec.Path)
	if err != nil {
		path = spec.Path
	}
	if path, err = filepath.Abs(path); err != nil {
		path = spec.Path
	}
	p := &Process{Name: spec.Name, PID: cmd.Process.Pid, Path: path, LogPath: logPath,
		pidPath: filepath.Join(spec.Dir, spec.Name+".pid")}
	// The PID file holds the PID, the binary and the start time, so that a later Find can tell
	// this process from another one that got the same PID.
	p.started, _ = StartTime(p.PID)
	if err := os.WriteFile(p.pidPath, []byte(fmt.Sprintf("%d\n%s\n%d\n", p.PID, path, p.started)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("write PID file of %s: %w", spec.Name, err)
	}
	// Reap it when it exits (a detached one too, while this program runs), and know it exited:
	// until a Wrap execs Path, the PID does not run Path yet, so Alive alone would say no.
	p.done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Find re-reads <dir>/<name>.pid and returns the process if its PID still runs the binary
// recorded there (a PID reused by another program does not count). A stale PID file is removed.
func Find(dir, name string) (*Process, bool) {
	pidPath := filepath.Join(dir, name+".pid")
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return nil, false
	}
	fields := strings.Fields(string(b))
	if len(fields) != 3 {
		return nil, false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return nil, false
	}
	started, err := strconv.ParseUint(fields[2], 10, 64)
	if err != nil {
		return nil, false
	}
	p := &Process{Name: name, PID: pid, Path: fields[1], LogPath: filepath.Join(dir, name+".log"), pidPath: pidPath, started: started}
	if !p.Alive() {
		_ = os.Remove(pidPath)
		return nil, false
	}
	return p, true
}

// Alive reports whether the PID still runs this process's binary (a recycled PID does not count).
func (p *Process) Alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
		}
	}
	if p.started != 0 {
		if t, err := StartTime(p.PID); err != nil || t != p.started {
			return false // another process now has this PID
		}
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
	if err != nil {
		return false
	}
	// A binary rebuilt since the process started shows as "<path> (deleted)".
	return strings.TrimSuffix(exe, " (deleted)") == p.Path
}

// StartTime is when a process started, in clock ticks after boot (field 22 of /proc/<pid>/stat).
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count after its end.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22 is the 20th after the name
}

// Stop sends SIGTERM to the PID, waits up to grace, then SIGKILL. It removes the PID file.
func (p *Process) Stop(grace time.Duration) error {
	defer func() { _ = os.Remove(p.pidPath) }()
	if !p.Alive() {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
	}
	for i := 0; i < 100 && p.Alive(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Exited reports, for a child we started, whether it has exited already.
func (p *Process) Exited() bool {
	if p.done == nil {
		return !p.Alive()
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Tail returns the last n lines of the process's log, for error messages.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// WaitFor polls check every interval until it returns nil, the process exits, or ctx ends.
// The last error of check is part of the returned error.
func (p *Process) WaitFor(ctx context.Context, what string, interval time.Duration, check func(context.Context) error) error {
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited while waiting for %s: %w\n--- last lines of %s ---\n%s", p.Name, what, last, p.LogPath, p.Tail(20))
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
			if p != nil {
				msg += fmt.Sprintf("\n--- last lines of %s ---\n%s", p.LogPath, p.Tail(20))
			}
			return errors.New(msg)
		case <-time.After(interval):
		}
	}
}
