package harness

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// awaitQuota waits until the quota controller has counted a ResourceQuota just applied: until
// then the API server refuses every object the quota counts ("status unknown for quota"), which
// is no guardrail. Every cluster of the harness runs a controller-manager, which records the
// usage within a moment.
func (e *Env) awaitQuota(ctx context.Context, applied *unstructured.Unstructured) error {
	r := e.Admin.Dynamic.Resource(kube.GVR("", "v1", "resourcequotas")).Namespace(applied.GetNamespace())
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return kube.Poll(wctx, "quota "+applied.GetName()+" counted by the quota controller", 200*time.Millisecond, func(ctx context.Context) error {
		q, err := r.Get(ctx, applied.GetName(), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read quota %s: %w", applied.GetName(), err)
		}
		hard, _, _ := unstructured.NestedMap(q.Object, "spec", "hard")
		used, _, _ := unstructured.NestedMap(q.Object, "status", "used")
		for k := range hard {
			if _, ok := used[k]; !ok {
				return fmt.Errorf("status.used does not count %s yet", k)
			}
		}
		return nil
	})
}
