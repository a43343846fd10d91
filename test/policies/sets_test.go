package policies_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/policies/internal/render"
)

// TestPolicySets renders each policy set and checks what distinguishes it: enforcement in the
// default set, audit only in the rollout overlay, the loopback registries and the demo's
// exception only in the local set.
func TestPolicySets(t *testing.T) {
	for _, tc := range []struct {
		set           string
		action        string
		vapActions    string
		localRegistry bool
		exceptions    int
	}{
		{set: "base", action: "Deny", vapActions: "[Deny]", localRegistry: false, exceptions: 0},
		{set: "overlays/audit", action: "Audit", vapActions: "[Audit Warn]", localRegistry: false, exceptions: 0},
		{set: "overlays/local", action: "Deny", vapActions: "[Deny]", localRegistry: true, exceptions: 1},
	} {
		t.Run(tc.set, func(t *testing.T) {
			objects, err := render.Build(filepath.Join(policiesDir(t), tc.set))
			if err != nil {
				t.Fatal(err)
			}
			judging, exceptions, vaps, bindings := 0, 0, 0, 0
			for _, o := range objects {
				spec, _ := o["spec"].(map[string]any)
				switch o.Kind() {
				case "ValidatingPolicy", "ImageValidatingPolicy":
					judging++
					if got := fmt.Sprint(spec["validationActions"]); got != "["+tc.action+"]" {
						t.Errorf("%s %s: validationActions %s, want [%s]", o.Kind(), o.Name(), got, tc.action)
					}
				case "ValidatingAdmissionPolicy":
					vaps++
				case "ValidatingAdmissionPolicyBinding":
					bindings++
					if got := fmt.Sprint(spec["validationActions"]); got != tc.vapActions {
						t.Errorf("ValidatingAdmissionPolicyBinding %s: validationActions %s, want %s", o.Name(), got, tc.vapActions)
					}
				case "PolicyException":
					exceptions++
					if o.Namespace() != "kyverno" {
						t.Errorf("PolicyException %s in namespace %q, want kyverno (the --exceptionNamespace)", o.Name(), o.Namespace())
					}
				}
				if o.Kind() == "ValidatingPolicy" && o.Name() == "restrict-image-registries" {
					vars := fmt.Sprint(spec["variables"])
					if got := strings.Contains(vars, `localhost:[0-9]+/`); got != tc.localRegistry {
						t.Errorf("restrict-image-registries trusts loopback registries: %v, want %v", got, tc.localRegistry)
					}
				}
			}
			if judging != 18 {
				t.Errorf("%d validating and image-validating policies, want 18", judging)
			}
			if vaps != 6 || bindings != 6 {
				t.Errorf("%d ValidatingAdmissionPolicies and %d bindings, want 6 of each", vaps, bindings)
			}
			if exceptions != tc.exceptions {
				t.Errorf("%d PolicyExceptions, want %d", exceptions, tc.exceptions)
			}
		})
	}
}
