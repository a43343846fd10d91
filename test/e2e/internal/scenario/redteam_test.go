package scenario

import (
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// TestRedTeamTable checks the red-team table's shape without a cluster: at least 80 bad
// attempts, by the admin and by the CI deployer, in every class, each naming who must refuse it
// and why, with good controls beside them; every object builds from the real rendered overlay.
func TestRedTeamTable(t *testing.T) {
	b := renderedBase(t)
	b.Images = Images{Signed: "s@sha256:1", Unsigned: "u", WrongKey: "w", Latest: "l", Untrusted: "x"}
	table := RedTeam()
	bad, good := 0, 0
	classes := map[string][2]int{}
	seen := map[string]bool{}
	for _, a := range table {
		if seen[a.Name] {
			t.Errorf("duplicate attempt name %q", a.Name)
		}
		seen[a.Name] = true
		c := classes[a.Class]
		if a.Control() {
			good++
			c[1]++
		} else {
			bad++
			c[0]++
			if a.Want.Reason == "" {
				t.Errorf("%s: no reason to assert", a.Name)
			}
			if (a.Want.Component == kube.Kyverno || a.Want.Component == kube.AdmissionPolicy) && a.Want.Policy == "" {
				t.Errorf("%s: refused by %s but names no policy", a.Name, a.Want.Component)
			}
		}
		classes[a.Class] = c
		if (a.Op == OpUpdate) != (a.Mutate != nil) {
			t.Errorf("%s: an update needs a change, and only an update has one", a.Name)
		}
		if (a.Op == OpPatch) != (a.Patch != nil) {
			t.Errorf("%s: a patch needs a body, and only a patch has one", a.Name)
		}
		if a.Subresource != "" && a.Op != OpUpdate && a.Op != OpPatch {
			t.Errorf("%s: only an update or a patch writes a subresource", a.Name)
		}
		for _, s := range a.Setup {
			if o := s(b); o.GetKind() == "" || o.GetName() == "" {
				t.Errorf("%s: setup object without kind or name", a.Name)
			}
		}
		if o := a.Object(b); o.GetKind() == "" || (o.GetName() == "" && a.Op != OpList) {
			t.Errorf("%s: object without kind or name: %v", a.Name, o.Object)
		}
	}
	if bad < 80 {
		t.Errorf("%d bad attempts, want at least 80", bad)
	}
	if good < 10 {
		t.Errorf("%d good controls, want at least 10", good)
	}
	for _, class := range []string{"rbac", "namespaces", "debug", "kinds", "exfiltration", "ceilings", "groups"} {
		if classes[class][0] == 0 {
			t.Errorf("class %s has no bad attempt", class)
		}
	}
	actors := ByActor(table)
	if actors["admin"] == 0 || actors["template-api:ci-deployer"] == 0 {
		t.Errorf("bad attempts by actor %v: want both the admin and the CI deployer", actors)
	}
	t.Logf("%d bad attempts, %d controls; %s; by actor %v", bad, good, strings.Join(Classes(table), ", "), actors)
}
