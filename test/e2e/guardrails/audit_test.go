package guardrails

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/platform-template/template-api/test/e2e/internal/audit"
	"github.com/platform-template/template-api/test/e2e/internal/cluster"
	"github.com/platform-template/template-api/test/e2e/internal/harness"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/scenario"
)

// auditTrail records the refused requests of the suite's tables (each sent with an Audit-ID of
// its own) so that each can be looked up in the API server's audit log afterwards.
type auditTrail struct {
	mu     sync.Mutex
	run    string // random, in every audit ID of this run
	admin  string // the admin's user name, as the API server knows it
	want   map[string][]refusedRequest
	found  map[string]int // table -> refusals found once each, as expected
	policy *audit.Policy
	cost   auditCost
}

// refusedRequest is what the audit log must hold for one refused request.
type refusedRequest struct {
	id, what string
	as       string // the user impersonated ("" = the admin himself)
	verb     string
	obj      audit.ObjectReference
	// numbered: the refused object is one of numbered copies, named obj.Name-<n> (OpFill).
	numbered bool
	refusal  kube.Refusal
}

// tag returns a context whose requests carry a new audit ID for case name of table.
func (a *auditTrail) tag(ctx context.Context, table, name string) (context.Context, string) {
	a.mu.Lock()
	if a.run == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		a.run = hex.EncodeToString(b)
	}
	id := fmt.Sprintf("e2e-%s-%s-%s", a.run, table, name)
	a.mu.Unlock()
	return kube.WithAuditID(ctx, id), id
}

// expect records that the request sent under id was refused as the client saw it.
func (a *auditTrail) expect(table string, r refusedRequest) {
	// A request about one namespace (/api/v1/namespaces/<name>) is recorded as in that
	// namespace; its create and a list are not.
	if r.obj.Resource == "namespaces" && r.obj.APIGroup == "" && r.verb != "create" && r.verb != "list" {
		r.obj.Namespace = r.obj.Name
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.want == nil {
		a.want = map[string][]refusedRequest{}
	}
	a.want[table] = append(a.want[table], r)
}

// expectCase records a refused case of the guardrail matrix.
func (a *auditTrail) expectCase(table, id string, c scenario.Case, base scenario.Base, r scenario.Result) {
	obj := c.Object(base)
	ref := objectRef(obj)
	// A list names no object; nor does a create that RBAC refuses: the API server refuses it
	// before it reads the body the name is in, so the log has the namespace and resource only.
	if c.Verb == scenario.List || (c.Verb == scenario.Create && r.Refusal.Component == kube.RBAC) {
		ref.Name = ""
	}
	a.expect(table, refusedRequest{id: id, what: c.What, as: c.As, verb: string(c.Verb), obj: ref, refusal: r.Refusal})
}

// expectAttempt records a refused attempt of the red-team table: the request that was refused
// is the attempt's own (its setup and, for an update, the admin's read before it, share its
// audit ID but are admitted).
func (a *auditTrail) expectAttempt(table, id string, at scenario.Attempt, base scenario.Base, o scenario.Outcome) {
	ref := objectRef(at.Object(base))
	verb := string(at.Op)
	numbered := false
	switch at.Op {
	case scenario.OpUpdate, scenario.OpPatch:
		ref.Subresource = at.Subresource
		if ref.Resource == "namespaces" && ref.Subresource != "" {
			ref.Namespace = ref.Name // the API server files a namespace's subresources under it
		}
	case scenario.OpDryRun:
		verb = "create" // a create with dryRun=All: audited, admitted or refused like any other
	case scenario.OpFill:
		verb, numbered = "create", true
	case scenario.OpList:
		ref.Name = ""
	case scenario.OpCreate:
		if o.Refusal.Component == kube.RBAC {
			ref.Name = "" // refused before the body, and the name in it, is read
		}
	case scenario.OpDebug:
		// `kubectl debug` reads the pod, then writes its ephemeral containers: RBAC may refuse
		// either, and the refusal names the verb.
		if o.Refusal.Component == kube.RBAC && strings.Contains(o.Refusal.Reason, `cannot get resource "pods"`) {
			verb = "get"
		} else {
			verb, ref.Subresource = "update", "ephemeralcontainers"
		}
	case scenario.OpLogs:
		verb, ref.Subresource = "get", "log"
	case scenario.OpExec:
		verb, ref.Subresource = "create", "exec"
	case scenario.OpToken:
		verb, ref.Subresource = "create", "token"
	}
	a.expect(table, refusedRequest{id: id, what: at.What, as: at.As, verb: verb, obj: ref, numbered: numbered, refusal: o.Refusal})
}

// objectRef is the audit object reference of a request about obj.
func objectRef(obj *unstructured.Unstructured) audit.ObjectReference {
	gvk := obj.GroupVersionKind()
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	return audit.ObjectReference{Resource: plural.Resource, APIGroup: gvk.Group, APIVersion: gvk.Version,
		Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// auditEvents reads the cluster's audit log, or skips the test where it is not ours.
func auditEvents(t *testing.T, ctx context.Context) []audit.Event {
	t.Helper()
	r, err := s.env.AuditLog(ctx)
	if errors.Is(err, harness.ErrNoAuditLog) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	events, err := audit.Read(r)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// adminName asks the API server who the admin is (SelfSubjectReview): e2e-admin on the local
// cluster, kubernetes-admin on kind.
func (a *auditTrail) adminName(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.admin != "" {
		return a.admin, nil
	}
	r, err := s.env.Admin.Typed.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("who is the admin (SelfSubjectReview): %w", err)
	}
	a.admin = r.Status.UserInfo.Username
	return a.admin, nil
}

func (a *auditTrail) loadPolicy() (*audit.Policy, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.policy == nil {
		p, err := audit.LoadPolicy(s.env.Config.AuditPolicy())
		if err != nil {
			return nil, err
		}
		a.policy = p
	}
	return a.policy, nil
}

// checkAuditTrail asserts that every refused request recorded for table is in the audit log
// once: one refused event under its audit ID, with the user (and whom they impersonated), the
// verb, the object, the level the policy gives it, and the same refusal the client got (the
// component, the denying webhook and policies, the reason and the whole message), backed by the
// annotations the API server writes (the authorizer's decision, Pod Security's level).
func checkAuditTrail(t *testing.T, table string) {
	t.Helper()
	t.Run("audit-log", func(t *testing.T) {
		ctx := context.Background()
		s.audit.mu.Lock()
		want := slices.Clone(s.audit.want[table])
		s.audit.mu.Unlock()
		if len(want) == 0 {
			t.Fatalf("no refused request of %s was recorded: nothing to look for", table)
		}
		admin, err := s.audit.adminName(ctx)
		if err != nil {
			t.Fatal(err)
		}
		policy, err := s.audit.loadPolicy()
		if err != nil {
			t.Fatal(err)
		}
		// The log is written before each answer (blocking mode); a short wait covers a log
		// read through the kind node while the last lines are flushed.
		var events []audit.Event
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(time.Second) {
			events = auditEvents(t, ctx)
			missing := 0
			for _, w := range want {
				if len(audit.ByID(events, w.id)) == 0 {
					missing++
				}
			}
			if missing == 0 || time.Now().After(deadline) {
				break
			}
		}
		found := 0
		for _, w := range want {
			if err := checkRefusalRecorded(events, w, admin, policy); err != nil {
				t.Errorf("%s: %v", w.what, err)
				continue
			}
			found++
		}
		s.audit.mu.Lock()
		if s.audit.found == nil {
			s.audit.found = map[string]int{}
		}
		s.audit.found[table] = found
		s.audit.mu.Unlock()
		t.Logf("audit log: %d events; %d of %d refused requests of %s found once each, with user, verb, object and refusal",
			len(events), found, len(want), table)
	})
}

// longRunning are the subresources the API server treats as long-running: their requests also
// get a ResponseStarted event, a refusal included.
var longRunning = map[string]bool{"exec": true, "attach": true, "portforward": true, "log": true, "proxy": true}

// nameMatches says whether name is the refused object's: obj.Name, or obj.Name-<n> for numbered
// copies.
func (w refusedRequest) nameMatches(name string) bool {
	if !w.numbered {
		return name == w.obj.Name
	}
	n, ok := strings.CutPrefix(name, w.obj.Name+"-")
	_, err := strconv.Atoi(n)
	return ok && err == nil
}

func checkRefusalRecorded(events []audit.Event, w refusedRequest, admin string, policy *audit.Policy) error {
	var refused, started []audit.Event
	for _, e := range audit.ByID(events, w.id) {
		switch {
		// Not refusals: the answer to a setup step that found its object there already (409)
		// or gone (404), or to a write that lost a race with a controller and was retried (409).
		case e.Code() < 400, e.Code() == http.StatusNotFound, e.Code() == http.StatusConflict:
		case e.Stage == audit.StageResponseComplete:
			refused = append(refused, e)
		default:
			started = append(started, e)
		}
	}
	if len(refused) != 1 {
		return fmt.Errorf("audit ID %s: %d refused requests in the log, want exactly 1", w.id, len(refused))
	}
	if len(started) > 0 && (len(started) > 1 || !longRunning[w.obj.Subresource] || started[0].Stage != audit.StageResponseStarted) {
		return fmt.Errorf("audit ID %s: %d more refused events (stage %s) for a request that is not long-running", w.id, len(started), started[0].Stage)
	}
	e := refused[0]
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if e.Stage != audit.StageResponseComplete {
		add("stage %s, want %s", e.Stage, audit.StageResponseComplete)
	}
	if e.User.Username != admin {
		add("user %q, want the admin %q", e.User.Username, admin)
	}
	switch {
	case w.as == "" && e.ImpersonatedUser != nil:
		add("impersonated %q, want nobody", e.ImpersonatedUser.Username)
	case w.as != "" && (e.ImpersonatedUser == nil || e.ImpersonatedUser.Username != w.as):
		add("impersonated user %v, want %q", e.ImpersonatedUser, w.as)
	}
	if e.Verb != w.verb {
		add("verb %q, want %q", e.Verb, w.verb)
	}
	if e.ObjectRef == nil {
		add("no object reference")
	} else if got := *e.ObjectRef; got.Resource != w.obj.Resource || got.APIGroup != w.obj.APIGroup ||
		got.Namespace != w.obj.Namespace || !w.nameMatches(got.Name) || got.Subresource != w.obj.Subresource {
		add("object %s, want %+v", e.Object(), w.obj)
	}
	r := e.Refusal()
	if r.Component != w.refusal.Component || r.Webhook != w.refusal.Webhook ||
		!slices.Equal(r.PolicyNames(), w.refusal.PolicyNames()) || r.Reason != w.refusal.Reason || r.Message != w.refusal.Message {
		add("records the refusal %q, the client got %q", r, w.refusal)
	}
	if ev := e.Evidence(); ev != "" {
		add("%s", ev)
	}
	if e.ObjectRef != nil {
		groups := e.User.Groups
		actor := e.User.Username
		if e.ImpersonatedUser != nil {
			actor, groups = e.ImpersonatedUser.Username, e.ImpersonatedUser.Groups
		}
		want, _ := policy.Level(audit.Request{User: actor, Groups: groups, Verb: e.Verb, APIGroup: e.ObjectRef.APIGroup,
			Resource: e.ObjectRef.Resource, Subresource: e.ObjectRef.Subresource, Namespace: e.ObjectRef.Namespace, Name: e.ObjectRef.Name})
		if e.Level != want {
			add("recorded at level %s, the policy says %s", e.Level, want)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("audit ID %s (%s): %s", w.id, e.Line(), strings.Join(errs, "; "))
	}
	return nil
}

// TestAuditLogHoldsNoSecretData plants a Secret with random values (created with stringData,
// read, listed, updated with data, patched, deleted) and mints a ServiceAccount token, then
// reads the whole audit log: neither value appears anywhere, in clear or in base64, while
// every one of those requests is on record (at Metadata). The control: a random value put in a
// Role's annotation, whose body the policy records, is found, so the search does read the log
// it should.
func TestAuditLogHoldsNoSecretData(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	if _, err := s.env.AuditLog(ctx); errors.Is(err, harness.ErrNoAuditLog) {
		t.Skip(err.Error())
	}
	admin, err := s.audit.adminName(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secretValues := []string{randomValue(t), randomValue(t), randomValue(t)}
	control := randomValue(t)
	name := "e2e-audit-planted-" + randomValue(t)[:8]
	ns := scenario.Namespace
	secrets := s.env.Admin.Typed.CoreV1().Secrets(ns)

	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		StringData: map[string]string{"password": secretValues[0]}}
	if _, err := secrets.Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatalf("plant the Secret: %v", err)
	}
	t.Cleanup(func() { _ = secrets.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	live, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(live.Data["password"]) != secretValues[0] {
		t.Fatal("the planted Secret does not hold the planted value")
	}
	if _, err := secrets.List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	live.Data["password"] = []byte(secretValues[1])
	if _, err := secrets.Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"stringData":{"token":%q}}`, secretValues[2])
	if _, err := secrets.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := secrets.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expiry := int64(600)
	tok, err := s.env.Admin.Typed.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "ci-deployer",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("mint a ServiceAccount token: %v", err)
	}
	role := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
		"metadata": map[string]any{"name": name + "-control", "namespace": ns, "annotations": map[string]any{"e2e-audit-control": control}},
		"rules":    []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get"}}}}}
	if _, err := s.env.Admin.Create(ctx, role); err != nil {
		t.Fatalf("create the control Role: %v", err)
	}
	if err := s.env.Admin.Delete(ctx, role); err != nil {
		t.Fatal(err)
	}

	needles := map[string]string{"the ServiceAccount token": tok.Status.Token}
	for i, v := range secretValues {
		for enc, val := range encodings(v) {
			needles[fmt.Sprintf("secret value %d (%s)", i+1, enc)] = val
		}
	}
	var found map[string]int
	var events, secretEvents, tokenEvents, controlSeen int
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// The requests above are all in the log once the last one is (blocking mode, one writer).
	if err := kube.Poll(wctx, "the control's event in the audit log", time.Second, func(ctx context.Context) error {
		r, err := s.env.AuditLog(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = r.Close() }()
		found, events, secretEvents, tokenEvents, controlSeen = map[string]int{}, 0, 0, 0, 0
		err = audit.Scan(r, func(line []byte, e *audit.Event) error {
			events++
			for what, n := range needles {
				if bytes.Contains(line, []byte(n)) {
					found[what]++
				}
			}
			if bytes.Contains(line, []byte(control)) {
				controlSeen++
			}
			if o := e.ObjectRef; o != nil && o.Namespace == ns && e.User.Username == admin {
				switch {
				case o.Resource == "secrets" && (o.Name == name || e.Verb == "list") && e.Level == audit.LevelMetadata &&
					len(e.RequestObject) == 0 && len(e.ResponseObject) == 0 && e.AuditID != "":
					secretEvents++
				case o.Resource == "serviceaccounts" && o.Subresource == "token" && o.Name == "ci-deployer" && e.Level == audit.LevelMetadata:
					tokenEvents++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if controlSeen == 0 {
			return errors.New("the control value is not in the log yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for what, n := range found {
		t.Errorf("%s appears %d times in the audit log", what, n)
	}
	// create, get, list, update, patch, delete of the planted Secret (the list may be more
	// than one event where another client listed Secrets meanwhile).
	if secretEvents < 6 {
		t.Errorf("%d Metadata events without bodies about the planted Secret, want the 6 requests made on record", secretEvents)
	}
	if tokenEvents < 1 {
		t.Errorf("the TokenRequest is not on record")
	}
	leaks := 0
	for _, n := range found {
		leaks += n
	}
	t.Logf("audit log: %d events read; the Secret's %d values (clear and base64) and the token appear %d times; "+
		"%d Metadata events for the Secret's requests; the control value in a Role's body appears %d times",
		events, len(secretValues), leaks, secretEvents, controlSeen)
}

func randomValue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// encodings are the ways a Secret's value can be written: as is, and base64 as the API carries
// data (and its unpadded and URL-safe forms).
func encodings(v string) map[string]string {
	return map[string]string{
		"clear":          v,
		"base64":         base64.StdEncoding.EncodeToString([]byte(v)),
		"base64 raw":     base64.RawStdEncoding.EncodeToString([]byte(v)),
		"base64 url raw": base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
}

// auditCost is the measure of TestAuditCostOnAdmissionLatency, for the report.
type auditCost struct {
	n    int
	rows []auditCostRow
}

type auditCostRow struct {
	what               string
	audited, unaudited harness.Stats
	pairedMedian       time.Duration // median of (audited - unaudited) over back-to-back pairs
}

// TestAuditCostOnAdmissionLatency measures what the audit log adds to a request's round trip:
// a second API server runs beside the cluster's, on the same etcd, calling the same Kyverno
// webhooks, with the same flags but no audit log, and the same requests go to both, alternating:
// a Deployment Kyverno refuses (recorded at Metadata), a ConfigMap no webhook sees (Metadata),
// and a Role (an RBAC object: recorded with its request and response bodies). Local cluster
// only (the twin runs in the node's namespaces); the report prints the figures.
func TestAuditCostOnAdmissionLatency(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	twin, ok := s.env.Cluster.(interface {
		StartUnaudited(context.Context) (*rest.Config, func(), error)
	})
	if !ok {
		t.Skipf("the comparison runs an unaudited API server beside the local cluster's; this is a %s cluster", s.env.Cluster.Mode())
	}
	start := time.Now()
	cfg, stop, err := twin.StartUnaudited(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	t.Logf("unaudited API server ready in %s", time.Since(start).Round(time.Millisecond))
	plain, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var refusedCase scenario.Case
	for _, c := range scenario.Matrix() {
		if c.Name == "no-liveness-probe" {
			refusedCase = c
		}
	}
	if refusedCase.Name == "" {
		t.Fatal("the matrix has no no-liveness-probe case")
	}
	base := s.env.Base()
	requests := []struct {
		what    string
		obj     func(i int) *unstructured.Unstructured
		refused bool
	}{
		{"Deployment refused by Kyverno (Metadata)", func(int) *unstructured.Unstructured { return refusedCase.Object(base) }, true},
		{"ConfigMap, no webhook (Metadata)", func(i int) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": fmt.Sprintf("e2e-audit-cost-%d", i), "namespace": scenario.Namespace},
				"data":     map[string]any{"k": "v"}}}
		}, false},
		{"Role, RBAC object (RequestResponse)", func(i int) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
				"metadata": map[string]any{"name": fmt.Sprintf("e2e-audit-cost-%d", i), "namespace": scenario.Namespace},
				"rules":    []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get"}}}}}
		}, false},
	}
	const warmup, n = 3, 40
	lat := &harness.Latencies{}
	// pairs[what][i] is audited minus unaudited for the i-th pair, sent back to back: the
	// machine's load drifts less within a pair than across the run.
	pairs := map[string][]time.Duration{}
	servers := []struct {
		label  string
		client *kube.Client
	}{{"audited", s.env.Admin}, {"unaudited", plain}}
	for i := range warmup + n {
		for _, r := range requests {
			var took [2]time.Duration
			for k := range servers {
				srv := servers[(i+k)%2] // alternate which server goes first
				obj := r.obj(i)
				t0 := time.Now()
				_, err := srv.client.Create(ctx, obj)
				d := time.Since(t0)
				switch {
				case r.refused && err == nil:
					_ = srv.client.Delete(ctx, obj)
					t.Fatalf("%s was admitted by the %s API server", r.what, srv.label)
				case r.refused && kube.Classify(err).Component != kube.Kyverno:
					t.Fatalf("%s: the %s API server answered %s", r.what, srv.label, kube.Classify(err))
				case !r.refused && err != nil:
					t.Fatalf("%s: the %s API server refused it: %v", r.what, srv.label, err)
				case !r.refused:
					if err := srv.client.Delete(ctx, obj); err != nil {
						t.Fatal(err)
					}
				}
				if i >= warmup {
					lat.Add(r.what+"/"+srv.label, d)
				}
				took[(i+k)%2] = d
			}
			if i >= warmup {
				pairs[r.what] = append(pairs[r.what], took[0]-took[1])
			}
		}
	}
	cost := auditCost{n: n}
	for _, r := range requests {
		d := slices.Clone(pairs[r.what])
		slices.Sort(d)
		row := auditCostRow{what: r.what, audited: lat.Stats(r.what + "/audited"), unaudited: lat.Stats(r.what + "/unaudited"),
			pairedMedian: d[len(d)/2]}
		cost.rows = append(cost.rows, row)
		t.Logf("%-40s audited %s | unaudited %s | median of paired differences %+.1f ms", r.what, row.audited, row.unaudited, ms(row.pairedMedian))
	}
	s.audit.mu.Lock()
	s.audit.cost = cost
	s.audit.mu.Unlock()
}

// reportAudit prints what the suite found in the audit log, how big the log grew, and what the
// log costs.
func reportAudit(ctx context.Context, w io.Writer) {
	if r, err := s.env.AuditLog(ctx); err == nil {
		cr := &countingReader{r: r}
		sum, err := audit.Summarize(cr)
		_ = r.Close()
		if err == nil {
			fmt.Fprintf(w, "audit log (k8s/cluster/%s): %d events, %.1f MB, %d requests refused by a guardrail\n",
				cluster.AuditPolicyFile, sum.Events, float64(cr.n)/1e6, sum.Refused)
		}
	}
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	var tables []string
	for table := range s.audit.want {
		tables = append(tables, table)
	}
	slices.Sort(tables)
	for _, table := range tables {
		fmt.Fprintf(w, "audit log: %d of %d refused requests of the %s found once each (user, verb, object, refusal)\n",
			s.audit.found[table], len(s.audit.want[table]), table)
	}
	if len(s.audit.cost.rows) == 0 {
		return
	}
	fmt.Fprintf(w, "round trip with and without the audit log (same etcd and webhooks; %d alternating creates each):\n", s.audit.cost.n)
	for _, r := range s.audit.cost.rows {
		fmt.Fprintf(w, "  %-40s audited %s\n  %-40s no audit %s\n  %-40s audit adds %+.1f ms (median of back-to-back pairs; medians %+.1f ms, p95 %+.1f ms)\n",
			r.what, r.audited, "", r.unaudited, "", ms(r.pairedMedian), ms(r.audited.Median-r.unaudited.Median), ms(r.audited.P95-r.unaudited.P95))
	}
}

// The workshop's attempt (docs/workshop/09-who-tried-a-privileged-pod.md, labs/09/break.sh):
// mallory, through impersonation with cluster-admin rights, asks for a privileged pod.
const (
	labUser = "mallory@example.com"
	labPod  = "debug"
)

// TestAuditWhoTriedAPrivilegedPod is lab 09: its break (docs/workshop/labs/09/break.sh: a
// privileged pod, as mallory) is refused by Pod Security, and the audit log answers "who tried
// to run a privileged pod?" with a line naming mallory, the admin who impersonated her, the pod
// and the refusal, exactly once, among the guardrail matrix's own attempts if they ran.
func TestAuditWhoTriedAPrivilegedPod(t *testing.T) {
	deployed(t)
	ctx := context.Background()
	if _, err := s.env.AuditLog(ctx); errors.Is(err, harness.ErrNoAuditLog) {
		t.Skip(err.Error())
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("the lab runs kubectl: %v", err)
	}
	admin, err := s.audit.adminName(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pod := &unstructured.Unstructured{}
	pod.SetAPIVersion("v1")
	pod.SetKind("Pod")
	pod.SetNamespace(scenario.Namespace)
	pod.SetName(labPod)
	// The lab's break, the script itself, against this cluster.
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(s.env.Config.Root, "docs", "workshop", "labs", "09", "break.sh"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.env.Cluster.Kubeconfig())
	out, err := cmd.CombinedOutput()
	if err == nil {
		_ = s.env.Admin.Delete(context.Background(), pod)
		t.Fatalf("the privileged pod was admitted:\n%s", out)
	}
	t.Logf("kubectl: %s", strings.TrimSpace(string(out)))
	if !strings.Contains(string(out), "violates PodSecurity") {
		t.Fatalf("refused, but not by Pod Security:\n%s", out)
	}
	var lines []string
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := kube.Poll(wctx, "mallory's attempt in the audit log", time.Second, func(ctx context.Context) error {
		r, err := s.env.AuditLog(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = r.Close() }()
		if lines, err = audit.Refusals(r, audit.Filter{Grep: "privileged", Resource: "pods"}); err != nil {
			return err
		}
		for _, l := range lines {
			if strings.Contains(l, labUser) {
				return nil
			}
		}
		return errors.New("not there yet")
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("who tried to run a privileged pod? (%d refused requests match)", len(lines))
	var mallory []string
	for _, l := range lines {
		t.Logf("  %s", l)
		if strings.Contains(l, labUser) {
			mallory = append(mallory, l)
		}
	}
	want := fmt.Sprintf("%s (impersonated by %s): create pods %s/%s REFUSED by Pod Security Admission (restricted:", labUser, admin, scenario.Namespace, labPod)
	if len(mallory) != 1 || !strings.Contains(mallory[0], want) ||
		!strings.Contains(mallory[0], `privileged (container "`+labPod+`" must not set securityContext.privileged=true)`) {
		t.Errorf("mallory's attempts: %q; want one line with %q and the privileged violation", mallory, want)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
