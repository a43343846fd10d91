// Package manifest renders Kustomize directories with krusty (the engine behind
// `kubectl kustomize`) and holds the rendered objects in a form the invariants can inspect.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one rendered Kubernetes object.
type Object struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Raw is the object as JSON, for strict decoding into its typed Go struct.
	Raw []byte
	// Fields is the object as generic maps, for kinds without a typed struct here (CRDs).
	Fields map[string]any
}

// ID names the object in findings: kind/namespace/name.
func (o Object) ID() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Group is the API group of the object ("" for the core group).
func (o Object) Group() string {
	if i := strings.Index(o.APIVersion, "/"); i >= 0 {
		return o.APIVersion[:i]
	}
	return ""
}

// Decode decodes the object strictly into out: an unknown or misspelt field is an error.
func (o Object) Decode(out any) error {
	dec := json.NewDecoder(bytes.NewReader(o.Raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decode %s: %w", o.ID(), err)
	}
	return nil
}

// RenderYAML renders the kustomization in dir (on disk) to a multi-document YAML stream. As with
// `kubectl kustomize`, files outside dir's tree are loaded only as other kustomizations.
func RenderYAML(dir string) ([]byte, error) {
	return renderYAML(dir, types.LoadRestrictionsRootOnly)
}

// RenderYAMLUnrestricted renders a kustomization that may load plain files from anywhere: for
// kustomizations that tests generate outside the repository around its folders.
func RenderYAMLUnrestricted(dir string) ([]byte, error) {
	return renderYAML(dir, types.LoadRestrictionsNone)
}

func renderYAML(dir string, restrictions types.LoadRestrictions) ([]byte, error) {
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = restrictions
	resMap, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("serialise %s: %w", dir, err)
	}
	return out, nil
}

// Render renders the kustomization in dir and parses the result into objects.
func Render(dir string) ([]Object, error) {
	out, err := RenderYAML(dir)
	if err != nil {
		return nil, err
	}
	objs, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("parse rendered %s: %w", dir, err)
	}
	return objs, nil
}

// Parse splits a multi-document YAML stream into objects. Empty documents are skipped; a
// document without apiVersion, kind or metadata.name is an error.
func Parse(stream []byte) ([]Object, error) {
	var objs []Object
	for i, doc := range splitDocuments(stream) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		raw, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		obj := Object{Raw: raw, Fields: fields}
		obj.APIVersion, _ = fields["apiVersion"].(string)
		obj.Kind, _ = fields["kind"].(string)
		meta, _ := fields["metadata"].(map[string]any)
		obj.Name, _ = meta["name"].(string)
		obj.Namespace, _ = meta["namespace"].(string)
		if obj.APIVersion == "" || obj.Kind == "" || obj.Name == "" {
			return nil, fmt.Errorf("document %d: apiVersion, kind and metadata.name are required", i)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// splitDocuments splits on lines that are exactly "---".
func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	r := bytes.NewBuffer(stream)
	for {
		line, err := r.ReadBytes('\n')
		if bytes.Equal(bytes.TrimRight(line, " \t\r\n"), []byte("---")) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
		} else {
			cur.Write(line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return append(docs, cur.Bytes())
}

// Lookup returns the value at a path of map keys in Fields, and whether it exists.
func (o Object) Lookup(path ...string) (any, bool) {
	var cur any = o.Fields
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// String returns the string at a path of map keys in Fields ("" when absent).
func (o Object) String(path ...string) string {
	v, _ := o.Lookup(path...)
	s, _ := v.(string)
	return s
}
