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
)

// Attempt is one request of the red-team table: a bad one (Want set) or a good control (Want
// zero: must be admitted).
type Attempt struct {
	Name  string
	Class string // the class: rbac, namespaces, debug, kinds, exfiltration, ceilings, groups, other
	What  string
	As    string // "" = the cluster admin
	Op    Op
	// Setup objects are created by the admin before the attempt and deleted after it.
	Setup  []func(Base) *unstructured.Unstructured
	Object func(Base) *unstructured.Unstructured
	Mutate func(*unstructured.Unstructured)
	Want   Want
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
		err = update(ctx, admin, client, obj, a.Mutate)
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

// update changes the live object as client; if the change is admitted, the admin puts the
// object back as it was (labels, annotations and everything outside metadata and status).
func update(ctx context.Context, admin, client *kube.Client, ref *unstructured.Unstructured, mutate func(*unstructured.Unstructured)) error {
	live, err := admin.Get(ctx, ref)
	if err != nil {
		return fmt.Errorf("read %s before changing it: %w", kube.Describe(ref), err)
	}
	original := live.DeepCopy()
	changed := live.DeepCopy()
	mutate(changed)
	r, err := client.Resource(changed)
	if err != nil {
		return err
	}
	if _, err := r.Update(ctx, changed, metav1.UpdateOptions{FieldManager: kube.FieldManager}); err != nil {
		return err
	}
	restore(admin, original)
	return nil
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
