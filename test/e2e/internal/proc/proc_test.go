package proc

import (
	"fmt"
	"os"
	"path/filepath"
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
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	started, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"impostor":      fmt.Sprintf("%d\n/bin/sleep\n%d\n", os.Getpid(), started),
		"recycled":      fmt.Sprintf("%d\n%s\n%d\n", os.Getpid(), self, started+1), // same PID and binary, another start
		"the-real-self": fmt.Sprintf("%d\n%s\n%d\n", os.Getpid(), self, started),
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".pid"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := Find(dir, "impostor"); ok {
		t.Fatal("Find accepted a PID that runs another binary")
	}
	if _, ok := Find(dir, "recycled"); ok {
		t.Fatal("Find accepted a PID that runs the same binary but started at another time")
	}
	if _, ok := Find(dir, "the-real-self"); !ok {
		t.Fatal("Find refused the process its file names exactly")
	}
}
