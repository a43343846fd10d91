// Package scenario is the guardrail matrix: the good deployment and the bad ones, each with the
// component that must refuse it and why. The end-to-end tests and `make demo` run the same
// table, so the scoreboard the demo prints is exactly what the tests assert.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Namespace is the app's namespace (fixed by the manifests).
const Namespace = "template-api"

// CIDeployer is the user the CI deploy job acts as (k8s/base/rbac-ci-deployer.yaml).
const CIDeployer = "system:serviceaccount:" + Namespace + ":ci-deployer"

// Images are the references the matrix uses, all in the run's registry.
type Images struct {
	Signed    string // the service image by digest, signed with the run's key, with its SBOM and provenance
	Unsigned  string // the same kind of image, by digest, never signed
	WrongKey  string // by digest, signed (and attested) with a key the policy does not trust
	Latest    string // the signed image by its :latest tag
	Untrusted string // the signed image, reached through a registry address the policy does not list

	// Signed with the run's key, but the release's evidence missing or wrong.
	NoSBOM             string // signature and provenance, no SBOM
	OtherBuilder       string // provenance from a builder the platform does not trust
	OtherRepository    string // provenance naming another repository as the source
	AttestedByOtherKey string // SBOM and provenance attested with another key
}

// Base is what every case is built from: the good Deployment of the rendered overlay.
type Base struct {
	Deployment *unstructured.Unstructured
	Images     Images
	// OtherNamespace exists and is not the CI deployer's.
	OtherNamespace string
}

// Verb is what a case asks the API server to do.
type Verb string

// The verbs of the matrix.
const (
	Create Verb = "create"
	Get    Verb = "get"
	List   Verb = "list"
)

// Want is the expected refusal.
type Want struct {
	Component kube.Component
	Policy    string // the Kyverno policy that must be named (Kyverno only)
	Reason    string // a piece of text the refusal's reason must contain (case-insensitive)
}

// Case is one bad request of the matrix.
type Case struct {
	Name   string // short id, used as the subtest and object name
	What   string // what it tries, in words
	As     string // user to impersonate ("" = cluster admin)
	Verb   Verb
	Object func(Base) *unstructured.Unstructured
	Want   Want
}

// Result is what happened when a case ran.
type Result struct {
	Case     Case
	Refusal  kube.Refusal
	Err      error // the raw error (nil = admitted)
	Duration time.Duration
}

// Check compares the result with the case's expectation.
func (r Result) Check() error {
	got, want := r.Refusal, r.Case.Want
	if got.Component == kube.None {
		return fmt.Errorf("%s was ADMITTED; want it refused by %s", r.Case.What, wantString(want))
	}
	if got.Component == kube.ServiceAccountLookup {
		return fmt.Errorf("refused for a missing ServiceAccount, which is the harness's fault, not a guardrail: %s", got.Message)
	}
	if got.Component != want.Component {
		return fmt.Errorf("refused by %s, want %s; message: %s", got.Component, wantString(want), got.Message)
	}
	if want.Policy != "" {
		if names := got.PolicyNames(); !slices.Equal(names, []string{want.Policy}) {
			return fmt.Errorf("refused by Kyverno policies %v, want exactly [%s]; message: %s", names, want.Policy, got.Message)
		}
	}
	if !strings.Contains(strings.ToLower(got.Reason), strings.ToLower(want.Reason)) {
		return fmt.Errorf("reason %q does not contain %q", got.Reason, want.Reason)
	}
	return nil
}

func wantString(w Want) string {
	if w.Policy != "" {
		return fmt.Sprintf("%s policy %s (%q)", w.Component, w.Policy, w.Reason)
	}
	return fmt.Sprintf("%s (%q)", w.Component, w.Reason)
}

// Clients hands out the admin client and impersonating ones.
type Clients interface {
	As(user string) (*kube.Client, error)
}

// Run performs one case. An object that gets admitted is deleted again (the case then fails).
func Run(ctx context.Context, clients Clients, base Base, c Case) Result {
	client, err := clients.As(c.As)
	if err != nil {
		return Result{Case: c, Err: err, Refusal: kube.Refusal{Component: kube.Other, Message: err.Error()}}
	}
	obj := c.Object(base)
	start := time.Now()
	switch c.Verb {
	case Get:
		_, err = client.Get(ctx, obj)
	case List:
		var r interface {
			List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
		}
		if r, err = client.Resource(obj); err == nil {
			_, err = r.List(ctx, metav1.ListOptions{})
		}
	default:
		_, err = client.Create(ctx, obj)
		if err == nil {
			if admin, aerr := clients.As(""); aerr == nil {
				_ = admin.Delete(context.Background(), obj)
			}
		}
	}
	d := time.Since(start)
	var status interface{ Status() metav1.Status }
	if err != nil && !errors.As(err, &status) {
		// Not an answer of the API server at all (connection refused, timeout): keep it whole.
		return Result{Case: c, Err: err, Duration: d, Refusal: kube.Refusal{Component: kube.Other, Message: err.Error(), Reason: err.Error()}}
	}
	return Result{Case: c, Err: err, Duration: d, Refusal: kube.Classify(err)}
}
