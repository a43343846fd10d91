package identity

import (
	"strings"
	"testing"

	"github.com/platform-template/template-api/tools/rename/internal/treetest"
)

func TestNew(t *testing.T) {
	cases := []struct {
		name, module, app, repo string
		want                    Identity
		refusal                 string // substring of the error; "" = accepted
	}{
		{name: "github module, repo derived", module: "github.com/acme/payments", app: "payments",
			want: Identity{Module: "github.com/acme/payments", Name: "payments", Repo: "acme/payments"}},
		{name: "deeper github module", module: "github.com/acme/mono/services/payments", app: "pay-api",
			want: Identity{Module: "github.com/acme/mono/services/payments", Name: "pay-api", Repo: "acme/mono"}},
		{name: "other host with repo", module: "gitlab.example.com/team/payments", app: "payments", repo: "acme/payments",
			want: Identity{Module: "gitlab.example.com/team/payments", Name: "payments", Repo: "acme/payments"}},
		{name: "major version suffix", module: "github.com/acme/payments/v2", app: "payments",
			want: Identity{Module: "github.com/acme/payments/v2", Name: "payments", Repo: "acme/payments"}},
		{name: "other host without repo", module: "example.com/payments", app: "payments", refusal: "give the GitHub repository"},
		{name: "empty module", module: "", app: "payments", refusal: "MODULE is empty"},
		{name: "module without dot", module: "acme/payments", app: "payments", refusal: "not a domain name"},
		{name: "module upper-case host", module: "GitHub.com/acme/payments", app: "payments", refusal: "only lowercase letters"},
		{name: "module with space", module: "github.com/acme/pay ments", app: "payments", refusal: "not a Go module path"},
		{name: "module double slash", module: "github.com//payments", app: "payments", refusal: "empty element"},
		{name: "module trailing slash", module: "github.com/acme/payments/", app: "payments", refusal: "trailing slash"},
		{name: "module dot element", module: "github.com/acme/../payments", app: "payments", refusal: "starts or ends with a dot"},
		{name: "github without repo", module: "github.com/acme", app: "payments", refusal: "needs an owner and a repository"},
		{name: "empty name", module: "github.com/acme/payments", app: "", refusal: "NAME is empty"},
		{name: "upper-case name", module: "github.com/acme/payments", app: "Payments", refusal: "DNS-1035"},
		{name: "underscore name", module: "github.com/acme/payments", app: "pay_ments", refusal: "DNS-1035"},
		{name: "name starting with digit", module: "github.com/acme/payments", app: "1payments", refusal: "starting with a letter"},
		{name: "name ending with dash", module: "github.com/acme/payments", app: "payments-", refusal: "DNS-1035"},
		{name: "dotted name", module: "github.com/acme/payments", app: "pay.ments", refusal: "DNS-1035"},
		{name: "long name", module: "github.com/acme/payments", app: strings.Repeat("a", 31), refusal: "at most 30"},
		{name: "reserved name", module: "github.com/acme/payments", app: "kube-system", refusal: "reserved"},
		{name: "default namespace", module: "github.com/acme/payments", app: "default", refusal: "disallow-default-namespace"},
		{name: "a namespace no guardrail judges", module: "github.com/acme/payments", app: "local-path-storage", refusal: "the app would run unguarded"},
		{name: "the ingress namespace", module: "github.com/acme/payments", app: "ingress-nginx", refusal: "NodePort and LoadBalancer Services are allowed"},
		{name: "a kube- namespace", module: "github.com/acme/payments", app: "kube-payments", refusal: "names starting with kube- are the cluster's own"},
		{name: "bad repo", module: "github.com/acme/payments", app: "payments", repo: "acme", refusal: "owner/name"},
		{name: "bad repo owner", module: "github.com/acme/payments", app: "payments", repo: "-acme/payments", refusal: "owner/name"},
		{name: "both refused at once", module: "nope", app: "No", refusal: "NAME \"No\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.module, tc.app, tc.repo)
			if tc.refusal != "" {
				if err == nil {
					t.Fatalf("accepted %+v; want refused with %q", got, tc.refusal)
				}
				if !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("refused with %q; want %q in it", err, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCurrent(t *testing.T) {
	good := map[string]string{
		ModuleFile: "// comment\nmodule example.com/widget\n\ngo 1.26\n",
		NameFile:   "metadata:\n  name: widget\n  labels:\n    app.kubernetes.io/name: widget\n",
		RepoFile:   "variable \"other\" {\n  default = \"x\"\n}\n\nvariable \"github_repository\" {\n  type    = string\n  default = \"example-org/widget\"\n}\n",
	}
	got, err := Current(treetest.Write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Identity{Module: "example.com/widget", Name: "widget", Repo: "example-org/widget"}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, missing := range []string{ModuleFile, NameFile, RepoFile} {
		t.Run("without "+missing, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				if k != missing {
					files[k] = v
				}
			}
			if _, err := Current(treetest.Write(t, files)); err == nil || !strings.Contains(err.Error(), "root of a copy of the template") {
				t.Fatalf("want an error naming the missing file, got %v", err)
			}
		})
		t.Run("no value in "+missing, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			files[missing] = "nothing here\n"
			if _, err := Current(treetest.Write(t, files)); err == nil || !strings.Contains(err.Error(), missing) {
				t.Fatalf("want an error naming %s, got %v", missing, err)
			}
		})
	}
}
