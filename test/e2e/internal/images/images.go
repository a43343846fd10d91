// Package images assembles the container images the cluster's node runs (pause, CoreDNS, the
// registry, Kyverno's controllers, the demo's PostgreSQL) from binaries built on this machine,
// with go-containerregistry, and writes them as OCI archives for `ctr images import` (local
// node) or `kind load image-archive` (kind). Nothing is pulled from anywhere.
//
// An image is one uncompressed layer: the files given, plus, for a dynamically linked
// executable, its loader and shared libraries as ldd resolves them on this machine. Layers are
// written once into a cache folder keyed by their inputs, so a second run reuses them.
package images

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one file of an image: copied from Src on this machine, or Data.
type File struct {
	Src  string      // host path (a folder is copied recursively)
	Data []byte      // content, when Src is empty
	Dst  string      // absolute path in the image
	Mode fs.FileMode // 0 = Src's mode (or 0644 for Data)
	// Libraries adds the shared libraries and loader this executable needs (ldd).
	Libraries bool
}

// Spec is an image to assemble.
type Spec struct {
	Name       string // full reference it is imported under, e.g. registry.k8s.io/pause:3.10.1
	Files      []File
	Dirs       []string // empty folders to create (e.g. /tmp), mode 1777 for /tmp, else 0755
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
	WorkingDir string
	Labels     map[string]string
}

// Builder assembles images, caching their layers in a folder.
type Builder struct {
	cacheDir string
	mu       sync.Mutex
	used     map[string]bool // cache entries (path without extension) this builder used
}

// NewBuilder caches layers in cacheDir.
func NewBuilder(cacheDir string) *Builder {
	return &Builder{cacheDir: cacheDir, used: map[string]bool{}}
}

// smallFile is the size up to which a file's content (not its size and time) keys the cache:
// programs rebuilt on every run get a new time, not new content.
const smallFile = 16 << 20

// Prune removes the cached layers this builder did not use, so the cache holds one run's worth.
func (b *Builder) Prune() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	entries, err := os.ReadDir(b.cacheDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".tmp"), ".tar"), ".json")
		if !b.used[filepath.Join(b.cacheDir, base)] {
			if err := os.Remove(filepath.Join(b.cacheDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Build assembles spec's image (linux/amd64).
func (b *Builder) Build(spec Spec) (v1.Image, error) {
	entries, err := collect(spec)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Name, err)
	}
	layer, err := b.layer(entries)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Name, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("image %s: append layer: %w", spec.Name, err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config = v1.Config{Entrypoint: spec.Entrypoint, Cmd: spec.Cmd, User: spec.User, WorkingDir: spec.WorkingDir,
		Labels: spec.Labels, Env: withPath(spec.Env)}
	return mutate.ConfigFile(img, cfg)
}

// entry is one tar entry of a layer.
type entry struct {
	name string // without the leading slash
	src  string
	data []byte
	mode fs.FileMode
	dir  bool
}

func collect(spec Spec) ([]entry, error) {
	byName := map[string]entry{}
	add := func(e entry) {
		e.name = strings.TrimPrefix(path.Clean("/"+e.name), "/")
		// Parent folders first.
		for d := path.Dir(e.name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := byName[d]; !ok {
				byName[d] = entry{name: d, dir: true, mode: 0o755}
			}
		}
		byName[e.name] = e
	}
	for _, d := range spec.Dirs {
		mode := fs.FileMode(0o755)
		if d == "/tmp" {
			mode = 0o1777
		}
		add(entry{name: d, dir: true, mode: mode})
	}
	for _, f := range spec.Files {
		if f.Src == "" {
			mode := f.Mode
			if mode == 0 {
				mode = 0o644
			}
			add(entry{name: f.Dst, data: f.Data, mode: mode})
			continue
		}
		st, err := os.Stat(f.Src)
		if err != nil {
			return nil, fmt.Errorf("image file %s: %w", f.Src, err)
		}
		if st.IsDir() {
			err := filepath.WalkDir(f.Src, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(f.Src, p)
				info, err := os.Stat(p) // follow links: the image holds plain files
				if err != nil {
					return err
				}
				dst := path.Join(f.Dst, filepath.ToSlash(rel))
				if info.IsDir() {
					add(entry{name: dst, dir: true, mode: 0o755})
					return nil
				}
				add(entry{name: dst, src: p, mode: info.Mode().Perm()})
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("copy %s: %w", f.Src, err)
			}
			continue
		}
		mode := f.Mode
		if mode == 0 {
			mode = st.Mode().Perm()
		}
		add(entry{name: f.Dst, src: f.Src, mode: mode})
		if f.Libraries {
			libs, err := Libraries(f.Src)
			if err != nil {
				return nil, err
			}
			for _, l := range libs {
				add(entry{name: l, src: l, mode: 0o755})
			}
		}
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// Libraries lists the shared objects an executable loads, loader included, as absolute paths
// (nil for a static executable), from `ldd` on this machine.
func Libraries(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	text := string(out)
	if err != nil {
		if strings.Contains(text, "not a dynamic executable") || strings.Contains(text, "statically linked") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w: %s", bin, err, strings.TrimSpace(text))
	}
	var libs []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"): // the loader
			libs = append(libs, f[0])
		case len(f) >= 2 && f[1] == "=>" && f[2] == "not":
			return nil, fmt.Errorf("ldd %s: %s is not found", bin, f[0])
		}
	}
	return libs, nil
}

// layer writes the entries as a tar into the cache (once per distinct input) and returns it
// as an uncompressed layer.
func (b *Builder) layer(entries []entry) (v1.Layer, error) {
	key := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(key, "%s\x00%o\x00%v\x00", e.name, e.mode, e.dir)
		switch {
		case e.src != "":
			st, err := os.Stat(e.src)
			if err != nil {
				return nil, err
			}
			if st.Size() > smallFile {
				fmt.Fprintf(key, "%s\x00%d\x00%d\n", e.src, st.Size(), st.ModTime().UnixNano())
				break
			}
			content, err := os.ReadFile(e.src)
			if err != nil {
				return nil, err
			}
			key.Write(content)
			key.Write([]byte{'\n'})
		default:
			key.Write(e.data)
			key.Write([]byte{'\n'})
		}
	}
	if err := os.MkdirAll(b.cacheDir, 0o750); err != nil {
		return nil, err
	}
	base := filepath.Join(b.cacheDir, hex.EncodeToString(key.Sum(nil))[:32])
	b.mu.Lock()
	b.used[base] = true
	b.mu.Unlock()
	if l, err := readCached(base); err == nil {
		return l, nil
	}
	tmp := base + ".tar.tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := writeTar(io.MultiWriter(f, h), entries)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, err
	}
	d := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
	if err := os.Rename(tmp, base+".tar"); err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(map[string]any{"digest": d.String(), "size": n})
	if err := os.WriteFile(base+".json", meta, 0o600); err != nil {
		return nil, err
	}
	return &fileLayer{path: base + ".tar", digest: d, size: n}, nil
}

func readCached(base string) (v1.Layer, error) {
	b, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, err
	}
	var meta struct {
		Digest string
		Size   int64
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, err
	}
	st, err := os.Stat(base + ".tar")
	if err != nil || st.Size() != meta.Size {
		return nil, fmt.Errorf("cached layer %s is incomplete", base)
	}
	d, err := v1.NewHash(meta.Digest)
	if err != nil {
		return nil, err
	}
	return &fileLayer{path: base + ".tar", digest: d, size: meta.Size}, nil
}

// writeTar writes a reproducible tar (no timestamps, root-owned) and returns its size.
func writeTar(w io.Writer, entries []entry) (int64, error) {
	cw := &countWriter{w: w}
	tw := tar.NewWriter(cw)
	for _, e := range entries {
		if err := writeEntry(tw, e); err != nil {
			return 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}

func writeEntry(tw *tar.Writer, e entry) error {
	hdr := &tar.Header{Name: e.name, Mode: int64(e.mode.Perm()), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if e.mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	if e.dir {
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.name+"/"
		return tw.WriteHeader(hdr)
	}
	hdr.Typeflag = tar.TypeReg
	if e.src == "" {
		hdr.Size = int64(len(e.data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(e.data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Size = st.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("write %s: %w", e.name, err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is an uncompressed layer backed by a tar file (digest = diff id).
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return types.OCIUncompressedLayer, nil }

// Passwd is an /etc/passwd and /etc/group pair naming the given users (name -> uid, gid = uid),
// for programs that look their user up (PostgreSQL's initdb does).
func Passwd(users map[string]int) []File {
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	sort.Strings(names)
	var pw, gr strings.Builder
	pw.WriteString("root:x:0:0:root:/root:/sbin/nologin\n")
	gr.WriteString("root:x:0:\n")
	for _, n := range names {
		fmt.Fprintf(&pw, "%s:x:%d:%d:%s:/nonexistent:/sbin/nologin\n", n, users[n], users[n], n)
		fmt.Fprintf(&gr, "%s:x:%d:\n", n, users[n])
	}
	return []File{{Dst: "/etc/passwd", Data: []byte(pw.String())}, {Dst: "/etc/group", Data: []byte(gr.String())}}
}

// withPath adds a default PATH unless env sets one.
func withPath(env []string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return env
		}
	}
	return append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, env...)
}
