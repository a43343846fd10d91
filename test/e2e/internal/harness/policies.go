package harness

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
)

// installPolicies applies the local policy overlay with the run's public key and waits until
// every policy reports Ready (webhook configured, policy cached). Kyverno validates policies
// with its own webhook, so an apply right after start can fail: it is retried, never ignored.
func (e *Env) installPolicies(ctx context.Context, publicKeyPEM []byte) error {
	objs, err := manifests.LocalPolicies(e.Config.Root, e.Config.RunDir, publicKeyPEM)
	if err != nil {
		return err
	}
	e.Admin.ResetMapper()
	// Generous: Kyverno runs in the cluster with a tenth of a core requested, and the machine
	// may be busy.
	actx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, o := range objs {
		if err := kube.Poll(actx, "apply "+kube.Describe(o), 500*time.Millisecond, func(ctx context.Context) error {
			_, err := e.Admin.Apply(ctx, o)
			return err
		}); err != nil {
			return err
		}
	}
	var names []string
	for _, o := range objs {
		if !isPolicy(o) {
			continue // exceptions, the RBAC the policies ship
		}
		names = append(names, o.GetKind()+"/"+o.GetName())
		status := "not read yet" // the policy's last status seen, for the error
		if err := kube.Poll(actx, kube.Describe(o)+" Ready", 200*time.Millisecond, func(ctx context.Context) error {
			live, err := e.Admin.Get(ctx, o)
			if err != nil {
				return err
			}
			if !policyReady(live) {
				status = policyConditions(live)
				return fmt.Errorf("not ready: %s", status)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("%w; its last status: %s", err, status)
		}
	}
	slices.Sort(names)
	e.Policies = names
	e.Config.Log("policies Ready: %d", len(names))
	return nil
}

// isPolicy: the kinds Kyverno reports readiness for (policies.kyverno.io, and kyverno.io's
// ClusterPolicy and Policy should a policy need the older API).
func isPolicy(o *unstructured.Unstructured) bool {
	switch o.GroupVersionKind().Group {
	case "policies.kyverno.io":
		return o.GetKind() != "PolicyException"
	case "kyverno.io":
		return o.GetKind() == "ClusterPolicy" || o.GetKind() == "Policy"
	}
	return false
}

func policyReady(o *unstructured.Unstructured) bool {
	if o.GroupVersionKind().Group == "kyverno.io" {
		s, _ := kube.Condition(o, "Ready")
		return s == "True"
	}
	ready, _, _ := unstructured.NestedBool(o.Object, "status", "conditionStatus", "ready")
	return ready
}

func policyConditions(o *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditionStatus", "conditions")
	s := ""
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["status"] != "True" {
			s += fmt.Sprintf("%v=%v (%v) ", m["type"], m["status"], m["message"])
		}
	}
	if s == "" {
		return "no status yet"
	}
	return s
}
