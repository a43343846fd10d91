package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Scanner runs Trivy, the scanner of the build-scan-sign workflow, with the workflow's gate:
// fixable HIGH and CRITICAL findings fail the release. Trivy needs its vulnerability database;
// offline there is none, and then the release says so instead of passing silently.
type Scanner struct {
	Trivy    string // the trivy binary; empty: look for `trivy` on PATH
	CacheDir string // Trivy's cache (holds db/trivy.db); empty: Trivy's default
	Require  bool   // fail the release when no scan can run (RELEASE_REQUIRE_SCAN=1)
}

// ScanResult says whether the image was scanned and what came of it.
type ScanResult struct {
	Ran     bool   `json:"ran"`
	Reason  string `json:"reason,omitempty"`  // why it did not run
	Summary string `json:"summary,omitempty"` // what it found
}

// Record is the scan as the provenance records it.
func (s ScanResult) Record() map[string]any {
	if !s.Ran {
		return map[string]any{"ran": false, "reason": s.Reason}
	}
	return map[string]any{"ran": true, "scanner": "trivy", "gate": "fixable HIGH,CRITICAL", "result": s.Summary}
}

// Scan scans img (written to tarPath for Trivy). An image with findings is an error; no scanner
// or no database is a result with Ran false and the reason, or an error when Require is set.
func (s Scanner) Scan(ctx context.Context, img v1.Image, tarPath string) (ScanResult, error) {
	trivy, reason := s.find()
	if reason != "" {
		res := ScanResult{Reason: reason}
		if s.Require {
			return res, errors.New("no vulnerability scan possible and RELEASE_REQUIRE_SCAN is set: " + reason)
		}
		return res, nil
	}
	ref, err := name.NewTag("release.local/" + ImageName + ":scan")
	if err != nil {
		return ScanResult{}, err
	}
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		return ScanResult{}, fmt.Errorf("write the image for the scanner: %w", err)
	}
	args := []string{"image", "--input", tarPath, "--skip-db-update", "--severity", "HIGH,CRITICAL",
		"--ignore-unfixed", "--exit-code", "1", "--format", "table", "--quiet"}
	if s.CacheDir != "" {
		args = append(args, "--cache-dir", s.CacheDir)
	}
	cmd := exec.CommandContext(ctx, trivy, args...) // the scanner on the release's own image
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return ScanResult{Ran: true, Summary: "trivy: no fixable HIGH or CRITICAL vulnerability"}, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return ScanResult{Ran: true, Summary: "trivy: fixable HIGH/CRITICAL vulnerabilities"},
			fmt.Errorf("trivy found fixable HIGH or CRITICAL vulnerabilities (nothing was pushed):\n%s", out.String())
	default:
		return ScanResult{}, fmt.Errorf("trivy: %w\n%s", err, out.String())
	}
}

// find returns the trivy binary, or why there is no scan.
func (s Scanner) find() (string, string) {
	trivy := s.Trivy
	if trivy == "" {
		p, err := exec.LookPath("trivy")
		if err != nil {
			return "", "trivy is not installed (not on PATH), so there is no vulnerability scanner here"
		}
		trivy = p
	} else if _, err := os.Stat(trivy); err != nil {
		return "", "trivy not found at " + trivy
	}
	cache := s.CacheDir
	if cache == "" {
		if c, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(c, "trivy")
		}
	}
	db := filepath.Join(cache, "db", "trivy.db")
	if _, err := os.Stat(db); err != nil {
		return "", "trivy is installed but has no vulnerability database (" + db + " is missing; " +
			"`trivy image --download-db-only` fetches it where the network allows)"
	}
	return trivy, ""
}
