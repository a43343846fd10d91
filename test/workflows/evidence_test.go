package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/platform-template/template-api/test/internal/repo"
	"github.com/platform-template/template-api/test/workflows/mutate"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/rules"
)

// The workflows and admission agree on the evidence: the build attests exactly the predicate
// types the image policy verifies (rules.EvidenceTypes is that list, and build-evidence demands
// it), writes its provenance with the writer make release uses, and installs the cosign that
// tools/kyverno pins, the version Kyverno verifies with.

const policyFile = "policies/kyverno/base/verify-image-signatures/policy.yaml"

// signatureType is the statement cosign v3 makes for a signature; the policy asks for it to
// demand the signature itself, the workflows make it with `cosign sign`.
const signatureType = "https://sigstore.dev/cosign/sign/v1"

// policyEvidence reads the predicate types of the image policy's in-toto attestations, the
// signature's statement left out.
func policyEvidence(policy []byte) ([]string, error) {
	var doc struct {
		Spec struct {
			Attestations []struct {
				Name   string `yaml:"name"`
				InToto *struct {
					Type string `yaml:"type"`
				} `yaml:"intoto"`
			} `yaml:"attestations"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(policy, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", policyFile, err)
	}
	var out []string
	for _, a := range doc.Spec.Attestations {
		if a.InToto != nil && a.InToto.Type != signatureType {
			out = append(out, a.InToto.Type)
		}
	}
	slices.Sort(out)
	return out, nil
}

// cosignPin is the cosign version tools/kyverno/go.mod requires.
func cosignPin(goMod []byte) string {
	for _, line := range strings.Split(string(goMod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "github.com/sigstore/cosign/v3" {
			return f[1]
		}
	}
	return ""
}

// evidenceContract lists what disagrees between the workflows (repo), the policy and the pin.
func evidenceContract(repo *pipeline.Repo, policy, goMod []byte) []string {
	var out []string
	want, err := policyEvidence(policy)
	if err != nil {
		return []string{err.Error()}
	}
	var demanded []string
	for _, t := range rules.EvidenceTypes {
		demanded = append(demanded, rules.PredicateType(t))
	}
	slices.Sort(demanded)
	if !slices.Equal(want, demanded) {
		out = append(out, fmt.Sprintf("the policy verifies attestations %v, the workflow rules demand %v", want, demanded))
	}
	pin := cosignPin(goMod)
	installers, provenanceWriter, sbomWriter := 0, false, false
	for _, w := range repo.Workflows {
		for _, j := range w.Jobs {
			for _, s := range repo.Flow(j) {
				if s.Action() == "sigstore/cosign-installer" {
					installers++
					if got := s.With["cosign-release"]; got != pin {
						out = append(out, fmt.Sprintf("%s job %s installs cosign %q; tools/kyverno pins %q", w.Path, j.ID, got, pin))
					}
				}
				provenanceWriter = provenanceWriter || strings.Contains(s.Run, "evidence provenance -github")
				sbomWriter = sbomWriter || strings.Contains(s.Run, "evidence sbom ")
			}
		}
	}
	if installers == 0 {
		out = append(out, "no workflow installs cosign")
	}
	if !provenanceWriter || !sbomWriter {
		out = append(out, "the build writes its SBOM and provenance with test/e2e/cmd/evidence (`evidence sbom`, `evidence provenance -github`), the code make release uses")
	}
	return out
}

func TestWorkflowsAttestWhatAdmissionVerifies(t *testing.T) {
	root := repo.MustRoot(t)
	policy, err := os.ReadFile(filepath.Join(root, policyFile))
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "tools", "kyverno", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	base := realFiles(t)
	if problems := evidenceContract(pipeline.New(root, base), policy, goMod); len(problems) > 0 {
		t.Fatalf("the real tree: %s", strings.Join(problems, "; "))
	}
	g := &gen{t: t, base: base}
	installer := func(p place) bool { return p.step != nil && mutate.Uses(p.step) == "sigstore/cosign-installer" }
	cases := []struct {
		name, want    string
		variants      []variant
		policy, goMod []byte
	}{
		{name: "another cosign installed", want: "installs cosign", variants: g.steps(installer, setWith("cosign-release", "v2.6.5"))},
		{name: "cosign at the installer's default", want: "installs cosign", variants: g.steps(installer, func(p place) bool {
			return mutate.Delete(with(p.step), "cosign-release")
		})},
		{name: "the provenance written by hand", want: "evidence provenance -github", variants: g.steps(func(p place) bool {
			return p.step != nil && strings.Contains(mutate.Str(p.step, "run"), "evidence provenance -github")
		}, replaceInRun(".run/bin/evidence provenance -github -dockerfile Dockerfile", `echo '{"buildDefinition":{}}'`, 1))},
		{name: "the policy asks for an SPDX SBOM", want: "the policy verifies attestations",
			policy: []byte(strings.Replace(string(policy), "type: https://cyclonedx.org/bom", "type: https://spdx.dev/Document", 1))},
		{name: "tools/kyverno moves cosign", want: "tools/kyverno pins",
			goMod: []byte(strings.Replace(string(goMod), "github.com/sigstore/cosign/v3 "+cosignPin(goMod), "github.com/sigstore/cosign/v3 v3.99.0", 1))},
	}
	for _, tc := range cases {
		vs := tc.variants
		if tc.policy != nil || tc.goMod != nil {
			vs = []variant{{target: "tree", files: base}}
		}
		if len(vs) == 0 {
			t.Errorf("%s: nothing to change in the real tree", tc.name)
		}
		p, m := policy, goMod
		if tc.policy != nil {
			if string(tc.policy) == string(policy) {
				t.Fatalf("%s: the policy edit changed nothing", tc.name)
			}
			p = tc.policy
		}
		if tc.goMod != nil {
			if string(tc.goMod) == string(goMod) {
				t.Fatalf("%s: the go.mod edit changed nothing", tc.name)
			}
			m = tc.goMod
		}
		for _, v := range vs {
			t.Run(tc.name+"/"+v.target, func(t *testing.T) {
				problems := evidenceContract(pipeline.New(root, v.files), p, m)
				if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, tc.want) }) {
					t.Errorf("want a problem naming %q, got %q", tc.want, problems)
				}
			})
		}
	}
}
