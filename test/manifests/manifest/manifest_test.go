package manifest_test

import (
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		wantIDs []string
		wantErr string
	}{
		{name: "documents and empty ones", in: "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: a\n",
			wantIDs: []string{"Namespace/a", "Deployment/a/d"}},
		{name: "a --- inside a string is no separator", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: \"x --- y\"\n",
			wantIDs: []string{"ConfigMap/c"}},
		{name: "missing kind", in: "apiVersion: v1\nmetadata:\n  name: x\n", wantErr: "apiVersion, kind and metadata.name are required"},
		{name: "not YAML", in: "apiVersion: [\n", wantErr: "document 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := manifest.Parse([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range objs {
				ids = append(ids, o.ID())
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Fatalf("ids %v, want %v", ids, tc.wantIDs)
			}
		})
	}
}

func TestDecodeIsStrict(t *testing.T) {
	objs, err := manifest.Parse([]byte("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: s\nautomountServiceAccountTokens: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	var sa struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Automount  *bool          `json:"automountServiceAccountToken"`
	}
	if err := objs[0].Decode(&sa); err == nil || !strings.Contains(err.Error(), "automountServiceAccountTokens") {
		t.Fatalf("decode error %v, want the misspelt field named", err)
	}
}

func TestRenderReportsABrokenKustomization(t *testing.T) {
	dir := t.TempDir()
	if _, err := manifest.Render(dir); err == nil || !strings.Contains(err.Error(), "kustomize build") {
		t.Fatalf("error %v, want a kustomize build error for a directory without kustomization", err)
	}
}
