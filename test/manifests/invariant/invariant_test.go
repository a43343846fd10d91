package invariant_test

import (
	"os"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/manifests/invariant"
	"github.com/platform-template/template-api/test/manifests/manifest"
)

// edit replaces the first occurrence of Old with New in the good fixture.
type edit struct{ Old, New string }

// app and db are the parameters the overlays use, applied to the fixture.
var (
	app = invariant.App{Name: "template-api", Container: "api", UID: 65532, MinReplicas: 2, DrainAndShutdown: 20}
	db  = invariant.Database{App: "template-api", Container: "api"}
)

// every check, with the parameters that the good fixture satisfies.
func allChecks() []invariant.Check {
	return append(invariant.Structural(),
		invariant.Check{Name: "NoSecretData", Run: invariant.NoSecretData},
		invariant.Check{Name: "ExternalSecretsV1", Run: invariant.ExternalSecretsV1},
		invariant.ObjectsInNamespace("template-api"),
		invariant.ImagesPinnedByDigest(),
		invariant.ImagesFromRegistry(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/`),
		invariant.AppNetworkPolicies("template-api", "ingress-nginx", "monitoring"),
		invariant.DatabaseAdmitsOnlyApp("postgres", "template-api"),
		invariant.ServiceAccountTokens(),
		invariant.CIDeployerLeastPrivilege("ci-deployer", "template-api:ci-deployers"),
		invariant.CIAppliedObjectsWithinRole("ci-deployer"),
		invariant.AppWorkloadIdentity("template-api"),
		invariant.AppDeployment(app),
		invariant.Availability(1),
		invariant.DatabaseConnection(db),
	)
}

func check(t *testing.T, name string) invariant.Check {
	t.Helper()
	for _, c := range allChecks() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check named %q", name)
	return invariant.Check{}
}

func goodFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parse(t *testing.T, text string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Parse([]byte(text))
	if err != nil {
		t.Fatalf("parse fixture: %v", err)
	}
	return objs
}

// TestGoodFixturePassesEveryCheck: a check that fired on everything would make the bad cases
// below meaningless; the good fixture must pass all of them.
func TestGoodFixturePassesEveryCheck(t *testing.T) {
	objs := parse(t, goodFixture(t))
	for _, c := range allChecks() {
		t.Run(c.Name, func(t *testing.T) {
			for _, f := range c.Run(objs) {
				t.Errorf("unexpected finding on the good fixture: %s", f)
			}
		})
	}
}

// TestEachCheckFiresOnABadFixture breaks the good fixture in one place per case and expects the
// named check to report it, with the reason.
func TestEachCheckFiresOnABadFixture(t *testing.T) {
	cases := []struct {
		name  string
		check string
		// override, when set, replaces the check's good-fixture parameters.
		override *invariant.Check
		edits    []edit
		want     string
	}{
		{name: "misspelt field", check: "WellFormed",
			edits: []edit{{"  replicas: 1\n", "  replica: 1\n"}},
			want:  `unknown field "replica"`},
		{name: "unknown kind", check: "WellFormed",
			edits: []edit{{"---\napiVersion: policy/v1\n", "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: old\n---\napiVersion: policy/v1\n"}},
			want:  "unknown apiVersion/kind extensions/v1beta1/Ingress"},

		{name: "init container without memory limit", check: "ContainerResources",
			edits: []edit{{"limits: {cpu: 20m, memory: 22Mi, ephemeral-storage: 16Mi}", "limits: {cpu: 20m, ephemeral-storage: 16Mi}"}},
			want:  `initContainer "migrate" has no limits.memory`},
		{name: "container without requests", check: "ContainerResources",
			edits: []edit{{"requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: 32Mi}\n", ""}},
			want:  `container "postgres" has no requests.cpu`},
		{name: "no ephemeral-storage limit", check: "ContainerResources",
			edits: []edit{{"limits: {cpu: 500m, memory: 128Mi, ephemeral-storage: 256Mi}", "limits: {cpu: 500m, memory: 128Mi}"}},
			want:  `container "api" has no limits.ephemeral-storage`},
		{name: "unbounded emptyDir", check: "ContainerResources",
			edits: []edit{{"emptyDir: {sizeLimit: 1Mi}", "emptyDir: {}"}},
			want:  `emptyDir volume "run" has no sizeLimit`},

		{name: "no quota", check: "NamespaceCeilings",
			edits: []edit{{"kind: ResourceQuota\nmetadata:\n  name: template-api\n  namespace: template-api", "kind: ResourceQuota\nmetadata:\n  name: template-api\n  namespace: elsewhere"}},
			want:  `Namespace/template-api: runs pods but has no ResourceQuota`},
		{name: "quota without ephemeral storage", check: "NamespaceCeilings",
			edits: []edit{{"    limits.ephemeral-storage: 2Gi\n", ""}},
			want:  `its ResourceQuota does not bound limits.ephemeral-storage`},
		{name: "quota without a count of what the deployer creates", check: "NamespaceCeilings",
			edits: []edit{{"    count/deployments.apps: \"5\"\n", ""}},
			want:  `its ResourceQuota does not bound the number of deployments, which Role/template-api/ci-deployer may create (count/deployments.apps)`},
		{name: "no per-Pod maximum", check: "NamespaceCeilings",
			edits: []edit{{"    - type: Pod\n", "    - type: Container\n"}},
			want:  `runs pods but has no LimitRange with a per-Pod maximum`},
		{name: "no PVC maximum", check: "NamespaceCeilings",
			edits: []edit{{"    - type: PersistentVolumeClaim\n      max: {storage: 2Gi}\n", ""}},
			want:  `no per-PersistentVolumeClaim maximum of storage`},
		{name: "replicas above the quota", check: "NamespaceCeilings",
			edits: []edit{{"  replicas: 1\n", "  replicas: 50\n"}},
			want:  `50 replicas, above the namespace's quota of 10 pods`},
		{name: "autoscaler above the quota", check: "NamespaceCeilings",
			edits: []edit{{"  maxReplicas: 6\n", "  maxReplicas: 5000\n"}},
			want:  `maxReplicas 5000, above the namespace's quota of 10 pods`},
		{name: "container above the per-Pod maximum", check: "NamespaceCeilings",
			edits: []edit{{"limits: {cpu: 500m, memory: 256Mi", "limits: {cpu: 256, memory: 256Mi"}},
			want:  `container "postgres" limits cpu to 256, above the per-Pod maximum 1`},

		{name: "nothing declared", check: "DeclaredSecretsAndIdentities",
			edits: []edit{{"    platform-template.io/pod-secrets: template-api-db\n", ""}},
			want:  `runs pods but does not declare platform-template.io/pod-service-accounts and platform-template.io/pod-secrets`},
		{name: "undeclared service account", check: "DeclaredSecretsAndIdentities",
			edits: []edit{{"pod-service-accounts: template-api,postgres", "pod-service-accounts: template-api"}},
			want:  `runs as ServiceAccount "postgres", which namespace template-api does not declare for pods`},
		{name: "undeclared secret", check: "DeclaredSecretsAndIdentities",
			edits: []edit{{"pod-secrets: template-api-db", "pod-secrets: other"}},
			want:  `volume "db-password" mounts Secret "template-api-db", which namespace template-api does not declare`},
		{name: "secret in the environment", check: "DeclaredSecretsAndIdentities",
			edits: []edit{{"            - name: DB_PASSWORD_FILE\n              value: /var/run/secrets/db/password\n          resources:\n            requests: {cpu: 100m", "            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef: {name: template-api-db, key: password}\n          resources:\n            requests: {cpu: 100m"}},
			want:  `container "api" takes Secret "template-api-db" into its environment (DB_PASSWORD)`},
		{name: "logs as the termination message", check: "DeclaredSecretsAndIdentities",
			edits: []edit{{"          command: [\"/api\", \"serve\"]\n", "          command: [\"/api\", \"serve\"]\n          terminationMessagePolicy: FallbackToLogsOnError\n"}},
			want:  `container "api": terminationMessagePolicy FallbackToLogsOnError`},

		{name: "privilege escalation allowed", check: "ContainerSecurityContext",
			edits: []edit{{"limits: {cpu: 20m, memory: 22Mi, ephemeral-storage: 16Mi}\n          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false", "limits: {cpu: 20m, memory: 22Mi, ephemeral-storage: 16Mi}\n          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: true"}},
			want:  `initContainer "migrate": allowPrivilegeEscalation is not false`},
		{name: "writable root filesystem", check: "ContainerSecurityContext",
			edits: []edit{{"            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false\n            privileged: false", "            readOnlyRootFilesystem: false\n            allowPrivilegeEscalation: false\n            privileged: false"}},
			want:  `container "api": readOnlyRootFilesystem is not true`},
		{name: "capabilities not dropped", check: "ContainerSecurityContext",
			edits: []edit{{`drop: ["ALL"]`, `drop: ["NET_RAW"]`}},
			want:  `capabilities do not drop ALL`},
		{name: "capability added", check: "ContainerSecurityContext",
			edits: []edit{{`drop: ["ALL"]`, "drop: [\"ALL\"]\n              add: [\"NET_ADMIN\"]"}},
			want:  `capabilities add [NET_ADMIN]`},
		{name: "root user on the container", check: "ContainerSecurityContext",
			edits: []edit{{"            runAsUser: 65532\n", "            runAsUser: 0\n"}},
			want:  `container "api": runAsUser is not set to a non-zero UID`},
		{name: "no group", check: "ContainerSecurityContext",
			edits: []edit{{"        runAsGroup: 70\n", ""}},
			want:  `container "postgres": runAsGroup is not set`},
		{name: "unconfined seccomp", check: "ContainerSecurityContext",
			edits: []edit{{"            seccompProfile:\n              type: RuntimeDefault", "            seccompProfile:\n              type: Unconfined"}},
			want:  `container "api": seccompProfile is not RuntimeDefault or Localhost`},
		{name: "privileged", check: "ContainerSecurityContext",
			edits: []edit{{"privileged: false", "privileged: true"}},
			want:  `container "api": privileged is true`},
		{name: "no security context", check: "ContainerSecurityContext",
			edits: []edit{{"          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop: [\"ALL\"]\n          livenessProbe", "          livenessProbe"}},
			want:  `container "postgres" has no securityContext`},

		{name: "host network", check: "PodSecurityAdmission",
			edits: []edit{{"      serviceAccountName: postgres\n", "      serviceAccountName: postgres\n      hostNetwork: true\n"}},
			want:  `violates PodSecurity "restricted:latest": host namespaces`},
		{name: "privilege escalation at the pinned version", check: "PodSecurityAdmission",
			edits: []edit{{"limits: {cpu: 20m, memory: 22Mi, ephemeral-storage: 16Mi}\n          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false", "limits: {cpu: 20m, memory: 22Mi, ephemeral-storage: 16Mi}\n          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: true"}},
			want:  `violates PodSecurity "restricted:v1.34": allowPrivilegeEscalation != false`},

		{name: "no readiness probe", check: "ContainerProbes",
			edits: []edit{{"          readinessProbe:\n            exec: {command: [pg_isready]}\n", ""}},
			want:  `container "postgres" has no readinessProbe`},
		{name: "no liveness probe", check: "ContainerProbes",
			edits: []edit{{"          livenessProbe:\n            httpGet: {path: /healthz, port: 8080}\n", ""}},
			want:  `container "api" has no livenessProbe`},

		{name: "baseline enforced", check: "NamespacePodSecurity",
			edits: []edit{{"enforce: restricted", "enforce: baseline"}},
			want:  `pod-security.kubernetes.io/enforce is "baseline", not restricted`},
		{name: "unpinned version", check: "NamespacePodSecurity",
			edits: []edit{{"warn-version: v1.34", "warn-version: latest"}},
			want:  `pod-security.kubernetes.io/warn-version is "latest", not a pinned v1.N`},
		{name: "undeclared namespace", check: "NamespacePodSecurity",
			edits: []edit{{"  name: postgres\n  namespace: template-api\nautomount", "  name: postgres\n  namespace: elsewhere\nautomount"}},
			want:  `Namespace/elsewhere: objects are placed in it but the overlay does not declare it`},

		{name: "object without a namespace", check: "ObjectsInNamespace",
			edits: []edit{{"  name: postgres-allow-app\n  namespace: template-api\n", "  name: postgres-allow-app\n"}},
			want:  `NetworkPolicy/postgres-allow-app: namespace is "", want "template-api"`},

		{name: "image by tag", check: "ImagesPinnedByDigest",
			edits: []edit{{"postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222", "postgres:17"}},
			want:  `container "postgres" image "111122223333.dkr.ecr.eu-west-1.amazonaws.com/postgres:17" is not pinned by a sha256 digest`},
		{name: "short digest", check: "ImagesPinnedByDigest",
			edits: []edit{{"template-api@sha256:1111111111111111111111111111111111111111111111111111111111111111", "template-api@sha256:1111"}},
			want:  `initContainer "migrate" image`},

		{name: "image from Docker Hub", check: "ImagesFromRegistry",
			edits: []edit{{"111122223333.dkr.ecr.eu-west-1.amazonaws.com/postgres@", "docker.io/library/postgres@"}},
			want:  `image "docker.io/library/postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222" is not from a trusted registry`},

		{name: "no default deny", check: "DefaultDenyPerNamespace",
			edits: []edit{{"  podSelector: {}\n  policyTypes: [Ingress, Egress]", "  podSelector: {}\n  policyTypes: [Ingress]"}},
			want:  `Namespace/template-api: no default-deny NetworkPolicy`},

		{name: "egress to everywhere", check: "NetworkPoliciesNarrow",
			edits: []edit{{"cidr: 10.20.64.0/20", "cidr: 0.0.0.0/0"}},
			want:  `egress rule 1 has ipBlock 0.0.0.0/0: every address`},
		{name: "ingress from every namespace", check: "NetworkPoliciesNarrow",
			edits: []edit{{"        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: ingress-nginx\n          podSelector:\n            matchLabels:\n              app.kubernetes.io/name: ingress-nginx\n", "        - namespaceSelector: {}\n"}},
			want:  `ingress rule 0 has an empty namespaceSelector: every namespace`},
		{name: "ingress rule without sources", check: "NetworkPoliciesNarrow",
			edits: []edit{{"  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: template-api\n      ports:", "  ingress:\n    - ports:"}},
			want:  `ingress rule 0 has no from: it admits every source`},

		{name: "app egress to HTTPS", check: "AppNetworkPolicies",
			edits: []edit{{"          port: 5432\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: postgres-allow-app", "          port: 443\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: postgres-allow-app"}},
			want:  `egress rule 1 allows TCP/443: the app may only reach DNS and PostgreSQL`},
		{name: "app ingress from another namespace", check: "AppNetworkPolicies",
			edits: []edit{{"kubernetes.io/metadata.name: ingress-nginx", "kubernetes.io/metadata.name: default"}},
			want:  `admits port 8080 from a peer other than the ingress controller in namespace ingress-nginx`},
		{name: "HTTPS to the AWS endpoints missing", check: "AppNetworkPolicies",
			override: ptr(invariant.AppNetworkPolicies("template-api", "ingress-nginx", "monitoring", "10.20.0.0/20")),
			want:     `no NetworkPolicy allows HTTPS to the AWS endpoint subnets [10.20.0.0/20]`},
		{name: "HTTPS beyond the AWS endpoints", check: "AppNetworkPolicies",
			override: ptr(invariant.AppNetworkPolicies("template-api", "ingress-nginx", "monitoring", "10.20.0.0/20")),
			edits:    []edit{{"          port: 5432\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: postgres-allow-app", "          port: 5432\n    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n      ports:\n        - protocol: TCP\n          port: 443\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: postgres-allow-app"}},
			want:     `egress rule 2 allows HTTPS to a peer other than the AWS endpoint subnets [10.20.0.0/20]`},
		{name: "DNS to any pod", check: "AppNetworkPolicies",
			edits: []edit{{"k8s-app: kube-dns", "k8s-app: anything"}},
			want:  `egress rule 0 allows port 53 to a peer other than kube-dns in kube-system`},

		{name: "database open to another app", check: "DatabaseAdmitsOnlyApp",
			edits: []edit{{"            matchLabels:\n              app.kubernetes.io/name: template-api\n      ports:\n        - protocol: TCP\n          port: 5432", "            matchLabels:\n              app.kubernetes.io/name: other\n      ports:\n        - protocol: TCP\n          port: 5432"}},
			want:  `ingress rule 0 admits a peer other than the template-api pods`},
		{name: "database reaches out", check: "DatabaseAdmitsOnlyApp",
			edits: []edit{{"  name: postgres-allow-app\n  namespace: template-api\nspec:\n", "  name: postgres-allow-app\n  namespace: template-api\nspec:\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n"}},
			want:  `allows egress from the database`},

		{name: "service account mounts a token", check: "ServiceAccountTokens",
			edits: []edit{{"  name: ci-deployer\n  namespace: template-api\nautomountServiceAccountToken: false", "  name: ci-deployer\n  namespace: template-api\nautomountServiceAccountToken: true"}},
			want:  `ServiceAccount/template-api/ci-deployer: automountServiceAccountToken is not false`},
		{name: "pod turns the token back on", check: "ServiceAccountTokens",
			edits: []edit{{"      automountServiceAccountToken: false\n      terminationGracePeriodSeconds", "      automountServiceAccountToken: true\n      terminationGracePeriodSeconds"}},
			want:  `pod template sets automountServiceAccountToken: true`},
		{name: "pod on the default account", check: "ServiceAccountTokens",
			edits: []edit{{"      serviceAccountName: postgres\n", ""}},
			want:  `runs as ServiceAccount "default", not declared here`},

		{name: "deployer reads secrets", check: "CIDeployerLeastPrivilege",
			edits: []edit{{`resources: ["pods"]`, `resources: ["pods", "secrets"]`}},
			want:  `rule 2 grants [get list watch] on "secrets"`},
		{name: "deployer creates role bindings", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"  - apiGroups: [\"apps\"]\n", "  - apiGroups: [\"rbac.authorization.k8s.io\"]\n    resources: [\"rolebindings\"]\n    verbs: [\"create\"]\n  - apiGroups: [\"apps\"]\n"}},
			want:  `rule 0 grants [create] on "rolebindings"`},
		{name: "deployer wildcard verbs", check: "CIDeployerLeastPrivilege",
			edits: []edit{{`verbs: ["get", "list", "watch", "create"]`, `verbs: ["*"]`}},
			want:  `rule 0 grants the verb "*"`},
		{name: "deployer changes what it did not make", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"    resourceNames: [\"template-api\"]\n", ""}},
			want:  `rule 1 grants "update" on [deployments] without resourceNames`},
		{name: "deployer bound to a ClusterRole", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"  kind: Role\n  name: ci-deployer\nsubjects", "  kind: ClusterRole\n  name: admin\nsubjects"}},
			want:  `binds the deployer to ClusterRole "admin": only namespaced Roles are allowed`},
		{name: "deployer bound cluster-wide", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"---\napiVersion: external-secrets.io/v1\nkind: SecretStore", "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ci\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n  - kind: ServiceAccount\n    name: ci-deployer\n    namespace: template-api\n---\napiVersion: external-secrets.io/v1\nkind: SecretStore"}},
			want:  `ClusterRoleBinding/ci: binds the deployer (ci-deployer [template-api:ci-deployers]) cluster-wide`},
		{name: "deployer group bound cluster-wide", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"---\napiVersion: external-secrets.io/v1\nkind: SecretStore", "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ci-group\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n  - kind: Group\n    apiGroup: rbac.authorization.k8s.io\n    name: template-api:ci-deployers\n---\napiVersion: external-secrets.io/v1\nkind: SecretStore"}},
			want:  `ClusterRoleBinding/ci-group: binds the deployer`},
		{name: "deployer missing", check: "CIDeployerLeastPrivilege",
			edits: []edit{{"  - kind: ServiceAccount\n    name: ci-deployer\n    namespace: template-api\n  - kind: Group\n    apiGroup: rbac.authorization.k8s.io\n    name: template-api:ci-deployers\n", "  - kind: ServiceAccount\n    name: someone-else\n    namespace: template-api\n"}},
			want:  `no RoleBinding grants ci-deployer anything`},

		{name: "pipeline applies a network policy", check: "CIAppliedObjectsWithinRole",
			edits: []edit{{"kind: NetworkPolicy\nmetadata:\n  name: app-egress\n", "kind: NetworkPolicy\nmetadata:\n  name: app-egress\n  labels:\n    platform-template.io/applied-by: ci-deployer\n"}},
			want:  `NetworkPolicy/template-api/app-egress: labelled for ci-deployer, whose Role does not grant "get" on networkpolicies app-egress`},
		{name: "pipeline patches what its Role does not name", check: "CIAppliedObjectsWithinRole",
			edits: []edit{{`resourceNames: ["template-api"]`, `resourceNames: ["other"]`}},
			want:  `Deployment/template-api/template-api: labelled for ci-deployer, whose Role does not grant "patch" on deployments template-api`},
		{name: "pipeline applies nothing", check: "CIAppliedObjectsWithinRole",
			edits: []edit{{"  labels:\n    platform-template.io/applied-by: ci-deployer\n", ""}},
			want:  `no Deployment is labelled platform-template.io/applied-by=ci-deployer`},

		{name: "secret with data", check: "NoSecretData",
			edits: []edit{{"---\napiVersion: policy/v1\n", "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: template-api\nstringData:\n  password: hunter2\n---\napiVersion: policy/v1\n"}},
			want:  `Secret/template-api/db: Secret carries data in the manifests`},
		{name: "password in a ConfigMap", check: "NoSecretData",
			edits: []edit{{"  AWS_REGION: eu-west-1\n", "  AWS_REGION: eu-west-1\n  DB_PASSWORD: hunter2\n"}},
			want:  `ConfigMap key "DB_PASSWORD" names a credential`},
		{name: "password as a literal env", check: "NoSecretData",
			edits: []edit{{"            - name: DB_PASSWORD_FILE\n              value: /var/run/secrets/db/password\n          resources:\n            requests: {cpu: 100m", "            - name: DB_PASSWORD\n              value: hunter2\n          resources:\n            requests: {cpu: 100m"}},
			want:  `container "api" sets DB_PASSWORD to a literal value`},

		{name: "old External Secrets API", check: "ExternalSecretsV1",
			edits: []edit{{"apiVersion: external-secrets.io/v1\nkind: ExternalSecret", "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret"}},
			want:  `apiVersion external-secrets.io/v1beta1, want external-secrets.io/v1`},
		{name: "static AWS keys", check: "ExternalSecretsV1",
			edits: []edit{{"      auth:\n        jwt:\n          serviceAccountRef:\n            name: external-secrets\n", "      auth:\n        secretRef:\n          accessKeyIDSecretRef:\n            name: aws\n            key: id\n"}},
			want:  `authenticates with static access keys from a Secret`},
		{name: "store account without a role", check: "ExternalSecretsV1",
			edits: []edit{{"    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/eso\n", ""}},
			want:  `ServiceAccount "external-secrets" has no IAM role ARN`},
		{name: "dangling store reference", check: "ExternalSecretsV1",
			edits: []edit{{"    name: aws-secrets-manager\n  target:", "    name: vault\n  target:"}},
			want:  `refers to SecretStore/vault, which this overlay does not define`},

		{name: "app account without a role", check: "AppWorkloadIdentity",
			edits: []edit{{"    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/app\n", ""}},
			want:  `no IAM role ARN in eks.amazonaws.com/role-arn`},

		{name: "replicas in the manifest", check: "AppDeployment",
			edits: []edit{{"    platform-template.io/applied-by: ci-deployer\nspec:\n", "    platform-template.io/applied-by: ci-deployer\nspec:\n  replicas: 2\n"}},
			want:  `sets replicas 2: the HorizontalPodAutoscaler owns the count`},
		{name: "autoscaler keeps too few", check: "AppDeployment",
			override: ptr(invariant.AppDeployment(invariant.App{Name: "template-api", Container: "api", UID: 65532, MinReplicas: 3, DrainAndShutdown: 20})),
			want:     `the HorizontalPodAutoscaler keeps minReplicas 2, want at least 3`},
		{name: "grace period too short", check: "AppDeployment",
			edits: []edit{{"terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 20"}},
			want:  `terminationGracePeriodSeconds 20 is not longer than drain delay plus shutdown timeout (20s)`},
		{name: "scratch space", check: "AppDeployment",
			edits: []edit{{"      volumes:\n        - name: db-password\n", "      volumes:\n        - name: scratch\n          emptyDir: {}\n        - name: db-password\n"}},
			want:  `volume "scratch" is writable scratch space`},
		{name: "writable mount", check: "AppDeployment",
			edits: []edit{{"              mountPath: /etc/ssl/rds\n              readOnly: true\n      volumes", "              mountPath: /etc/ssl/rds\n      volumes"}},
			want:  `container "api" mounts /etc/ssl/rds writable`},
		{name: "readiness on the liveness path", check: "AppDeployment",
			edits: []edit{{"path: /readyz", "path: /healthz"}},
			want:  `readinessProbe checks "/healthz", want "/readyz"`},
		{name: "no zone spread", check: "AppDeployment",
			edits: []edit{{"topologyKey: topology.kubernetes.io/zone", "topologyKey: kubernetes.io/os"}},
			want:  `no topologySpreadConstraint over topology.kubernetes.io/zone`},
		{name: "another user", check: "AppDeployment",
			edits: []edit{{"        runAsUser: 65532\n", "        runAsUser: 1000\n"}},
			want:  `pod does not run as UID and GID 65532`},

		{name: "budget blocks every drain", check: "Availability",
			edits: []edit{{"  minAvailable: 1\n", "  minAvailable: 2\n"}},
			want:  `keeps 2 of 2 replicas: blocks every drain`},
		{name: "budget allows no disruption", check: "Availability",
			edits: []edit{{"  minAvailable: 1\n", "  maxUnavailable: 0\n"}},
			want:  `keeps 2 of 2 replicas: blocks every drain`},
		{name: "no budget", check: "Availability",
			edits: []edit{{"kind: PodDisruptionBudget\nmetadata:\n  name: template-api\n  namespace: template-api\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: template-api", "kind: PodDisruptionBudget\nmetadata:\n  name: template-api\n  namespace: template-api\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: other"}},
			want:  `no PodDisruptionBudget covers its 2 replicas`},
		{name: "budget weaker than asked", check: "Availability",
			override: ptr(invariant.Availability(2)),
			want:     `keeps 1 of 2 pods, want at least 2`},
		{name: "autoscaler minimum of one", check: "Availability",
			edits: []edit{{"  minReplicas: 2\n", "  minReplicas: 1\n"}},
			want:  `minReplicas 1, want at least 2`},
		{name: "no autoscaler", check: "Availability",
			edits: []edit{{"    kind: Deployment\n    name: template-api\n  minReplicas", "    kind: Deployment\n    name: other\n  minReplicas"}},
			want:  `no HorizontalPodAutoscaler scales it`},

		{name: "TLS without verification", check: "DatabaseConnection",
			edits: []edit{{"DB_SSLMODE: verify-full", "DB_SSLMODE: require"}},
			want:  `DB_SSLMODE is "require", want verify-full`},
		{name: "CA bundle not mounted", check: "DatabaseConnection",
			edits: []edit{{"DB_SSLROOTCERT: /etc/ssl/rds/ca.pem", "DB_SSLROOTCERT: /etc/other/ca.pem"}},
			want:  `DB_SSLROOTCERT "/etc/other/ca.pem" is not on a read-only mount`},
		{name: "IAM auth asked for, password used", check: "DatabaseConnection",
			override: ptr(invariant.DatabaseConnection(invariant.Database{App: "template-api", Container: "api", IAMAuth: true})),
			want:     `DB_IAM_AUTH is "", want true`},
		{name: "IAM auth with a password volume", check: "DatabaseConnection",
			override: ptr(invariant.DatabaseConnection(invariant.Database{App: "template-api", Container: "api", IAMAuth: true})),
			want:     `mounts Secret "template-api-db" although RDS IAM auth needs no password`},
	}
	for _, tc := range cases {
		t.Run(tc.check+"/"+tc.name, func(t *testing.T) {
			text := goodFixture(t)
			for _, e := range tc.edits {
				if !strings.Contains(text, e.Old) {
					t.Fatalf("fixture edit does not apply: %q not in testdata/good.yaml", e.Old)
				}
				text = strings.Replace(text, e.Old, e.New, 1)
			}
			c := check(t, tc.check)
			if tc.override != nil {
				c = *tc.override
			}
			found := c.Run(parse(t, text))
			for _, f := range found {
				if f.Check != tc.check {
					t.Errorf("finding reported under %q, want %q: %s", f.Check, tc.check, f)
				}
				if strings.Contains(f.String(), tc.want) {
					return
				}
			}
			t.Errorf("%s did not report %q; findings: %v", tc.check, tc.want, found)
		})
	}
}

func ptr[T any](v T) *T { return &v }
