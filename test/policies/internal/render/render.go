// Package render builds Kustomize directories with test/manifests' renderer (krusty, the engine
// `kubectl kustomize` embeds) into generic objects, and writes objects as multi-document YAML.
package render

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

// Object is one rendered Kubernetes object.
type Object map[string]any

// Kind returns the object's kind.
func (o Object) Kind() string { s, _ := o["kind"].(string); return s }

// Name returns metadata.name.
func (o Object) Name() string { return o.meta("name") }

// Namespace returns metadata.namespace.
func (o Object) Namespace() string { return o.meta("namespace") }

func (o Object) meta(key string) string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m[key].(string)
	return s
}

// Build renders the kustomization in dir.
func Build(dir string) ([]Object, error) {
	objs, err := manifest.Render(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, Object(o.Fields))
	}
	return out, nil
}

// WriteYAML writes objects as one multi-document YAML file.
func WriteYAML(path string, objects []Object) error {
	var buf []byte
	for _, o := range objects {
		b, err := yaml.Marshal(map[string]any(o))
		if err != nil {
			return fmt.Errorf("marshal %s/%s: %w", o.Kind(), o.Name(), err)
		}
		buf = append(buf, "---\n"...)
		buf = append(buf, b...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
