package pins

import (
	"strings"
	"testing"
)

func TestTableLoads(t *testing.T) {
	tab, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	rs := tab.Releases()
	if len(rs) < 50 {
		t.Fatalf("%d releases; the table is shipped with the rules and lists far more", len(rs))
	}
	for _, r := range rs {
		if _, ok := RetiredRuntimes[r.Runs]; !ok && r.Runs != "node24" && r.Runs != "composite" && r.Runs != "docker" {
			t.Errorf("%s %s runs on %q, which the rules do not know", r.Action, r.Version, r.Runs)
		}
		if got, _ := tab.Commit(r.Action, r.Commit); got.Version != r.Version {
			t.Errorf("%s commit %s is listed for %s and %s", r.Action, r.Commit, got.Version, r.Version)
		}
	}
}

func TestParseRefusesBadRows(t *testing.T) {
	for _, row := range []string{
		"actions/checkout\tv6.0.3\tdf4cb1c\tnode24\ttag",                                                                   // short SHA
		"actions/checkout\tmain\tdf4cb1c069e1874edd31b4311f1884172cec0e10\tnode24\ttag",                                    // not a version
		"actions/checkout\tv6.0.3\tdf4cb1c069e1874edd31b4311f1884172cec0e10\tnode24",                                       // no source
		"actions/checkout\tv6.0.3\tdf4cb1c069e1874edd31b4311f1884172cec0e10\t\ttag",                                        // no runtime
		"a/b\tv1.0.0\t" + strings.Repeat("a", 40) + "\tnode24\tx\na/b\tv1.0.0\t" + strings.Repeat("b", 40) + "\tnode24\tx", // two commits
	} {
		if _, err := Parse(row); err == nil {
			t.Errorf("accepted %q", row)
		}
	}
}

func TestCompromisedRelease(t *testing.T) {
	tests := []struct {
		action, version, commit string
		want                    bool
	}{
		{"aquasecurity/trivy-action", "v0.34.2", "", true},
		{"aquasecurity/trivy-action", "0.28.0", "", true},
		{"AquaSecurity/Trivy-Action", "v0.34.0", "", true},
		{"aquasecurity/trivy-action", "v0.35.0", "", false},
		{"aquasecurity/trivy-action", "v0.36.0", "", false},
		{"aquasecurity/setup-trivy", "v0.2.4", "", true},
		{"aquasecurity/setup-trivy", "v0.2.6", "", false},
		{"tj-actions/changed-files", "v46.0.5", "0e58ed8671d6b60d0890c21b07f8835ace038e67", true},
		{"tj-actions/changed-files", "v45.0.7", "", true},
		{"actions/checkout", "v4.0.0", "", false},
	}
	for _, tc := range tests {
		if _, got := CompromisedRelease(tc.action, tc.version, tc.commit); got != tc.want {
			t.Errorf("CompromisedRelease(%s, %s, %s) = %v, want %v", tc.action, tc.version, tc.commit, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"v1.2.3", "1.2.3", 0}, {"v0.34.2", "v0.35.0", -1}, {"v10.0.0", "v9.9.9", 1}} {
		if got, ok := Compare(tc.a, tc.b); !ok || got != tc.want {
			t.Errorf("Compare(%s, %s) = %d %v, want %d", tc.a, tc.b, got, ok, tc.want)
		}
	}
	if _, ok := Compare("latest", "v1.0.0"); ok {
		t.Error("latest compared as a version")
	}
}
