package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/platform-template/template-api/test/e2e/internal/provenance"
	"github.com/platform-template/template-api/test/internal/cosign"
)

// Evidence is what a release attaches to an image, and the ways it can be wrong. The end-to-end
// tests attach it to their images with the run's key, and each wrong kind to an image of its own,
// so that admission is shown refusing every one for its reason.
type Evidence int

// The kinds of evidence an image can carry.
const (
	Released           Evidence = iota // signature, SBOM and provenance, as make release attaches them
	Unsigned                           // nothing at all
	SignedByOtherKey                   // everything, signed and attested with a key the platform does not trust
	SignedOnly                         // a signature and nothing else
	NoSBOM                             // signature and provenance, no SBOM
	NoProvenance                       // signature and SBOM, no provenance
	OtherBuilder                       // provenance from a builder the platform does not trust
	OtherRepository                    // provenance naming another repository as the source
	AttestedByOtherKey                 // signed with the trusted key, attestations by another key
)

var evidenceNames = map[Evidence]string{
	Released: "released", Unsigned: "unsigned", SignedByOtherKey: "signed-by-other-key", SignedOnly: "signed-only",
	NoSBOM: "no-sbom", NoProvenance: "no-provenance", OtherBuilder: "other-builder",
	OtherRepository: "other-repository", AttestedByOtherKey: "attested-by-other-key",
}

func (e Evidence) String() string { return evidenceNames[e] }

// Builders and sources the wrong kinds claim.
const (
	ForeignBuilderID  = "https://github.com/someone-else/builder/.github/workflows/build.yaml@refs/heads/main"
	ForeignRepository = "https://github.com/someone-else/template-api"
)

// Attester attaches evidence with cosign: the run's key is the trusted one, Other is not.
type Attester struct {
	Cosign cosign.CLI
	Key    cosign.KeyPair
	Other  cosign.KeyPair
	SBOM   string // an SBOM file (CycloneDX JSON) to attest
	Dir    string // where the provenance predicates are written
	Commit string // the source commit the provenance names

	mu    sync.Mutex
	files map[string]string // provenance files by builder and repository
}

// NewAttester makes the run's key pair and another one in dir, and writes the predicates there.
// sbomFile is the SBOM every image is attested with (the service binary's).
func NewAttester(ctx context.Context, c cosign.CLI, dir, sbomFile, commit string) (*Attester, error) {
	key, err := c.GenerateKeyPair(ctx, dir, "cosign")
	if err != nil {
		return nil, err
	}
	return NewAttesterWithKey(ctx, c, dir, key, sbomFile, commit)
}

// NewAttesterWithKey attests with a key that exists (a release's), and makes the other one.
func NewAttesterWithKey(ctx context.Context, c cosign.CLI, dir string, key cosign.KeyPair, sbomFile, commit string) (*Attester, error) {
	other, err := c.GenerateKeyPair(ctx, dir, "other")
	if err != nil {
		return nil, err
	}
	return &Attester{Cosign: c, Key: key, Other: other, SBOM: sbomFile, Dir: dir, Commit: commit}, nil
}

// Attach gives the image at ref (a digest reference) the evidence e.
func (a *Attester) Attach(ctx context.Context, ref string, e Evidence) error {
	signKey, attestKey := a.Key, a.Key
	sbom, prov := true, true
	builder, repo := LocalBuilderID, SourceRepository
	switch e {
	case Released:
	case Unsigned:
		return nil
	case SignedByOtherKey:
		signKey, attestKey = a.Other, a.Other
	case SignedOnly:
		sbom, prov = false, false
	case NoSBOM:
		sbom = false
	case NoProvenance:
		prov = false
	case OtherBuilder:
		builder = ForeignBuilderID
	case OtherRepository:
		repo = ForeignRepository
	case AttestedByOtherKey:
		attestKey = a.Other
	default:
		return fmt.Errorf("unknown evidence %d", e)
	}
	if err := a.Cosign.Sign(ctx, signKey, ref); err != nil {
		return err
	}
	if sbom {
		if err := a.Cosign.Attest(ctx, attestKey, ref, "cyclonedx", a.SBOM); err != nil {
			return err
		}
	}
	if prov {
		file, err := a.predicate(builder, repo)
		if err != nil {
			return err
		}
		if err := a.Cosign.Attest(ctx, attestKey, ref, "slsaprovenance1", file); err != nil {
			return err
		}
	}
	return nil
}

// predicate writes (once) the provenance of a local release by builder from repo.
func (a *Attester) predicate(builder, repo string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := builder + " " + repo
	if f, ok := a.files[key]; ok {
		return f, nil
	}
	if a.files == nil {
		a.files = map[string]string{}
	}
	file := filepath.Join(a.Dir, fmt.Sprintf("provenance-%d.json", len(a.files)))
	now := time.Now()
	p, err := provenance.New(provenance.Inputs{
		BuildType:    provenance.LocalBuildType,
		BuilderID:    builder,
		Source:       provenance.Source{Repository: repo, Ref: "refs/heads/main", Commit: a.Commit},
		WorkflowPath: BuildDefinition,
		Toolchain:    "go1.26",
		Started:      now,
		Finished:     now,
	})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode provenance: %w", err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return "", fmt.Errorf("write provenance: %w", err)
	}
	a.files[key] = file
	return file, nil
}
