package terraform

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/platform-template/template-api/test/internal/repo"
)

// The roots CI initialises before it plans or applies (terraform.yaml) commit their provider
// lock file, and CI's init reads it with -lockfile=readonly: the provider of every apply is the
// one reviewed, by checksum. `make terraform-init` initialises the same roots against their lock
// files, and the plans of this package copy them, so a lock that does not match the provider
// fails there; this test keeps the files from going away or losing their checksums.
func TestRootsLockTheirProvider(t *testing.T) {
	root := repo.MustRoot(t)
	version := regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	for _, dir := range []string{"terraform/bootstrap", "terraform/envs/staging", "terraform/envs/production"} {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(root, dir, ".terraform.lock.hcl")
			f, diags := hclparse.NewParser().ParseHCLFile(path)
			if diags.HasErrors() {
				t.Fatalf("%s: %v", path, diags)
			}
			body, ok := f.Body.(*hclsyntax.Body)
			if !ok {
				t.Fatalf("%s: not native HCL syntax", path)
			}
			found := false
			for _, b := range body.Blocks {
				if b.Type != "provider" || len(b.Labels) != 1 || b.Labels[0] != "registry.terraform.io/hashicorp/aws" {
					continue
				}
				found = true
				v, diags := b.Body.Attributes["version"].Expr.Value(nil)
				if diags.HasErrors() || !version.MatchString(v.AsString()) {
					t.Errorf("hashicorp/aws: version %#v is not one exact release", v)
				}
				hashes, diags := b.Body.Attributes["hashes"].Expr.Value(nil)
				if diags.HasErrors() {
					t.Fatalf("hashicorp/aws: hashes: %v", diags)
				}
				var h1, zh int
				for _, h := range hashes.AsValueSlice() {
					switch s := h.AsString(); {
					case strings.HasPrefix(s, "h1:"):
						h1++
					case strings.HasPrefix(s, "zh:") && len(s) == len("zh:")+64:
						zh++
					}
				}
				// h1: the package as installed (the mirror CI uses); zh: the registry's
				// checksum of each platform's zip, so init checks a download on any platform.
				if h1 == 0 || zh < 10 {
					t.Errorf("hashicorp/aws: %d h1 and %d zh checksums; want the installed package's and every platform's", h1, zh)
				}
			}
			if !found {
				t.Errorf("%s locks no registry.terraform.io/hashicorp/aws", path)
			}
		})
	}
}
