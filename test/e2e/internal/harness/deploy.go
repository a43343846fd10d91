package harness

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// Deploy applies the app overlay once (server-side, object by object, the Namespace first) and
// returns what the API server said to each object. Before the workloads, it waits until
// Kyverno's webhooks answer for real: a dry-run Deployment with an unsigned image and one
// without limits must both be refused by the expected policies (a policy can be Ready a moment
// before the API server has loaded its webhook configuration).
func (e *Env) Deploy(ctx context.Context) ([]AppliedObject, error) {
	e.deployOnce.Do(func() { e.deployed, e.deployErr = e.deploy(ctx) })
	return e.deployed, e.deployErr
}

func (e *Env) deploy(ctx context.Context) ([]AppliedObject, error) {
	defer e.Timings.Track("good path: overlay applied")()
	var results []AppliedObject
	apply := func(o *unstructured.Unstructured) error {
		start := time.Now()
		_, err := e.Admin.Apply(ctx, o)
		results = append(results, AppliedObject{Description: kube.Describe(o), Err: err, Duration: time.Since(start)})
		return err
	}
	var rest []*unstructured.Unstructured
	for _, o := range e.Rendered {
		if o.GetKind() == "Namespace" {
			if err := apply(o); err != nil {
				return results, err
			}
			continue
		}
		rest = append(rest, o)
	}
	if err := e.WaitWebhooksLive(ctx); err != nil {
		return results, err
	}
	// The other namespace the CI deployer must not deploy into.
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": OtherNamespace, "labels": map[string]any{
			"pod-security.kubernetes.io/enforce": "restricted"}}}}
	if _, err := e.Admin.Apply(ctx, other); err != nil {
		return results, err
	}
	var firstErr error
	for _, o := range rest {
		err := apply(o)
		if err == nil && o.GetKind() == "ResourceQuota" {
			err = e.awaitQuota(ctx, o)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return results, firstErr
}

// OtherNamespace is a namespace that is not the CI deployer's.
const OtherNamespace = "e2e-other-team"

// WaitWebhooksLive waits until Kyverno's webhooks answer for real: canaries refused by the
// expected policies.
func (e *Env) WaitWebhooksLive(ctx context.Context) error {
	defer e.Timings.Track("kyverno webhooks answering")()
	base := e.Base()
	return e.AwaitCanaries(ctx, []Canary{
		{kube.Kyverno, "verify-image-signatures", scenario.Canary(base, "canary-unsigned", func(i scenario.Images) string { return i.Unsigned }, false)},
		{kube.Kyverno, "require-requests-limits", scenario.Canary(base, "canary-limits", nil, true)},
	})
}

// Canary is an object a policy must refuse once it is in force.
type Canary struct {
	Component kube.Component // who refuses it
	Policy    string         // by which policy
	Obj       *unstructured.Unstructured
}

// AwaitCanaries waits, up to a minute, until each canary's dry-run create is refused by its
// component and policy: policies and webhooks come into force asynchronously after they are
// created.
func (e *Env) AwaitCanaries(ctx context.Context, canaries []Canary) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, c := range canaries {
		if err := kube.Poll(wctx, fmt.Sprintf("%s refusing a canary by %s", c.Component, c.Policy), 250*time.Millisecond, func(ctx context.Context) error {
			r := kube.Classify(e.Admin.CreateDryRun(ctx, c.Obj))
			if r.Component == c.Component {
				if _, ok := r.Policies[c.Policy]; ok {
					return nil
				}
			}
			return fmt.Errorf("canary answered %s", r)
		}); err != nil {
			return err
		}
	}
	return nil
}

// Base is what the scenario matrix builds its cases from.
func (e *Env) Base() scenario.Base {
	var dep *unstructured.Unstructured
	for _, o := range e.Rendered {
		if o.GetKind() == "Deployment" && o.GetName() == "template-api" {
			dep = o
		}
	}
	return scenario.Base{Deployment: dep, Images: e.Images, OtherNamespace: OtherNamespace}
}
