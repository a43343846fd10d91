package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/shell"
)

// The signing family: images are signed and attested keyless, by the digest that was pushed,
// every verification is exact, and a pushed image carries the evidence admission verifies: a
// CycloneDX SBOM and a SLSA v1 provenance attested with cosign (policies/kyverno/base/
// verify-image-signatures demands both, signed by this workflow's identity).

func checkKeylessSigning(c *Context) []Finding {
	const name = "keyless-signing"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			env := map[string]string{}
			for k, v := range w.Env.Vars {
				env[k] = v
			}
			for k, v := range j.Env.Vars {
				env[k] = v
			}
			for _, cm := range c.commands(w, j) {
				if !signs(cm.cmd) {
					continue
				}
				sub := cosign(cm.cmd)
				line := cm.step.ScriptLine + cm.cmd.Line - 1
				at := func(format string, args ...any) {
					out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`cosign %s` %s", sub, fmt.Sprintf(format, args...)))
				}
				for _, f := range []string{"--key", "--sk", "--slot", "--identity-token", "--oidc-client-secret-file"} {
					if cm.cmd.Has(f) {
						at("uses %s: sign keyless with the workflow's OIDC identity, nothing to leak or rotate", f)
					}
				}
				for _, f := range []string{"--tlog-upload", "--upload"} {
					for _, v := range cm.cmd.Flag(f) {
						if v.Text == "false" {
							at("passes %s=false: the signature would not be in the transparency log that verification checks", f)
						}
					}
				}
				for _, f := range []string{"--fulcio-url", "--rekor-url", "--oidc-issuer", "--oidc-provider"} {
					if cm.cmd.Has(f) {
						at("passes %s: sign with the public Sigstore instance and GitHub's OIDC token", f)
					}
				}
				if slices.ContainsFunc(cm.cmd.Args, func(a shell.Word) bool { return strings.Contains(a.Text, "COSIGN_PASSWORD") }) {
					at("passes COSIGN_PASSWORD on the command line")
				}
				for k := range c.env(w, j, cm.step) {
					if k == "COSIGN_PASSWORD" || k == "COSIGN_KEY" || k == "COSIGN_PRIVATE_KEY" || k == "SIGSTORE_ID_TOKEN" {
						at("runs with %s set: keyless signing needs no key material", k)
					}
				}
				if !hasWrite(w, j, "id-token") || j.Permissions == nil {
					at("runs keyless but the job does not grant id-token: write")
				}
			}
		}
	}
	return dedupeFindings(out)
}

var (
	literalDigest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	stepDigest    = regexp.MustCompile(`^\$\{\{ steps\.([A-Za-z0-9_-]+)\.outputs\.digest \}\}$`)
	ghExprOnly    = regexp.MustCompile(`^\$\{\{ .* \}\}$`)
)

func checkDigestReferences(c *Context) []Finding {
	const name = "digest-references"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			pushIDs := map[string]bool{}
			for _, s := range c.flow(j) {
				if pushStep(s) && s.ID != "" {
					pushIDs[strings.ToLower(s.ID)] = true
				}
			}
			signedDigests := map[string]int{} // digest -> index of the step that signed it
			first := ""                       // the reference of the job's first cosign command
			for _, cm := range c.commands(w, j) {
				line := cm.step.ScriptLine + cm.cmd.Line - 1
				sub := cosign(cm.cmd)
				switch sub {
				case "sign", "attest", "verify", "verify-attestation":
					ref := verifiedRef(cm.cmd)
					_, _, digest := imageRef(ref)
					if !digestLike(digest) {
						out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`cosign %s` names %q, not a digest: a tag can point elsewhere tomorrow; use image@sha256:... (the pushed digest)", sub, ref))
						continue
					}
					if first == "" {
						first = ref
					} else if ref != first {
						out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`cosign %s` names %q, but this job's cosign commands name %q: the signature, every attestation and every verification are of one digest", sub, ref, first))
						continue
					}
					if sub == "sign" || sub == "attest" {
						m := stepDigest.FindStringSubmatch(digest)
						if !literalDigest.MatchString(digest) && (m == nil || !pushIDs[strings.ToLower(m[1])]) {
							out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`cosign %s` signs %q, which is not the digest a push step of this job reported (steps.<push>.outputs.digest)", sub, digest))
							continue
						}
						if sub == "sign" {
							if _, ok := signedDigests[ref]; !ok {
								signedDigests[ref] = cm.step.Index
							}
						} else if i, ok := signedDigests[ref]; !ok || i > cm.step.Index {
							out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`cosign attest` attests %q before (or without) a `cosign sign` of the same reference in this job", ref))
						}
					}
				}
				for _, a := range setImages(cm.cmd) {
					_, ref, _ := strings.Cut(a, "=")
					if _, _, d := imageRef(ref); !digestLike(d) {
						out = append(out, finding(name, c.stepPath(w, cm.step), line, j.ID, "`%s` sets %s by tag, not by digest", cm.cmd.Text, a))
					}
				}
			}
		}
	}
	return out
}

// digestLike accepts a sha256 digest, or an expression or variable the rules follow to one.
func digestLike(d string) bool {
	switch {
	case d == "":
		return false
	case literalDigest.MatchString(d):
		return true
	case ghExprOnly.MatchString(d):
		return strings.Contains(strings.ToLower(d), "digest")
	case strings.HasPrefix(d, "$"):
		return strings.Contains(strings.ToUpper(d), "DIGEST")
	}
	return false
}

func checkVerifySettings(c *Context) []Finding {
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			for _, cm := range c.commands(w, j) {
				sub := cosign(cm.cmd)
				if sub != "verify" && sub != "verify-attestation" {
					continue
				}
				for _, p := range c.verifyProblems(w, cm.cmd, false) {
					out = append(out, finding("verify-settings", c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "`cosign %s` in step %q %s", sub, cm.step.Label(), p))
				}
			}
		}
	}
	return out
}

// EvidenceTypes are the predicate types admission demands, as cosign's --type names them
// (TestPipelineContracts checks them against the policy).
var EvidenceTypes = []string{"cyclonedx", "slsaprovenance1"}

func checkBuildEvidence(c *Context) []Finding {
	const name = "build-evidence"
	var out []Finding
	for _, w := range c.Repo.Workflows {
		for _, j := range w.Jobs {
			if len(c.pushes(w, j)) == 0 {
				continue
			}
			cmds := c.commands(w, j)
			if !slices.ContainsFunc(cmds, func(cm command) bool { return cosign(cm.cmd) == "sign" }) {
				out = append(out, finding(name, w.Path, j.Line, j.ID, "pushes an image it never signs (cosign sign)"))
				continue
			}
			attested := map[string]bool{}
			for i, cm := range cmds {
				if cosign(cm.cmd) != "attest" || len(cm.cmd.Flag("--predicate")) == 0 {
					continue
				}
				t := "custom"
				if v := cm.cmd.Flag("--type"); len(v) > 0 {
					t = v[0].Text
				}
				attested[predicateType(t)] = true
				for _, p := range cm.cmd.Flag("--predicate") {
					if why := predicateOrigin(p.Text, cmds[:i]); why != "" {
						out = append(out, finding(name, c.stepPath(w, cm.step), cm.step.ScriptLine+cm.cmd.Line-1, j.ID, "step %q attests %s as %s, which %s: the evidence is what this job's generator wrote of the image it built", cm.step.Label(), p.Text, evidenceName(t), why))
					}
				}
			}
			for _, t := range EvidenceTypes {
				if !attested[predicateType(t)] {
					out = append(out, finding(name, w.Path, j.Line, j.ID, "signs the image but attests no %s (cosign attest --type %s --predicate ...): admission refuses an image without it", evidenceName(t), t))
				}
			}
		}
	}
	return out
}

func evidenceName(t string) string {
	switch t {
	case "cyclonedx":
		return "CycloneDX SBOM"
	case "slsaprovenance1":
		return "SLSA v1 provenance"
	}
	return t
}

// evidenceGenerators write SBOMs and provenance from what they read of the build: the
// repository's evidence writer (test/e2e/cmd/evidence), and the common SBOM generators.
var evidenceGenerators = map[string]bool{"evidence": true, "syft": true, "trivy": true, "cyclonedx-gomod": true, "cdxgen": true}

// predicateOrigin says why the file an attestation publishes is not evidence this job generated,
// or "": before the attest, it must be written, and only written, by an evidence generator (its
// output flag, or its standard output, through tee at most). A file of the repository, a
// download, a handwritten document or an edit after the generator would attest what no build
// produced (a "clean" SBOM, a provenance naming another builder).
func predicateOrigin(predicate string, before []command) string {
	want := shell.Canonical(strings.Trim(predicate, `"'`))
	generated := false
	for _, cm := range before {
		for _, t := range predicateWrites(cm.cmd) {
			if shell.Canonical(strings.Trim(t.Text, `"'`)) != want {
				continue
			}
			if !generates(cm.cmd) {
				return "`" + cm.cmd.Text + "` writes"
			}
			generated = true
		}
	}
	if !generated {
		return "no evidence generator of this job writes"
	}
	return ""
}

// predicateWrites lists the files a command writes, its generator output flags included.
func predicateWrites(cmd *shell.Command) []shell.Word {
	out := writtenFiles(cmd)
	for _, v := range cmd.Flag("-o", "--output", "-output", "--file", "--output-file") {
		if _, file, ok := strings.Cut(v.Text, "="); ok && base(cmd.Name) == "syft" {
			v.Text = file // syft -o cyclonedx-json=FILE
		}
		out = append(out, v)
	}
	return out
}

// generates reports whether a command is an evidence generator, or tee fed by one. BuildKit's
// own SBOM and provenance of the build, read back from the pushed image (docker buildx
// imagetools inspect --format '{{ json .Provenance.SLSA }}'), count as generated.
func generates(cmd *shell.Command) bool {
	for c := cmd; c != nil; c = c.PipedFrom {
		if evidenceGenerators[base(c.Name)] || buildkitEvidence(c) {
			return true
		}
		if base(c.Name) != "tee" {
			return false
		}
	}
	return false
}

// buildkitEvidence reports whether a command reads BuildKit's SBOM or provenance of an image.
func buildkitEvidence(c *shell.Command) bool {
	if base(c.Name) != "docker" || !slices.ContainsFunc(c.Args, func(a shell.Word) bool { return a.Text == "imagetools" }) {
		return false
	}
	for _, f := range c.Flag("--format") {
		if strings.Contains(f.Text, ".Provenance") || strings.Contains(f.Text, ".SBOM") {
			return true
		}
	}
	return false
}
