package guardrails

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// appliedBy is the label of the objects the deploy workflow applies as the CI deployer.
const appliedBy = "platform-template.io/applied-by=ci-deployer"

// TestDeployKeepsTheScaledReplicaCount: the HorizontalPodAutoscaler owns the replica count. The
// deploy workflow re-applies the overlay on every release with client-side `kubectl apply
// --selector platform-template.io/applied-by=ci-deployer`, as the CI deployer; a Deployment the
// HPA scaled out must keep its count. The counter-proof: the same manifest with `replicas: 2`
// (as the base had it) is reset to 2 by the same apply.
func TestDeployKeepsTheScaledReplicaCount(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is needed to apply the overlay as the deploy workflow does: %v", err)
	}
	dir := t.TempDir()
	var ciObjects []*unstructured.Unstructured
	for _, o := range s.env.Rendered {
		if o.GetLabels()["platform-template.io/applied-by"] == "ci-deployer" {
			ciObjects = append(ciObjects, o)
		}
	}
	if len(ciObjects) < 4 {
		t.Fatalf("only %d rendered objects are labelled %s", len(ciObjects), appliedBy)
	}
	release := writeYAML(t, filepath.Join(dir, "release.yaml"), ciObjects)
	apply := func(as, file string) string {
		t.Helper()
		args := []string{"--kubeconfig", s.env.Cluster.Kubeconfig(), "apply", "-f", file, "--selector", appliedBy}
		if as != "" {
			args = append(args, "--as", as)
		}
		var out, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl apply (as %q): %v\n%s%s", as, err, out.String(), stderr.String())
		}
		return strings.TrimSpace(out.String())
	}
	deployment := scenario.Namespace + "/template-api"
	original := replicas(ctx, t, "template-api")
	t.Cleanup(func() { scale(context.Background(), t, "template-api", original) })

	// The release before (its last-applied configuration on every object), then the HPA
	// scaling out, then the next release by the CI deployer.
	apply("", release)
	scale(ctx, t, "template-api", 5)
	t.Logf("CI deployer re-applies the release:\n%s", apply(scenario.CIDeployer, release))
	if got := replicas(ctx, t, "template-api"); got != 5 {
		t.Fatalf("Deployment %s has %d replicas after the release, want the 5 the autoscaler set", deployment, got)
	}
	t.Logf("Deployment %s kept the 5 replicas the autoscaler set", deployment)

	// The counter-proof, on a copy under another name: a manifest that states replicas.
	var withCount *unstructured.Unstructured
	for _, o := range ciObjects {
		if o.GetKind() == "Deployment" {
			withCount = o.DeepCopy()
		}
	}
	withCount.SetName("rt-replicas-in-manifest")
	if err := unstructured.SetNestedField(withCount.Object, int64(2), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.env.Admin.Delete(context.Background(), withCount) })
	old := writeYAML(t, filepath.Join(dir, "old.yaml"), []*unstructured.Unstructured{withCount})
	apply("", old)
	scale(ctx, t, withCount.GetName(), 5)
	apply("", old)
	if got := replicas(ctx, t, withCount.GetName()); got != 2 {
		t.Fatalf("the counter-proof did not reset: %d replicas, want 2 (the apply semantics changed?)", got)
	}
	t.Logf("counter-proof: with replicas: 2 in the manifest, the same apply reset 5 replicas to 2")
}

func writeYAML(t *testing.T, path string, objs []*unstructured.Unstructured) string {
	t.Helper()
	var docs []string
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func replicas(ctx context.Context, t *testing.T, name string) int32 {
	t.Helper()
	sc, err := s.env.Admin.Typed.AppsV1().Deployments(scenario.Namespace).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read the scale of %s: %v", name, err)
	}
	return sc.Spec.Replicas
}

// scale sets the replica count through the scale subresource, as the HPA does.
func scale(ctx context.Context, t *testing.T, name string, n int32) {
	t.Helper()
	_, err := s.env.Admin.Typed.AppsV1().Deployments(scenario.Namespace).UpdateScale(ctx, name, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: scenario.Namespace},
		Spec:       autoscalingv1.ScaleSpec{Replicas: n},
	}, metav1.UpdateOptions{FieldManager: "horizontal-pod-autoscaler"})
	if err != nil {
		t.Fatalf("scale %s to %d: %v", name, n, err)
	}
}
