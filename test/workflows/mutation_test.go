package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The checks must see the real workflows, not only the fixtures: each case breaks one rule in a
// copy of a real workflow (the way the article's workflow broke it) and expects the check to fire.
func TestChecksFireOnMutatedRealWorkflows(t *testing.T) {
	cases := []struct {
		name, file, old, new, check, reason string
	}{
		{"scan that never fails", "build-scan-sign.yaml", `exit-code: "1"`, `exit-code: "0"`, "scan-before-push", "does not fail the job"},
		{"scan after the push", "build-scan-sign.yaml", "      - name: Scan the image with Trivy", "      - name: Scan the image with Trivy\n        if: ${{ github.event_name == 'pull_request' }}", "scan-before-push", "runs only if"},
		{"trivy-action by tag", "build-scan-sign.yaml", "aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25 # v0.36.0", "aquasecurity/trivy-action@master", "pinned-actions", "is not pinned to a full 40-hex commit SHA"},
		{"sign by tag", "build-scan-sign.yaml", `cosign sign --yes "${IMAGE}@${DIGEST}"`, `cosign sign --yes "${IMAGE}:latest"`, "digest-references", "not a digest"},
		{"sign with a key", "build-scan-sign.yaml", `cosign sign --yes "${IMAGE}@${DIGEST}"`, `cosign sign --yes --key env://COSIGN_PASSWORD "${IMAGE}@${DIGEST}"`, "keyless-signing", "uses a key"},
		{"id-token for the whole workflow", "build-scan-sign.yaml", "permissions: {}", "permissions:\n  id-token: write", "permissions", "top-level permissions grant write to id-token"},
		{"verify any identity", "deploy.yaml", `--certificate-identity "$identity"`, `--certificate-identity-regexp ".*"`, "verify-before-deploy", "not this repository's build-scan-sign workflow"},
		{"verify another issuer", "deploy.yaml", "--certificate-oidc-issuer https://token.actions.githubusercontent.com \\\n            --certificate-github", "--certificate-oidc-issuer https://accounts.google.com \\\n            --certificate-github", "verify-before-deploy", "trusts OIDC issuer"},
		{"overlay by tag", "deploy.yaml", `"template-api=${IMAGE}@${DIGEST}"`, `"template-api=${IMAGE}:main"`, "digest-references", "sets a tag, not a digest"},
		{"production without environment", "deploy.yaml", "    environment: production\n", "", "deploy-environment", "outside a GitHub environment"},
		{"job output pasted into a script", "deploy.yaml", `kubectl apply -k "$OVERLAY"`, `kubectl apply -k "k8s/overlays/${{ needs.resolve.outputs.environment }}"`, "no-expressions-in-run", "data an outsider or an earlier step controls"},
		{"PostgreSQL by tag", "ci.yaml", "image: postgres:15-alpine@sha256:fe0737ba566a2c5b2a28f34433c0a423261900ec17b9bf7ad115e1aae7e57f1b", "image: postgres:15-alpine", "pinned-images", "is not pinned by digest"},
		{"BuildKit by tag", "build-scan-sign.yaml", "driver-opts: image=moby/buildkit:v0.33.0@sha256:6c2fa84a6b61ccd72899dde4239f8d5717f05f9a8ca6f3cad185fb1a95a94de3", "driver-opts: image=moby/buildkit:latest", "pinned-images", "setup-buildx runs BuildKit from \"moby/buildkit:latest\""},
		{"checkout keeps the token", "ci.yaml", "persist-credentials: false", "persist-credentials: true", "checkout-credentials", "without persist-credentials: false"},
		{"pull_request_target", "ci.yaml", "  pull_request:\n", "  pull_request_target:\n", "no-pull-request-target", "runs on pull_request_target"},
		{"no timeout", "e2e.yaml", "    timeout-minutes: 60\n", "", "timeouts", "no timeout-minutes"},
		{"stored AWS keys", "terraform.yaml", "          role-to-assume: ${{ vars[matrix.plan-role] }}\n", "          role-to-assume: ${{ vars[matrix.plan-role] }}\n          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n", "no-static-cloud-credentials", "reads stored AWS keys"},
		{"apply without environment", "terraform.yaml", "    environment: staging\n", "", "deploy-environment", "outside a GitHub environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(repoRoot(t), ".github", "workflows", tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), tc.old) {
				t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
			}
			w, err := Parse(tc.file, []byte(strings.Replace(string(data), tc.old, tc.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range Run(w) {
				if f.Check == tc.check && strings.Contains(f.Message, tc.reason) {
					return
				}
			}
			t.Errorf("[%s] did not fire with %q on the mutated %s; findings:\n%s", tc.check, tc.reason, tc.file, list(Run(w)))
		})
	}
}
