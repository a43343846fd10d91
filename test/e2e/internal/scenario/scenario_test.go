package scenario

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
)

// TestCheck shows the checker firing on each way a result can be wrong, so a matrix run cannot
// pass vacuously.
func TestCheck(t *testing.T) {
	want := Want{Component: kube.Kyverno, Policy: "require-probes", Reason: "liveness"}
	c := Case{Name: "no-liveness-probe", What: "no liveness probe", Want: want}
	tests := []struct {
		name    string
		refusal kube.Refusal
		wantErr string
	}{
		{"right component, policy and reason", kube.Refusal{Component: kube.Kyverno,
			Policies: map[string][]string{"require-probes": nil}, Reason: "probes: container api has no liveness probe"}, ""},
		{"admitted", kube.Refusal{}, "ADMITTED"},
		{"missing service account", kube.Refusal{Component: kube.ServiceAccountLookup}, "harness"},
		{"another component", kube.Refusal{Component: kube.PodSecurity, Reason: "liveness"}, "refused by PodSecurity"},
		{"another policy", kube.Refusal{Component: kube.Kyverno,
			Policies: map[string][]string{"require-requests-limits": nil}, Reason: "liveness"}, "policies [require-requests-limits]"},
		{"an extra policy", kube.Refusal{Component: kube.Kyverno,
			Policies: map[string][]string{"require-probes": nil, "restrict-image-tags": nil}, Reason: "liveness"}, "want exactly"},
		{"another reason", kube.Refusal{Component: kube.Kyverno,
			Policies: map[string][]string{"require-probes": nil}, Reason: "readiness probe missing"}, "does not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Result{Case: c, Refusal: tt.refusal}.Check()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestMatrixBuilds builds every case's object from the real rendered kind overlay.
func TestMatrixBuilds(t *testing.T) {
	b := renderedBase(t)
	b.Images = Images{Signed: "s", Unsigned: "u", WrongKey: "w", Latest: "l", Untrusted: "x"}
	b.OtherNamespace = "other"
	cases := Matrix()
	if len(cases) < 25 {
		t.Fatalf("%d cases, want at least 25", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		if c.Want.Component == kube.Kyverno && c.Want.Policy == "" || c.Want.Reason == "" {
			t.Errorf("%s: expectation %+v names no policy or reason", c.Name, c.Want)
		}
		o := c.Object(b)
		if o.GetKind() == "" || (o.GetName() == "" && c.Verb != List) {
			t.Errorf("%s: object without kind or name: %v", c.Name, o.Object)
		}
	}
	if err := errors.New("x"); kube.Classify(err).Component != kube.Other {
		t.Errorf("a plain error must classify as Other")
	}
}

// renderedBase is a Base whose Deployment is template-api's from the real rendered kind overlay
// (its image pinned by a digest); the test sets the images and namespaces its cases name.
func renderedBase(t *testing.T) Base {
	t.Helper()
	root := repo.MustRoot(t)
	objs, err := manifests.KindOverlayWithImage(root, t.TempDir(), "127.0.0.1:5001/template-api@sha256:"+strings.Repeat("a", 64), "")
	if err != nil {
		t.Fatal(err)
	}
	var b Base
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == "template-api" {
			b.Deployment = o
		}
	}
	if b.Deployment == nil {
		t.Fatalf("no Deployment template-api in %s", filepath.Join(root, manifests.KindOverlay))
	}
	return b
}
