package cluster

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// applyAll applies objects server-side, in order.
func applyAll(ctx context.Context, c *kube.Client, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if _, err := c.Apply(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// WaitDeployments waits until each named Deployment has rolled out: its new replicas all
// updated and available (a Deployment scaled to zero counts as rolled out).
func WaitDeployments(ctx context.Context, c *kube.Client, namespace string, names []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, name := range names {
		err := kube.Poll(ctx, "Deployment "+namespace+"/"+name+" available", 250*time.Millisecond, func(ctx context.Context) error {
			d, err := c.Typed.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			want := int32(1)
			if d.Spec.Replicas != nil {
				want = *d.Spec.Replicas
			}
			s := d.Status
			if s.ObservedGeneration < d.Generation || s.UpdatedReplicas < want || s.AvailableReplicas < want || s.Replicas > want {
				return fmt.Errorf("%d of %d updated, %d available, %d in all", s.UpdatedReplicas, want, s.AvailableReplicas, s.Replicas)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
