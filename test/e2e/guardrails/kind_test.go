package guardrails

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// The tests below need pods that run: kind, or an existing cluster. On the local control plane
// (no kubelet) they are skipped, and say so.

func needsPods(t *testing.T) {
	t.Helper()
	if !s.env.Cluster.RunsPods() {
		reason := fmt.Sprintf("needs running pods: the %s cluster has no kubelet (it makes admission decisions only); "+
			"run `make test-e2e E2E_CLUSTER=kind` where Docker answers", s.env.Cluster.Mode())
		s.skipped = append(s.skipped, t.Name()+": "+reason)
		t.Skip(reason)
	}
	deployed(t)
}

// TestKindRolloutReady: the app and its database become ready (which also proves the app may
// reach the database through the NetworkPolicies: /readyz pings it).
func TestKindRolloutReady(t *testing.T) {
	needsPods(t)
	waitReady(t)
}

func waitReady(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	apps := s.env.Admin.Typed.AppsV1()
	err := kube.Poll(ctx, "template-api and postgres ready", 2*time.Second, func(ctx context.Context) error {
		d, err := apps.Deployments(scenario.Namespace).Get(ctx, "template-api", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Spec.Replicas == nil || d.Status.AvailableReplicas < *d.Spec.Replicas {
			return fmt.Errorf("deployment: %d of %d available", d.Status.AvailableReplicas, ptrValue(d.Spec.Replicas))
		}
		sts, err := apps.StatefulSets(scenario.Namespace).Get(ctx, "postgres", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if sts.Status.ReadyReplicas < ptrValue(sts.Spec.Replicas) {
			return fmt.Errorf("postgres: %d of %d ready", sts.Status.ReadyReplicas, ptrValue(sts.Spec.Replicas))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKindHealthzAndTraceID: /healthz answers through a port-forward, and the pod's log line
// for that request carries the trace id sent in traceparent.
func TestKindHealthzAndTraceID(t *testing.T) {
	needsPods(t)
	waitReady(t)
	ctx := context.Background()
	pods, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=template-api", FieldSelector: "status.phase=Running"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("no running app pod (err %v)", err)
	}
	pod := pods.Items[0].Name
	port, stop, err := portForward(ctx, s.env.Admin, scenario.Namespace, pod, 8080)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	traceID := randomHex(16)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), nil)
	req.Header.Set("traceparent", "00-"+traceID+"-"+randomHex(8)+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /healthz through the port-forward: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz answered %s", resp.Status)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = kube.Poll(wctx, "the request's log line", time.Second, func(ctx context.Context) error {
		rc, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: "api"}).Stream(ctx)
		if err != nil {
			return err
		}
		defer rc.Close()
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			if strings.Contains(sc.Text(), traceID) && strings.Contains(sc.Text(), "/healthz") {
				t.Logf("log line: %s", sc.Text())
				return nil
			}
		}
		return fmt.Errorf("no log line with trace id %s", traceID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKindNetworkPolicies: a probe pod without the app's label cannot reach the database; the
// same probe labelled as the app can (so the blocked case is the policy, not a broken probe).
func TestKindNetworkPolicies(t *testing.T) {
	needsPods(t)
	waitReady(t)
	ctx := context.Background()
	image, err := s.env.ProbeImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := s.env.Admin.Typed.CoreV1().Services(scenario.Namespace).Get(ctx, "postgres", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the kind overlay's postgres Service: %v", err)
	}
	// By ClusterIP: the default deny also blocks DNS for the probe, which would fail it for
	// another reason than the database rule.
	target := svc.Spec.ClusterIP + ":5432"
	for _, tc := range []struct {
		name, label string
		wantConnect bool
	}{
		{"e2e-probe-other", "e2e-probe", false},
		{"e2e-probe-as-app", "template-api", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, logs := runProbe(t, image, tc.name, tc.label, target)
			if ok != tc.wantConnect {
				t.Fatalf("probe labelled %q connected=%v, want %v; its output: %s", tc.label, ok, tc.wantConnect, logs)
			}
		})
	}
}

// runProbe runs tcpprobe as a Job (Jobs need no probes) with the app's hardening and reports
// whether it connected.
func runProbe(t *testing.T, image, name, label, target string) (bool, string) {
	t.Helper()
	ctx := context.Background()
	jobs := s.env.Admin.Typed.BatchV1().Jobs(scenario.Namespace)
	no, yes := false, true
	uid := int64(65532)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: scenario.Namespace},
		Spec: batchv1.JobSpec{BackoffLimit: new(int32), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": label}},
			Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyNever,
				AutomountServiceAccountToken: &no,
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{
					Name: "probe", Image: image, Args: []string{target},
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
						RunAsNonRoot: &yes, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: mustQuantity("10m"), corev1.ResourceMemory: mustQuantity("16Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: mustQuantity("100m"), corev1.ResourceMemory: mustQuantity("32Mi")},
					},
				}},
			},
		}},
	}
	_ = jobs.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationForeground)})
	_ = wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := jobs.Get(ctx, name, metav1.GetOptions{})
		return err != nil, nil
	})
	if _, err := jobs.Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the probe Job was refused: %s", kube.Classify(err))
	}
	var done *batchv1.Job
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		j, err := jobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		done = j
		return j.Status.Succeeded > 0 || j.Status.Failed > 0, nil
	})
	if err != nil {
		t.Fatalf("probe %s did not finish: %v", name, err)
	}
	return done.Status.Succeeded > 0, jobLogs(ctx, name)
}

func jobLogs(ctx context.Context, job string) string {
	pods, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil || len(pods.Items) == 0 {
		return "(no pod)"
	}
	rc, err := s.env.Admin.Typed.CoreV1().Pods(scenario.Namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return err.Error()
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 4096))
	return strings.TrimSpace(string(b))
}

// portForward forwards a free local port to the pod's port, as `kubectl port-forward` does.
func portForward(ctx context.Context, c *kube.Client, ns, pod string, port int) (int, func(), error) {
	transport, upgrader, err := spdy.RoundTripperFor(c.Config)
	if err != nil {
		return 0, nil, err
	}
	url := c.Typed.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.New(dialer, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return 0, nil, err
	}
	errc := make(chan error, 1)
	go func() { errc <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errc:
		return 0, nil, fmt.Errorf("port-forward to %s: %w", pod, err)
	case <-ctx.Done():
		close(stop)
		return 0, nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		return 0, nil, fmt.Errorf("port-forward ports: %v", err)
	}
	return int(ports[0].Local), func() { close(stop) }, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
