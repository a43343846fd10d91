package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// What the issue asks of build-scan-sign and deploy beyond the general rules: the facts a
// reviewer would look for in these two files. Each contract is shown failing on a mutated copy.

// buildContract lists what build-scan-sign.yaml lacks.
func buildContract(w *Workflow) []string {
	var missing []string
	if !slices.Contains(w.Triggers, "push") {
		missing = append(missing, "runs on push (main and tags)")
	}
	idx := slices.IndexFunc(w.Jobs, func(j Job) bool { return slices.ContainsFunc(j.Steps, Step.pushes) })
	if idx < 0 {
		return append(missing, "a job that pushes the image")
	}
	j := w.Jobs[idx]
	push := j.Steps[slices.IndexFunc(j.Steps, Step.pushes)]
	if sbom := push.With["sbom"]; sbom != "true" && !strings.HasPrefix(sbom, "generator=") {
		missing = append(missing, "the push build records an SBOM (sbom: true or generator=...)")
	}
	if p := push.With["provenance"]; p != "true" && !strings.HasPrefix(p, "mode=") {
		missing = append(missing, "the push build records provenance")
	}
	if !slices.ContainsFunc(j.Steps, func(s Step) bool {
		return s.Action() == "docker/build-push-action" && s.With["load"] == "true" && s.Index < push.Index
	}) {
		missing = append(missing, "an image built and loaded locally before the push")
	}
	scan := slices.IndexFunc(j.Steps, Step.trivyImageScan)
	if scan < 0 || j.Steps[scan].With["ignore-unfixed"] != "true" {
		missing = append(missing, "the scan fails on fixable vulnerabilities only (ignore-unfixed: true)")
	}
	if !slices.ContainsFunc(j.Steps, func(s Step) bool {
		return s.Action() == "github/codeql-action/upload-sarif" && strings.Contains(s.If, "!cancelled()")
	}) {
		missing = append(missing, "the SARIF is uploaded even when the scan fails (if: !cancelled())")
	}
	if !j.runs(cosignCmd, "sign") {
		missing = append(missing, "cosign sign")
	}
	if !slices.ContainsFunc(j.Steps, func(s Step) bool {
		return slices.ContainsFunc(cosignCmd.find(s.Run, "attest"), func(a []string) bool { return flagArg(a, "--predicate") != "" })
	}) {
		missing = append(missing, "cosign attest of the SBOM (--predicate)")
	}
	if !strings.Contains(j.Outputs["digest"], "outputs.digest") {
		missing = append(missing, "the digest as a job output")
	}
	return missing
}

// deployContract lists what deploy.yaml lacks.
func deployContract(w *Workflow) []string {
	var missing []string
	for _, trig := range []string{"workflow_run", "workflow_dispatch"} {
		if !slices.Contains(w.Triggers, trig) {
			missing = append(missing, "runs on "+trig)
		}
	}
	byEnv := map[string]Job{}
	for _, j := range w.Jobs {
		if j.Environment != "" {
			byEnv[j.Environment] = j
		}
	}
	for _, env := range []string{"staging", "production"} {
		j, ok := byEnv[env]
		if !ok {
			missing = append(missing, "a job in the "+env+" environment")
			continue
		}
		if !j.uses("aws-actions/configure-aws-credentials") {
			missing = append(missing, env+" assumes its role through OIDC")
		}
		overlay := j.Env["OVERLAY"]
		if overlay != "k8s/overlays/"+env {
			missing = append(missing, fmt.Sprintf("%s sets the image in k8s/overlays/%s (OVERLAY is %q)", env, env, overlay))
		}
		if !slices.ContainsFunc(j.Steps, func(s Step) bool {
			return slices.ContainsFunc(kustomizeCmd.find(s.Run, "image"), func(a []string) bool {
				return len(a) > 1 && strings.HasPrefix(a[1], "template-api=")
			})
		}) {
			missing = append(missing, env+" runs `kustomize edit set image template-api=...`")
		}
	}
	if prod, ok := byEnv["production"]; ok {
		if staging, ok := byEnv["staging"]; !ok || !slices.Contains(prod.Needs, staging.ID) {
			missing = append(missing, "production needs staging")
		}
	}
	return missing
}

func TestPipelineContracts(t *testing.T) {
	contracts := []struct {
		file  string
		check func(*Workflow) []string
		// a mutation of the real file that the contract must refuse, and why
		old, new, reason string
	}{
		{"build-scan-sign.yaml", buildContract, "          sbom: generator=", "          sbom: false\n          x-was: ", "records an SBOM"},
		{"build-scan-sign.yaml", buildContract, "          provenance: mode=max\n", "          provenance: false\n", "records provenance"},
		{"build-scan-sign.yaml", buildContract, "          ignore-unfixed: true\n", "", "ignore-unfixed"},
		{"build-scan-sign.yaml", buildContract, "--predicate \"$sbom\"", "", "cosign attest of the SBOM"},
		{"build-scan-sign.yaml", buildContract, "      digest: ${{ steps.digest.outputs.digest }}\n", "", "the digest as a job output"},
		{"build-scan-sign.yaml", buildContract, "        if: ${{ !cancelled() && (steps.scan.outcome", "        if: ${{ success() && (steps.scan.outcome", "uploaded even when the scan fails"},
		{"deploy.yaml", deployContract, "      OVERLAY: k8s/overlays/production\n", "      OVERLAY: k8s/overlays/staging\n", "production sets the image in k8s/overlays/production"},
		{"deploy.yaml", deployContract, "    needs: [resolve, staging]\n", "    needs: [resolve]\n", "production needs staging"},
		{"deploy.yaml", deployContract, "  workflow_dispatch:\n", "  repository_dispatch:\n", "runs on workflow_dispatch"},
	}
	checked := map[string]bool{}
	for _, c := range contracts {
		data, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !checked[c.file] {
			checked[c.file] = true
			t.Run(c.file, func(t *testing.T) {
				w, err := Parse(c.file, data)
				if err != nil {
					t.Fatal(err)
				}
				if missing := c.check(w); len(missing) > 0 {
					t.Errorf("%s lacks: %s", c.file, strings.Join(missing, "; "))
				}
			})
		}
		t.Run(c.file+" refuses a copy without: "+c.reason, func(t *testing.T) {
			if !strings.Contains(string(data), c.old) {
				t.Fatalf("%s no longer contains %q: update this case", c.file, c.old)
			}
			w, err := Parse(c.file, []byte(strings.Replace(string(data), c.old, c.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			missing := c.check(w)
			if !slices.ContainsFunc(missing, func(m string) bool { return strings.Contains(m, c.reason) }) {
				t.Errorf("mutated %s: want a missing %q, got %q", c.file, c.reason, missing)
			}
		})
	}
}
