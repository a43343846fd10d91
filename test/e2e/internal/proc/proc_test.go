package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestStartFindStop: a process is found again through its PID file, stopped by its PID, and a
// PID file whose PID runs another binary is not taken for it.
func TestStartFindStop(t *testing.T) {
	dir := t.TempDir()
	p, err := Start(Spec{Name: "sleeper", Path: "/bin/sleep", Args: []string{"60"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	found, ok := Find(dir, "sleeper")
	if !ok || found.PID != p.PID {
		t.Fatalf("Find = %v, %v; want pid %d", found, ok, p.PID)
	}
	if err := found.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.Alive() {
		t.Fatalf("pid %d still runs after Stop", p.PID)
	}
	if _, ok := Find(dir, "sleeper"); ok {
		t.Fatal("a stopped process is still found")
	}

	// Our own PID runs the test binary, not /bin/sleep: Find must refuse it.
	other := filepath.Join(dir, "impostor.pid")
	if err := os.WriteFile(other, []byte(strconv.Itoa(os.Getpid())+"\n/bin/sleep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := Find(dir, "impostor"); ok {
		t.Fatal("Find accepted a PID that runs another binary")
	}
}
