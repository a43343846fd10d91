package harness

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// awaitQuota waits until the API server can count against a ResourceQuota just applied: until
// then it refuses every object the quota counts ("status unknown for quota"), which is no
// guardrail. Where a controller-manager runs, its quota controller records the usage within a
// moment; on the local control plane nothing does, so this stands in for it and records zero
// usage, true of the namespace the quota was just applied to (it is applied before anything it
// counts). From there the API server counts each admitted object itself.
func (e *Env) awaitQuota(ctx context.Context, applied *unstructured.Unstructured) error {
	r := e.Admin.Dynamic.Resource(kube.GVR("", "v1", "resourcequotas")).Namespace(applied.GetNamespace())
	counted := func(q *unstructured.Unstructured) bool {
		hard, _, _ := unstructured.NestedMap(q.Object, "spec", "hard")
		used, _, _ := unstructured.NestedMap(q.Object, "status", "used")
		for k := range hard {
			if _, ok := used[k]; !ok {
				return false
			}
		}
		return true
	}
	if e.Cluster.RunsPods() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return kube.Poll(wctx, "quota "+applied.GetName()+" counted by the quota controller", 200*time.Millisecond, func(ctx context.Context) error {
			q, err := r.Get(ctx, applied.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !counted(q) {
				return fmt.Errorf("status.used does not cover spec.hard yet")
			}
			return nil
		})
	}
	q, err := r.Get(ctx, applied.GetName(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read quota %s: %w", applied.GetName(), err)
	}
	if counted(q) {
		return nil
	}
	hard, _, _ := unstructured.NestedMap(q.Object, "spec", "hard")
	zero := map[string]any{}
	for k := range hard {
		zero[k] = "0"
	}
	if err := unstructured.SetNestedMap(q.Object, map[string]any{"hard": hard, "used": zero}, "status"); err != nil {
		return err
	}
	if _, err := r.UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("record the usage of quota %s: %w", q.GetName(), err)
	}
	return nil
}
