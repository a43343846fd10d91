package kyverno

import (
	"testing"
)

func TestParseReports(t *testing.T) {
	pod := Subject{Kind: "Pod", Namespace: "team", Name: "web"}
	crb := Subject{Kind: "ClusterRoleBinding", Name: "ci"}
	for _, tc := range []struct {
		name   string
		stdout string
		found  bool
		want   map[Subject][]Result
		err    bool
	}{
		{
			name:   "no report",
			stdout: "Applying 1 policy rule(s) to 1 resource(s)...\npass: 0, fail: 0\n",
		},
		{
			name: "namespaced and cluster reports",
			stdout: "Applying 2 policy rule(s) to 2 resource(s)...\n" +
				`{"kind":"ClusterReport","results":[{"policy":"rbac","rule":"rbac","result":"fail","message":"no","resources":[{"kind":"ClusterRoleBinding","name":"ci"}]}]}` + "\n---\n" +
				`{"kind":"Report","results":[{"policy":"limits","rule":"limits","result":"pass","message":"ok","resources":[{"kind":"Pod","namespace":"team","name":"web"}]}]}` + "\n",
			found: true,
			want: map[Subject][]Result{
				crb: {{Policy: "rbac", Rule: "rbac", Result: "fail", Message: "no"}},
				pod: {{Policy: "limits", Rule: "limits", Result: "pass", Message: "ok"}},
			},
		},
		{
			name:   "report glued to the text before it",
			stdout: "Generation completed successfully." + `{"kind":"ClusterReport","results":[{"policy":"gen","result":"pass","resources":[{"kind":"Pod","namespace":"team","name":"web"}]}]}`,
			found:  true,
			want:   map[Subject][]Result{pod: {{Policy: "gen", Result: "pass"}}},
		},
		{
			name:   "broken JSON",
			stdout: `{"kind":"ClusterReport","results":[`,
			err:    true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, found, err := parseReports(tc.stdout)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error: %v", err, tc.err)
			}
			if found != tc.found {
				t.Errorf("found = %v, want %v", found, tc.found)
			}
			for s, want := range tc.want {
				if len(got[s]) != len(want) {
					t.Fatalf("%s: %d results, want %d (%+v)", s, len(got[s]), len(want), got)
				}
				for i := range want {
					if got[s][i] != want[i] {
						t.Errorf("%s: result %d = %+v, want %+v", s, i, got[s][i], want[i])
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d resources in report, want %d", len(got), len(tc.want))
			}
		})
	}
}
