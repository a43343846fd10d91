// Package manifests_test renders every Kustomize overlay of k8s/ with krusty and asserts the
// invariants of package invariant on the result.
package manifests_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/platform-template/template-api/test/manifests/invariant"
	"github.com/platform-template/template-api/test/manifests/manifest"
)

// k8sDir is the repository's k8s/ directory, relative to this module.
var k8sDir = filepath.Join("..", "..", "k8s")

// ecr matches the images staging and production may run: the account's ECR.
const ecr = `^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/`

// common are the invariants of every overlay; awsEndpoints are the subnets of the VPC's
// interface endpoints where the app needs the AWS API (production: STS for RDS IAM auth).
func common(awsEndpoints ...string) []invariant.Check {
	return append(invariant.Structural(),
		invariant.ObjectsInNamespace("template-api"),
		invariant.AppNetworkPolicies("template-api", "ingress-nginx", "monitoring", awsEndpoints...),
		invariant.ServiceAccountTokens(),
		invariant.CIDeployerLeastPrivilege("ci-deployer", "template-api:ci-deployers"),
		invariant.CIAppliedObjectsWithinRole("ci-deployer"),
	)
}

func app(minReplicas int32) invariant.App {
	return invariant.App{Name: "template-api", Container: "api", UID: 65532, MinReplicas: minReplicas, DrainAndShutdown: 20}
}

// cloud are the extra invariants of staging and production.
func cloud(iamAuth bool) []invariant.Check {
	return []invariant.Check{
		{Name: "NoSecretData", Run: invariant.NoSecretData},
		{Name: "ExternalSecretsV1", Run: invariant.ExternalSecretsV1},
		invariant.ImagesPinnedByDigest(),
		invariant.ImagesFromRegistry(ecr),
		invariant.AppWorkloadIdentity("template-api"),
		invariant.DatabaseConnection(invariant.Database{App: "template-api", Container: "api", IAMAuth: iamAuth}),
	}
}

type ref struct{ Kind, Name string }

var appObjects = []ref{
	{"Namespace", "template-api"}, {"ResourceQuota", "template-api"}, {"LimitRange", "template-api"},
	{"ServiceAccount", "template-api"}, {"Deployment", "template-api"},
	{"Service", "template-api"}, {"NetworkPolicy", "default-deny-all"},
	{"NetworkPolicy", "template-api-allow-ingress-controller"}, {"NetworkPolicy", "template-api-allow-egress-dns"},
	{"NetworkPolicy", "template-api-allow-egress-db"}, {"PodDisruptionBudget", "template-api"},
	{"HorizontalPodAutoscaler", "template-api"}, {"ServiceAccount", "ci-deployer"}, {"Role", "ci-deployer"},
	{"RoleBinding", "ci-deployer"},
}

func TestOverlays(t *testing.T) {
	cases := []struct {
		overlay string
		checks  []invariant.Check
		// must and mustNot name objects that must (not) be rendered, so that no check passes
		// because what it inspects went missing.
		must, mustNot []ref
		// environment is the namespace's platform-template.io/environment label, which the
		// Kyverno policies key on (digests required in staging and production).
		environment string
	}{
		{
			overlay: "base",
			checks:  append(common(), invariant.AppDeployment(app(2)), invariant.Availability(1)),
			must:    append(slices.Clone(appObjects), ref{"SecretStore", "aws-secrets-manager"}, ref{"ExternalSecret", "template-api-db"}),
			mustNot: []ref{{"Secret", "template-api-db"}},
		},
		{
			overlay: "overlays/kind",
			checks: append(common(),
				invariant.AppDeployment(app(2)), invariant.Availability(1),
				// The demo pins its own image's digest at deploy time; everything else is pinned here.
				invariant.ImagesPinnedByDigest("localhost:5001/template-api"),
				invariant.ImagesFromRegistry(`^(localhost:5001/template-api[:@]|docker\.io/library/postgres:[^@]+@sha256:)`),
				invariant.DatabaseAdmitsOnlyApp("postgres", "template-api"),
			),
			must: append(slices.Clone(appObjects),
				ref{"StatefulSet", "postgres"}, ref{"Service", "postgres"}, ref{"ServiceAccount", "postgres"},
				ref{"NetworkPolicy", "postgres-allow-app"}, ref{"Secret", "template-api-db"}),
			mustNot:     []ref{{"SecretStore", "aws-secrets-manager"}, {"ExternalSecret", "template-api-db"}, {"ServiceAccount", "external-secrets"}},
			environment: "development",
		},
		{
			overlay: "overlays/staging",
			checks:  append(append(common(), cloud(false)...), invariant.AppDeployment(app(2)), invariant.Availability(1)),
			must: append(slices.Clone(appObjects),
				ref{"SecretStore", "aws-secrets-manager"}, ref{"ExternalSecret", "template-api-db"}, ref{"ServiceAccount", "external-secrets"}),
			mustNot:     []ref{{"Secret", "template-api-db"}, {"StatefulSet", "postgres"}},
			environment: "staging",
		},
		{
			overlay: "overlays/production",
			checks: append(append(common("10.30.0.0/20", "10.30.16.0/20", "10.30.32.0/20"), cloud(true)...),
				invariant.AppDeployment(app(3)), invariant.Availability(2)),
			must: append(slices.Clone(appObjects),
				ref{"SecretStore", "aws-secrets-manager"}, ref{"ServiceAccount", "external-secrets"},
				ref{"NetworkPolicy", "template-api-allow-egress-aws-api"}),
			mustNot:     []ref{{"Secret", "template-api-db"}, {"ExternalSecret", "template-api-db"}, {"StatefulSet", "postgres"}},
			environment: "production",
		},
	}
	for _, tc := range cases {
		t.Run(tc.overlay, func(t *testing.T) {
			t.Parallel()
			objs, err := manifest.Render(filepath.Join(k8sDir, tc.overlay))
			if err != nil {
				t.Fatal(err)
			}
			has := func(r ref) bool {
				return slices.ContainsFunc(objs, func(o manifest.Object) bool { return o.Kind == r.Kind && o.Name == r.Name })
			}
			for _, r := range tc.must {
				if !has(r) {
					t.Errorf("%s/%s is not rendered", r.Kind, r.Name)
				}
			}
			for _, r := range tc.mustNot {
				if has(r) {
					t.Errorf("%s/%s is rendered but must not be", r.Kind, r.Name)
				}
			}
			if tc.environment != "" {
				for _, o := range objs {
					if o.Kind == "Namespace" && o.String("metadata", "labels", "platform-template.io/environment") != tc.environment {
						t.Errorf("%s: label platform-template.io/environment is %q, want %q", o.ID(),
							o.String("metadata", "labels", "platform-template.io/environment"), tc.environment)
					}
				}
			}
			for _, c := range tc.checks {
				t.Run(c.Name, func(t *testing.T) {
					for _, f := range c.Run(objs) {
						t.Error(f)
					}
				})
			}
		})
	}
}
