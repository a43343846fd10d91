package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestOCIArchive: the archive holds every image under its name (and a digest-pinned one under
// repository@digest too) with its manifest byte for byte, each blob once.
func TestOCIArchive(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "prog")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(filepath.Join(dir, "cache"))
	img, err := b.Build(Spec{Name: "example.local/a:v1", Files: []File{{Src: bin, Dst: "/prog"}}, Entrypoint: []string{"/prog"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = WriteOCIArchive(&buf, []Named{
		{Name: "example.local/a:v1", Image: img},
		{Name: "docker.io/library/postgres:15.18", Image: img, Digest: d.String()},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := files[h.Name]; dup {
			t.Errorf("%s written twice", h.Name)
		}
		files[h.Name], _ = io.ReadAll(tr)
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range index.Manifests {
		names = append(names, m.Annotations["io.containerd.image.name"])
		if m.Digest != d {
			t.Errorf("%v points at %s, want %s", m.Annotations, m.Digest, d)
		}
	}
	want := []string{"example.local/a:v1", "docker.io/library/postgres:15.18", "docker.io/library/postgres@" + d.String()}
	if len(names) != len(want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("name %d = %s, want %s", i, names[i], want[i])
		}
	}
	raw, _ := img.RawManifest()
	if !bytes.Equal(files["blobs/sha256/"+d.Hex], raw) {
		t.Error("the manifest blob is not the image's manifest")
	}
}

// TestCacheKeysAndPrune: a small program rebuilt with the same content (new time) reuses its
// cached layer; Prune keeps what this builder used and removes the rest.
func TestCacheKeysAndPrune(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	prog := filepath.Join(dir, "prog")
	write := func(content string) {
		if err := os.WriteFile(prog, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := func(b *Builder) v1.Hash {
		img, err := b.Build(Spec{Name: "example.local/p:v1", Files: []File{{Src: prog, Dst: "/prog"}}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	write("one")
	first := build(NewBuilder(cache))
	write("one") // rebuilt: same content, new time
	if again := build(NewBuilder(cache)); again != first {
		t.Fatalf("same content, new time: digest %s, want %s", again, first)
	}
	write("two")
	b := NewBuilder(cache)
	second := build(b)
	if second == first {
		t.Fatal("new content, same digest")
	}
	if err := b.Prune(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 2 { // one layer: .tar and .json
		t.Fatalf("after Prune the cache holds %d files, want the 2 of the layer in use", len(entries))
	}
	if got := build(NewBuilder(cache)); got != second {
		t.Fatalf("the layer in use was pruned: %s, want %s", got, second)
	}
}
