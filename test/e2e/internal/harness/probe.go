package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Probe is test/e2e/cmd/probe run as a Job, hardened like the app (Jobs need no probes), so
// that it passes every admission policy and sees the cluster from where a pod sees it.
type Probe struct {
	Namespace, Name string
	Labels          map[string]string
	Args            []string
	// ServiceAccount runs the probe as one of the namespace's declared ServiceAccounts (the
	// app's namespace names them); empty is the namespace's default.
	ServiceAccount string
}

func (e *Env) probeJob(ctx context.Context, p Probe) (*batchv1.Job, error) {
	image, err := e.ProbeImage(ctx)
	if err != nil {
		return nil, err
	}
	no, yes := false, true
	uid := int64(65532)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		Spec: batchv1.JobSpec{BackoffLimit: new(int32), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: p.Labels},
			Spec: corev1.PodSpec{
				RestartPolicy:                 corev1.RestartPolicyNever,
				ServiceAccountName:            p.ServiceAccount,
				AutomountServiceAccountToken:  &no,
				EnableServiceLinks:            &no,
				TerminationGracePeriodSeconds: new(int64),
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
				Containers: []corev1.Container{{
					Name: "probe", Image: image, Args: p.Args,
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
						RunAsNonRoot: &yes, Privileged: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
							corev1.ResourceEphemeralStorage: resource.MustParse("1Mi")},
						Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
							corev1.ResourceEphemeralStorage: resource.MustParse("16Mi")},
					},
				}},
			},
		}},
	}, nil
}

func (e *Env) createProbe(ctx context.Context, p Probe) error {
	e.DeleteProbe(ctx, p)
	j, err := e.probeJob(ctx, p)
	if err != nil {
		return err
	}
	if _, err := e.Admin.Typed.BatchV1().Jobs(p.Namespace).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("the probe Job %s/%s was refused: %s", p.Namespace, p.Name, kube.Classify(err))
	}
	return nil
}

// RunProbe runs p to completion and returns its output (the Job stays until DeleteProbe).
func (e *Env) RunProbe(ctx context.Context, p Probe) (string, error) {
	if err := e.createProbe(ctx, p); err != nil {
		return "", err
	}
	jobs := e.Admin.Typed.BatchV1().Jobs(p.Namespace)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err := kube.Poll(wctx, "probe "+p.Name+" finished", 500*time.Millisecond, func(ctx context.Context) error {
		got, err := jobs.Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Status.Succeeded > 0 || got.Status.Failed > 0 {
			return nil
		}
		return fmt.Errorf("running%s", e.probePodStates(ctx, p))
	})
	out := e.ProbeLogs(ctx, p)
	if err != nil {
		return out, fmt.Errorf("%w\n%s", err, out)
	}
	return out, nil
}

// StartProbe starts a long-running p and returns its pod's name and IP once it runs.
func (e *Env) StartProbe(ctx context.Context, p Probe) (pod, ip string, err error) {
	if err := e.createProbe(ctx, p); err != nil {
		return "", "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err = kube.Poll(wctx, "probe "+p.Name+" running", 500*time.Millisecond, func(ctx context.Context) error {
		pods, err := e.Admin.Typed.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + p.Name})
		if err != nil {
			return err
		}
		for _, pd := range pods.Items {
			if pd.Status.Phase == corev1.PodRunning && pd.Status.PodIP != "" {
				pod, ip = pd.Name, pd.Status.PodIP
				return nil
			}
		}
		return fmt.Errorf("not running%s", e.probePodStates(ctx, p))
	})
	return pod, ip, err
}

func (e *Env) probePodStates(ctx context.Context, p Probe) string {
	pods, err := e.Admin.Typed.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + p.Name})
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, pd := range pods.Items {
		fmt.Fprintf(&b, "; pod %s %s", pd.Name, pd.Status.Phase)
		for _, cs := range pd.Status.ContainerStatuses {
			if cs.State.Waiting != nil {
				fmt.Fprintf(&b, " waiting %s %s", cs.State.Waiting.Reason, cs.State.Waiting.Message)
			}
		}
	}
	return b.String()
}

// DeleteProbe deletes p's Job and pod and waits until both are gone.
func (e *Env) DeleteProbe(ctx context.Context, p Probe) {
	jobs := e.Admin.Typed.BatchV1().Jobs(p.Namespace)
	bg := metav1.DeletePropagationBackground
	zero := int64(0)
	if err := jobs.Delete(ctx, p.Name, metav1.DeleteOptions{PropagationPolicy: &bg, GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_ = kube.Poll(wctx, "job "+p.Name+" gone", 500*time.Millisecond, func(ctx context.Context) error {
		if _, err := jobs.Get(ctx, p.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there")
		}
		pods, err := e.Admin.Typed.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + p.Name})
		if err == nil && len(pods.Items) > 0 {
			for _, pd := range pods.Items {
				_ = e.Admin.Typed.CoreV1().Pods(p.Namespace).Delete(ctx, pd.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
			return fmt.Errorf("pods still there")
		}
		return nil
	})
}

// ProbeLogs is the output of p's pod so far.
func (e *Env) ProbeLogs(ctx context.Context, p Probe) string {
	pods, err := e.Admin.Typed.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + p.Name})
	if err != nil || len(pods.Items) == 0 {
		return "(no pod)"
	}
	return e.PodLogs(ctx, p.Namespace, pods.Items[0].Name, "")
}

// PodLogs is a container's log (the first 1 MiB).
func (e *Env) PodLogs(ctx context.Context, ns, pod, container string) string {
	rc, err := e.Admin.Typed.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).Stream(ctx)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = rc.Close() }()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
	return strings.TrimSpace(string(b))
}
