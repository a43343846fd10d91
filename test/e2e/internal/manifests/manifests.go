// Package manifests renders the repository's Kustomize trees for the end-to-end tests: the kind
// overlay of the service with the run's signed image pinned by digest, and the local policy
// overlay with the run's cosign public key.
package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/manifests/manifest"
)

// Paths in the repository.
const (
	KindOverlay     = "k8s/overlays/kind"
	PolicyOverlay   = "policies/kyverno/overlays/local"
	CosignComponent = "policies/kyverno/components/cosign-key"
	// OverlayImage is the app image as the kind overlay names it (the demo registry).
	OverlayImage = "localhost:5001/template-api"
)

// Render builds a kustomization folder into objects (test/manifests' renderer, which may load
// files outside the folder: the kustomizations the tests generate point into the repository).
func Render(dir string) ([]*unstructured.Unstructured, error) {
	y, err := manifest.RenderYAMLUnrestricted(dir)
	if err != nil {
		return nil, err
	}
	return kube.Decode(y)
}

// KindOverlayWithImage renders k8s/overlays/kind with the app image replaced by image
// (repo@sha256:...), through a kustomization written to work/ (kustomize's own images field,
// as `kustomize edit set image` would do it). A non-empty postgres replaces the database's
// image (repo:tag@sha256:..., kept whole: the overlay's PolicyException wants both).
func KindOverlayWithImage(root, work, image, postgres string) ([]*unstructured.Unstructured, error) {
	repo, digest, ok := strings.Cut(image, "@")
	if !ok {
		return nil, fmt.Errorf("image %q is not pinned by digest", image)
	}
	patch := ""
	if postgres != "" {
		if !strings.Contains(postgres, "@sha256:") {
			return nil, fmt.Errorf("postgres image %q is not pinned by digest", postgres)
		}
		patch = fmt.Sprintf(`patches:
  - target: {kind: StatefulSet, name: postgres}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/image
        value: %s
`, postgres)
	}
	dir := filepath.Join(work, "app-overlay")
	k := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
images:
  - name: %s
    newName: %s
    digest: %s
%s`, rel(dir, root, KindOverlay), OverlayImage, repo, digest, patch)
	return renderGenerated(dir, map[string]string{"kustomization.yaml": k})
}

// LocalPolicies renders policies/kyverno/overlays/local with the cosign-key component and the
// run's public key (the way policies/kyverno/components/cosign-key documents it).
func LocalPolicies(root, work string, publicKeyPEM []byte) ([]*unstructured.Unstructured, error) {
	dir := filepath.Join(work, "policy-overlay")
	k := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
  - cosign-public-key.yaml
components:
  - %s
`, rel(dir, root, PolicyOverlay), rel(dir, root, CosignComponent))
	var key strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(publicKeyPEM)), "\n") {
		key.WriteString("    " + line + "\n")
	}
	cm := `apiVersion: v1
kind: ConfigMap
metadata:
  name: cosign-public-key
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  cosign.pub: |
` + key.String()
	return renderGenerated(dir, map[string]string{
		"kustomization.yaml":     k,
		"cosign-public-key.yaml": cm})
}

// rel is root/target relative to dir (kustomize wants relative paths to other kustomizations).
func rel(dir, root, target string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	r, err := filepath.Rel(abs, filepath.Join(root, target))
	if err != nil {
		return filepath.Join(root, target)
	}
	return r
}

func renderGenerated(dir string, files map[string]string) ([]*unstructured.Unstructured, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	return Render(dir)
}
