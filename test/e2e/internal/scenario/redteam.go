package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// The red-team table (redteam_cases.go) is separate from the guardrail matrix: the matrix shows
// the demo's 36 promises, one fault each; the red team tries what an attacker or a careless
// platform engineer would, class by class, as the cluster admin and as the CI deployer, and
// keeps the good controls that must stay admitted beside them.

// Op is what an attempt asks the API server to do.
type Op string

// The operations of the red-team table.
const (
	OpCreate Op = "create"
	// OpUpdate reads the live object named like Object's, applies Mutate, and writes it back.
	OpUpdate Op = "update"
	// OpDebug adds the ephemeral container of Object's spec to the live Pod of that name
	// (`kubectl debug`: the pods/ephemeralcontainers subresource).
	OpDebug Op = "debug"
	// OpGet and OpList read; OpLogs reads pods/log; OpExec opens pods/exec (RBAC decides
	// before anything runs).
	OpGet  Op = "get"
	OpList Op = "list"
	OpLogs Op = "logs"
	OpExec Op = "exec"
	// OpToken asks for a token of the ServiceAccount named like Object (serviceaccounts/token).
	OpToken Op = "token"
	// OpPatch sends Patch to the live object named like Object's (to its Subresource, when
	// set): a JSON patch, a merge patch, a strategic merge patch or a server-side apply, as
	// `kubectl patch`, `kubectl scale` and `kubectl apply --server-side` do.
	OpPatch Op = "patch"
	// OpDryRun creates Object with dryRun=All: nothing is stored, admission runs in full.
	OpDryRun Op = "dry-run"
	// OpFill creates copies of Object (named <name>-1, <name>-2, ...) until one is refused, at
	// most maxFill: the refusal is the outcome. Every copy is deleted afterwards.
	OpFill Op = "fill"
)

// maxFill bounds OpFill: more admitted copies than this is a missing ceiling.
const maxFill = 60

// Patch is the body of an OpPatch.
type Patch struct {
	Type types.PatchType
	Data string
}

// Attempt is one request of the red-team table: a bad one (Want set) or a good control (Want
// zero: must be admitted).
type Attempt struct {
	Name  string
	Class string // rbac, namespaces, debug, kinds, exfiltration, ceilings, groups (first round); podsecurity, writepaths, storage (second); services, scheduling (third); ingress, netpol (fourth); termination, csi, tokens, elsewhere (fifth); placement, resize (sixth)
	What  string
	As    string // "" = the cluster admin
	Op    Op
	// Setup objects are created by the admin before the attempt and deleted after it.
	Setup  []func(Base) *unstructured.Unstructured
	Object func(Base) *unstructured.Unstructured
	Mutate func(*unstructured.Unstructured)
	// Subresource is what OpUpdate and OpPatch write: "" (the object), "status", "scale",
	// "finalize", "resize".
	Subresource string
	Patch       func(Base) Patch
	Want        Want
}

// Control reports whether the attempt is a good control, which must be admitted.
func (a Attempt) Control() bool { return a.Want.Component == kube.None }

// Outcome is what happened.
type Outcome struct {
	Attempt  Attempt
	Refusal  kube.Refusal
	Err      error
	Duration time.Duration
}

// Check compares the outcome with the attempt's expectation.
func (o Outcome) Check() error {
	if o.Attempt.Control() {
		if o.Err != nil {
			return fmt.Errorf("control %q was refused, want admitted: %s", o.Attempt.What, o.Refusal)
		}
		return nil
	}
	return Result{Case: Case{What: o.Attempt.What, Want: o.Attempt.Want}, Refusal: o.Refusal, Err: o.Err}.Check()
}

// RunAttempt performs one attempt: setup as admin, the request as a.As, then cleanup. What an
// admitted bad request created or changed is deleted or put back.
func RunAttempt(ctx context.Context, clients Clients, b Base, a Attempt) Outcome {
	admin, err := clients.As("")
	if err != nil {
		return failed(a, err)
	}
	var created []*unstructured.Unstructured
	defer func() {
		for i := len(created) - 1; i >= 0; i-- {
			if created[i].GetKind() != "Namespace" { // namespaces never finish deleting without a controller
				_ = admin.Delete(context.Background(), created[i])
			}
		}
	}()
	for _, s := range a.Setup {
		obj := s(b)
		if _, err := admin.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return failed(a, fmt.Errorf("setup %s: %w", kube.Describe(obj), err))
		}
		created = append(created, obj)
	}
	client, err := clients.As(a.As)
	if err != nil {
		return failed(a, err)
	}
	obj := a.Object(b)
	start := time.Now()
	switch a.Op {
	case OpUpdate:
		err = update(ctx, admin, client, obj, a.Mutate, a.Subresource)
	case OpPatch:
		if a.Patch == nil {
			return failed(a, fmt.Errorf("patch of %s: no patch given", kube.Describe(obj)))
		}
		err = patch(ctx, admin, client, obj, a.Patch(b), a.Subresource)
	case OpDryRun:
		err = client.CreateDryRun(ctx, obj)
	case OpFill:
		usage := quotaUsage(ctx, admin, obj.GetNamespace())
		var copies []*unstructured.Unstructured
		copies, err = fill(ctx, client, obj)
		created = append(created, copies...)
		defer restoreQuotaUsage(admin, obj.GetNamespace(), usage)
	case OpDebug:
		err = debug(ctx, client, obj)
	case OpGet:
		_, err = client.Get(ctx, obj)
	case OpList:
		var r interface {
			List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
		}
		if r, err = client.Resource(obj); err == nil {
			_, err = r.List(ctx, metav1.ListOptions{})
		}
	case OpLogs:
		var r interface {
			Get(context.Context, string, metav1.GetOptions, ...string) (*unstructured.Unstructured, error)
		}
		if r, err = client.Resource(obj); err == nil {
			_, err = r.Get(ctx, obj.GetName(), metav1.GetOptions{}, "log")
		}
	case OpExec, OpToken:
		var r interface {
			Create(context.Context, *unstructured.Unstructured, metav1.CreateOptions, ...string) (*unstructured.Unstructured, error)
		}
		if r, err = client.Resource(obj); err == nil {
			body, sub := obj, "exec"
			if a.Op == OpToken {
				body, sub = tokenRequest(obj.GetNamespace(), obj.GetName()), "token"
			}
			_, err = r.Create(ctx, body, metav1.CreateOptions{}, sub)
		}
	default:
		_, err = client.Create(ctx, obj)
		if err == nil {
			created = append(created, obj)
		}
	}
	d := time.Since(start)
	var status interface{ Status() metav1.Status }
	if err != nil && !errors.As(err, &status) {
		return Outcome{Attempt: a, Err: err, Duration: d, Refusal: kube.Refusal{Component: kube.Other, Message: err.Error(), Reason: err.Error()}}
	}
	return Outcome{Attempt: a, Err: err, Duration: d, Refusal: kube.Classify(err)}
}

// tokenRequest is the body of a serviceaccounts/token request (IRSA's audience).
func tokenRequest(ns, sa string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"metadata": map[string]any{"name": sa, "namespace": ns},
		"spec":     map[string]any{"audiences": []any{"sts.amazonaws.com"}},
	}}
}

func failed(a Attempt, err error) Outcome {
	return Outcome{Attempt: a, Err: err, Refusal: kube.Refusal{Component: kube.Other, Message: err.Error(), Reason: err.Error()}}
}

// update changes the live object (or its subresource) as client; if the change is admitted, the
// admin puts the object back as it was (labels, annotations and everything outside metadata and
// status).
func update(ctx context.Context, admin, client *kube.Client, ref *unstructured.Unstructured, mutate func(*unstructured.Unstructured), sub string) error {
	var original *unstructured.Unstructured
	// A controller may change the object between the read and the write (the PersistentVolume
	// controller, the kubelet): a conflict is read again and retried, never taken for a refusal.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := admin.Get(ctx, ref)
		if err != nil {
			return fmt.Errorf("read %s before changing it: %w", kube.Describe(ref), err)
		}
		original = live.DeepCopy()
		changed := live.DeepCopy()
		mutate(changed)
		r, err := client.Resource(changed)
		if err != nil {
			return err
		}
		_, err = r.Update(ctx, changed, metav1.UpdateOptions{FieldManager: kube.FieldManager}, subresources(sub)...)
		return err
	})
	if err != nil {
		return err
	}
	restore(admin, original)
	return nil
}

// patch sends p to the live object (or its subresource) as client; if the patch is admitted,
// the admin puts the object back as it was.
func patch(ctx context.Context, admin, client *kube.Client, ref *unstructured.Unstructured, p Patch, sub string) error {
	live, err := admin.Get(ctx, ref)
	if err != nil {
		return fmt.Errorf("read %s before patching it: %w", kube.Describe(ref), err)
	}
	r, err := client.Resource(live)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager}
	if p.Type == types.ApplyPatchType {
		// A manager of its own: applying a partial configuration as the manager that applied the
		// whole object would remove every field the partial one leaves out.
		force := true
		opts.FieldManager, opts.Force = "red-team-apply", &force
	}
	if _, err := r.Patch(ctx, live.GetName(), p.Type, []byte(p.Data), opts, subresources(sub)...); err != nil {
		return err
	}
	restore(admin, live)
	return nil
}

func subresources(sub string) []string {
	if sub == "" {
		return nil
	}
	return []string{sub}
}

// fill creates copies of obj as client until the API server refuses one (the error returned)
// or maxFill were admitted (an error that is no refusal). It returns the copies it created.
func fill(ctx context.Context, client *kube.Client, obj *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	var created []*unstructured.Unstructured
	for i := 1; i <= maxFill; i++ {
		c := obj.DeepCopy()
		c.SetName(fmt.Sprintf("%s-%d", obj.GetName(), i))
		if _, err := client.Create(ctx, c); err != nil {
			return created, err
		}
		created = append(created, c)
	}
	return created, fmt.Errorf("%d copies of %s admitted: nothing bounds how many may be created", maxFill, kube.Describe(obj))
}

// quotaUsage reads status.used of the namespace's ResourceQuotas, by quota name.
func quotaUsage(ctx context.Context, admin *kube.Client, ns string) map[string]map[string]any {
	list, err := admin.Dynamic.Resource(kube.GVR("", "v1", "resourcequotas")).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	out := map[string]map[string]any{}
	for _, q := range list.Items {
		used, _, _ := unstructured.NestedMap(q.Object, "status", "used")
		out[q.GetName()] = used
	}
	return out
}

// restoreQuotaUsage writes back the usage recorded before an OpFill, once its copies are
// deleted: where no quota controller runs (the local control plane), nothing else would give
// the deleted copies back to the quota, and every later create in the namespace would be refused.
// Where one runs, it recounts anyway.
func restoreQuotaUsage(admin *kube.Client, ns string, usage map[string]map[string]any) {
	ctx := context.Background()
	r := admin.Dynamic.Resource(kube.GVR("", "v1", "resourcequotas")).Namespace(ns)
	for name, used := range usage {
		q, err := r.Get(ctx, name, metav1.GetOptions{})
		if err != nil || used == nil {
			continue
		}
		if unstructured.SetNestedMap(q.Object, used, "status", "used") == nil {
			_, _ = r.UpdateStatus(ctx, q, metav1.UpdateOptions{})
		}
	}
}

// restore writes original's content back over the live object (after an admitted change).
func restore(admin *kube.Client, original *unstructured.Unstructured) {
	ctx := context.Background()
	live, err := admin.Get(ctx, original)
	if err != nil {
		return
	}
	for k, v := range original.Object {
		if k != "metadata" && k != "status" {
			live.Object[k] = v
		}
	}
	live.SetLabels(original.GetLabels())
	live.SetAnnotations(original.GetAnnotations())
	if r, err := admin.Resource(live); err == nil {
		_, _ = r.Update(ctx, live, metav1.UpdateOptions{FieldManager: kube.FieldManager})
	}
}

// debug adds obj's ephemeral containers to the live Pod of obj's name, through the
// pods/ephemeralcontainers subresource, as `kubectl debug` does.
func debug(ctx context.Context, client *kube.Client, obj *unstructured.Unstructured) error {
	// The kubelet writes the running pod's status between the read and the write: a conflict
	// is read again and retried, never taken for a refusal.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := client.Get(ctx, obj)
		if err != nil {
			return err
		}
		ecs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "ephemeralContainers")
		current, _, _ := unstructured.NestedSlice(live.Object, "spec", "ephemeralContainers")
		if err := unstructured.SetNestedSlice(live.Object, append(current, ecs...), "spec", "ephemeralContainers"); err != nil {
			return err
		}
		r, err := client.Resource(live)
		if err != nil {
			return err
		}
		_, err = r.Update(ctx, live, metav1.UpdateOptions{FieldManager: kube.FieldManager}, "ephemeralcontainers")
		return err
	})
}

// Classes lists the classes of the table in order, with how many attempts (bad, good) each has.
func Classes(attempts []Attempt) []string {
	var order []string
	count := map[string][2]int{}
	for _, a := range attempts {
		c := count[a.Class]
		if _, seen := count[a.Class]; !seen {
			order = append(order, a.Class)
		}
		if a.Control() {
			c[1]++
		} else {
			c[0]++
		}
		count[a.Class] = c
	}
	out := make([]string, 0, len(order))
	for _, c := range order {
		out = append(out, fmt.Sprintf("%s %d bad/%d good", c, count[c][0], count[c][1]))
	}
	return out
}

// ByActor counts the bad attempts per actor ("admin" or the user impersonated).
func ByActor(attempts []Attempt) map[string]int {
	out := map[string]int{}
	for _, a := range attempts {
		if a.Control() {
			continue
		}
		who := a.As
		if who == "" {
			who = "admin"
		}
		out[strings.TrimPrefix(who, "system:serviceaccount:")]++
	}
	return out
}
