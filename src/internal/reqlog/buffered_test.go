package reqlog

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBufferedWriterKeepsEveryLineInOrder(t *testing.T) {
	out := &lockedBuffer{}
	w := NewBufferedWriter(out, 1024, time.Hour) // only size and Close flush here
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				fmt.Fprintf(w, "g%d line %04d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	last := map[string]int{}
	for _, l := range lines {
		var g string
		var i int
		if _, err := fmt.Sscanf(l, "%s line %d", &g, &i); err != nil {
			t.Fatalf("torn line %q", l)
		}
		if prev, ok := last[g]; ok && i != prev+1 {
			t.Fatalf("%s: line %d after %d", g, i, prev)
		}
		last[g] = i
	}
	if out.writes >= len(lines)/4 {
		t.Fatalf("%d writes for %d lines: not batched", out.writes, len(lines))
	}
}

func TestBufferedWriterFlushesOnItsInterval(t *testing.T) {
	out := &lockedBuffer{}
	w := NewBufferedWriter(out, 1<<20, 20*time.Millisecond)
	defer func() { _ = w.Close() }()
	fmt.Fprintln(w, "soon")
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "soon\n" {
		if time.Now().After(deadline) {
			t.Fatal("line not flushed by the interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBufferedWriterOversizedLine(t *testing.T) {
	out := &lockedBuffer{}
	w := NewBufferedWriter(out, 16, time.Hour)
	fmt.Fprint(w, "short\n")
	big := strings.Repeat("x", 100) + "\n"
	fmt.Fprint(w, big)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "short\n"+big {
		t.Fatalf("got %q", out.String())
	}
}
