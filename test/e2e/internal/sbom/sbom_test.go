package sbom

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/internal/repo"
)

func generator(t *testing.T) Generator {
	t.Helper()
	g, err := Find(repo.Tool(t, "CYCLONEDX_GOMOD_BIN", "cyclonedx-gomod", "cyclonedx-gomod"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestBinary: the SBOM of a real Go binary lists what it links (here the generator's own binary,
// built from tools/kyverno: its modules are on record in its build information), names the
// version given, and records the generator's real version rather than the v0.0.0-unknown a
// wrapper-module build reports.
func TestBinary(t *testing.T) {
	g := generator(t)
	if !strings.HasPrefix(g.Version(), "v1.") {
		t.Fatalf("generator version %q, want the module version from its build info", g.Version())
	}
	doc, err := g.Binary(context.Background(), g.Path, "9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s.Main, "@9.9.9") {
		t.Errorf("main component %q", s.Main)
	}
	if !strings.Contains(string(doc), `"name": "github.com/CycloneDX/cyclonedx-go"`) || !strings.Contains(string(doc), `"name": "std"`) {
		t.Errorf("the SBOM misses a linked module or the standard library (%d components)", s.Components)
	}
	if strings.Contains(string(doc), "v0.0.0-unknown") {
		t.Error("the SBOM still records the generator as v0.0.0-unknown")
	}
}

func TestFindRefusesOtherBinaries(t *testing.T) {
	if _, err := Find(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing generator was accepted")
	}
	self, err := os.Executable() // a Go binary, but not cyclonedx-gomod
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Find(self); err == nil || !strings.Contains(err.Error(), "not a cyclonedx-gomod build") {
		t.Errorf("Find(test binary) = %v, want refused", err)
	}
}

func TestFixRefusesNonSBOMs(t *testing.T) {
	g := Generator{version: "v1.10.0"}
	cases := map[string]string{
		"not JSON":      "cyclonedx-gomod: error",
		"other format":  `{"spdxVersion":"SPDX-2.3","components":[{}]}`,
		"no components": `{"bomFormat":"CycloneDX","components":[]}`,
	}
	for name, doc := range cases {
		if _, err := g.fix([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, doc := range map[string]string{
		"1.4 tools": `{"bomFormat":"CycloneDX","components":[{}],"metadata":{"tools":[{"name":"cyclonedx-gomod","version":"v0.0.0-unknown"}]}}`,
		"1.5 tools": `{"bomFormat":"CycloneDX","components":[{}],"metadata":{"tools":{"components":[{"name":"cyclonedx-gomod","version":"v0.0.0-unknown"}]}}}`,
	} {
		out, err := g.fix([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil || !strings.Contains(string(out), `"version": "v1.10.0"`) {
			t.Errorf("%s: tool version not set: %s", name, out)
		}
	}
}
