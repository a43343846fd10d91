package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Named is an image and the reference it is imported under.
type Named struct {
	Name  string
	Image v1.Image
	// Digest is the image's manifest digest (sha256:...), when the caller needs it.
	Digest string
}

// Ref is the reference by tag and digest (name:tag@sha256:...).
func (n Named) Ref() string {
	if n.Digest == "" {
		return n.Name
	}
	return n.Name + "@" + n.Digest
}

// WriteOCIArchive streams images as one OCI image layout in a tar (the format
// `ctr images import` and `kind load image-archive` read). The manifests are written byte for
// byte, so an image keeps its digest; each is named by the io.containerd.image.name annotation.
// Blobs shared by several images are written once.
func WriteOCIArchive(w io.Writer, imgs []Named) error {
	tw := tar.NewWriter(w)
	written := map[v1.Hash]bool{}
	put := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg,
			ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: wrote %d bytes, want %d", name, n, size)
		}
		return err
	}
	blob := func(h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
		if written[h] {
			return nil
		}
		written[h] = true
		rc, err := open()
		if err != nil {
			return err
		}
		defer func() { _ = rc.Close() }()
		return put("blobs/"+h.Algorithm+"/"+h.Hex, size, rc)
	}
	bytesBlob := func(h v1.Hash, b []byte) error {
		return blob(h, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	var index v1.IndexManifest
	index.SchemaVersion = 2
	index.MediaType = types.OCIImageIndex
	for _, n := range imgs {
		layers, err := n.Image.Layers()
		if err != nil {
			return fmt.Errorf("%s: layers: %w", n.Name, err)
		}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			size, err := l.Size()
			if err != nil {
				return err
			}
			if err := blob(d, size, l.Compressed); err != nil {
				return fmt.Errorf("%s: layer %s: %w", n.Name, d, err)
			}
		}
		cfg, err := n.Image.RawConfigFile()
		if err != nil {
			return err
		}
		cfgName, err := n.Image.ConfigName()
		if err != nil {
			return err
		}
		if err := bytesBlob(cfgName, cfg); err != nil {
			return err
		}
		man, err := n.Image.RawManifest()
		if err != nil {
			return err
		}
		d, err := n.Image.Digest()
		if err != nil {
			return err
		}
		mt, err := n.Image.MediaType()
		if err != nil {
			return err
		}
		if err := bytesBlob(d, man); err != nil {
			return err
		}
		names := []string{n.Name}
		if n.Digest != "" {
			// Also by digest (repository@sha256:...): the name a Pod's name:tag@digest reference
			// resolves to in containerd's CRI.
			names = append(names, repository(n.Name)+"@"+d.String())
		}
		for _, name := range names {
			index.Manifests = append(index.Manifests, v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(man)),
				Platform: &v1.Platform{OS: "linux", Architecture: "amd64"},
				Annotations: map[string]string{
					"io.containerd.image.name":          name,
					"org.opencontainers.image.ref.name": refName(name),
				}})
		}
	}
	idx, err := json.Marshal(index)
	if err != nil {
		return err
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := put("oci-layout", int64(len(layout)), bytes.NewReader(layout)); err != nil {
		return err
	}
	if err := put("index.json", int64(len(idx)), bytes.NewReader(idx)); err != nil {
		return err
	}
	return tw.Close()
}

// repository is a reference without its tag or digest.
func repository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// refName is the tag of a reference (the OCI ref.name annotation), or its digest.
func refName(ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		switch ref[i] {
		case '@':
			return ref[i+1:]
		case ':':
			return ref[i+1:]
		case '/':
			return "latest"
		}
	}
	return "latest"
}
