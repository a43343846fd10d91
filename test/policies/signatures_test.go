package policies_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/policies/internal/render"
)

const signaturePolicy = "verify-image-signatures"

// TestImageSignatures runs the image policy, as the kind demo and the tests install it
// (overlays/local with components/cosign-key and a key made for the run), against images in a
// real OCI registry on loopback, signed and attested by cosign itself: an image with its full
// evidence is admitted, unsigned and wrongly signed images are refused, in containers, init
// containers and second containers of Pods, Deployments and CronJobs. Both through `kyverno
// apply` (asserting the messages) and through `kyverno test` (the CLI's own format, written for
// this run's registry address).
func TestImageSignatures(t *testing.T) {
	t.Parallel()
	e := newEvidenceRun(t)
	ctx := e.ctx
	// Every container of a workload runs a different image. (Kyverno v1.19.1's image data cache
	// deadlocks when an image seen twice in a request is followed by a new one: see README.md,
	// "Admission policies (Kyverno)", known issue.)
	refs := e.images([]imageSpec{
		{"template-api", released}, {"migrate", released}, {"log-shipper", released}, {"unsigned", evidence{}},
		{"other-signer", evidence{signer: &e.other, attest: []attestation{sbomCycloneDX.by(e.other), goodProvenance.by(e.other)}}},
	})
	app, migrate, sidecar, unsigned, wrongKey := refs[0], refs[1], refs[2], refs[3], refs[4]
	tagOnly := e.reg.Addr + "/template-api:1.0.0"

	cases := []sigCase{
		{podWith("signed", app, migrate, sidecar), "", ""},
		{deploymentWith("signed", app, migrate, sidecar), "", ""},
		{cronJobWith("signed", app, migrate, sidecar), "", ""},
		{podWith("unsigned", unsigned, migrate, sidecar), unsigned, "no signatures found"},
		{podWith("wrong-key", wrongKey, migrate, sidecar), wrongKey, "accepted signatures do not match threshold"},
		{deploymentWith("unsigned-init-container", app, unsigned, sidecar), unsigned, "no signatures found"},
		{deploymentWith("wrong-key-second-container", app, migrate, wrongKey), wrongKey, "accepted signatures do not match threshold"},
		{cronJobWith("unsigned-second-container", app, migrate, unsigned), unsigned, "no signatures found"},
		// Outside a cluster nothing rewrites a tag to its digest (in admission, mutateDigest
		// does, and the digest is verified): a reference without a digest is refused.
		{podWith("tag-only", tagOnly, migrate, sidecar), "image " + tagOnly + " does not have a digest", ""},
	}
	e.check(ctx, cases)
}

// sigCase is one workload and what the signature policy must decide about it.
type sigCase struct {
	obj   render.Object
	want  string // "" = admitted, else what the refusal message must name (the image)
	cause string // the cosign error the engine logs for that image
}

// engineLogged reports whether the engine's log has a line about image with cause in it.
func engineLogged(out, image, cause string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, cause) && strings.Contains(line, image) {
			return true
		}
	}
	return false
}

func cases2results(cases []sigCase) []map[string]any {
	var out []map[string]any
	for _, c := range cases {
		result := "pass"
		if c.want != "" {
			result = "fail"
		}
		out = append(out, map[string]any{
			"isImageValidatingPolicy": true, "policy": signaturePolicy,
			"kind": c.obj.Kind(), "resources": []string{c.obj.Name()}, "result": result,
		})
	}
	return out
}

func writeSignatureTest(t *testing.T, dir string, results []map[string]any) {
	t.Helper()
	writeDoc(t, filepath.Join(dir, "kyverno-test.yaml"), map[string]any{
		"apiVersion": "cli.kyverno.io/v1alpha1", "kind": "Test", "metadata": map[string]any{"name": "signatures"},
		"policies": []string{"policy.yaml"}, "resources": []string{"resources.yaml"}, "results": results,
	})
}

// renderKeyedPolicy builds the local policy set with the cosign-key component, the way the demo
// and the end-to-end tests do, from a kustomization in dir holding the run's public key, and
// writes the signature policy to dir/policy.yaml.
func renderKeyedPolicy(t *testing.T, dir, publicKey string) string {
	t.Helper()
	kdir := filepath.Join(dir, "kustomize")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string {
		r, err := filepath.Rel(kdir, filepath.Join(policiesDir(t), p))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	writeDoc(t, filepath.Join(kdir, "cosign-public-key.yaml"), map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cosign-public-key",
			"annotations": map[string]any{"config.kubernetes.io/local-config": "true"}},
		"data": map[string]any{"cosign.pub": publicKey},
	})
	writeDoc(t, filepath.Join(kdir, "kustomization.yaml"), map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
		"resources":  []string{rel("overlays/local"), "cosign-public-key.yaml"},
		"components": []string{rel("components/cosign-key")},
	})
	objects, err := render.Build(kdir)
	if err != nil {
		t.Fatal(err)
	}
	var policy []render.Object
	for _, o := range objects {
		if o.Kind() == "ConfigMap" {
			t.Errorf("the key's ConfigMap %s leaked into the rendered policy set", o.Name())
		}
		if o.Kind() == "ImageValidatingPolicy" && o.Name() == signaturePolicy {
			policy = append(policy, o)
		}
	}
	if len(policy) != 1 {
		t.Fatalf("rendered policy set has %d %s policies, want 1", len(policy), signaturePolicy)
	}
	spec := policy[0]["spec"].(map[string]any)
	attestor := spec["attestors"].([]any)[0].(map[string]any)["cosign"].(map[string]any)
	if got := attestor["key"].(map[string]any)["data"]; got != publicKey {
		t.Fatalf("rendered attestor key = %v, want the run's public key", got)
	}
	if _, keyless := attestor["keyless"]; keyless {
		t.Fatal("the cosign-key component left the keyless attestor in place")
	}
	path := filepath.Join(dir, "policy.yaml")
	mustWrite(t, path, policy)
	return path
}

func container(name, image string) map[string]any {
	return map[string]any{"name": name, "image": image}
}

func podSpec(app, init, second string) map[string]any {
	return map[string]any{
		"initContainers": []any{container("migrate", init)},
		"containers":     []any{container("api", app), container("log-shipper", second)},
	}
}

func podWith(name, app, init, second string) render.Object {
	return render.Object{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": "template-api"}, "spec": podSpec(app, init, second)}
}

func deploymentWith(name, app, init, second string) render.Object {
	labels := map[string]any{"app.kubernetes.io/name": name}
	return render.Object{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": "template-api"},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": podSpec(app, init, second)}}}
}

func cronJobWith(name, app, init, second string) render.Object {
	spec := podSpec(app, init, second)
	spec["restartPolicy"] = "OnFailure"
	return render.Object{"apiVersion": "batch/v1", "kind": "CronJob",
		"metadata": map[string]any{"name": name, "namespace": "template-api"},
		"spec": map[string]any{"schedule": "0 3 * * *",
			"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec}}}}}
}
