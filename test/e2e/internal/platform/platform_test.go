package platform

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-template/template-api/test/e2e/internal/images"
	"github.com/platform-template/template-api/test/e2e/internal/kube"
	"github.com/platform-template/template-api/test/e2e/internal/manifests"
	"github.com/platform-template/template-api/test/internal/repo"
)

const kyvernoVersion = "v1.19.1"

// rendered caches each declaration's render for the package's tests (Kyverno's manifest is
// large: a render takes seconds).
var rendered = map[string][]*unstructured.Unstructured{}

func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	if objs, ok := rendered[dir]; ok {
		return objs
	}
	objs, err := manifests.Render(filepath.Join(repo.MustRoot(t), dir))
	if err != nil {
		t.Fatal(err)
	}
	rendered[dir] = objs
	return objs
}

// checksumIn reads the "sha256 <hex>" line the declaration's kustomization records.
var checksumLine = regexp.MustCompile(`(?m)^#\s+sha256 ([0-9a-f]{64})$`)

// upstreamManifest is config/install-latest-testing.yaml of the Kyverno module that
// tools/kyverno pins (the go command has checked the module against go.sum).
func upstreamManifest(t *testing.T, r string) []byte {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Dir}}", "github.com/kyverno/kyverno")
	cmd.Dir = filepath.Join(r, "tools", "kyverno")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("find the Kyverno module through tools/kyverno: %v", err)
	}
	version, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if version != kyvernoVersion {
		t.Fatalf("tools/kyverno pins Kyverno %s, the platform declares %s: move both together", version, kyvernoVersion)
	}
	if dir == "" {
		cmd := exec.Command("go", "mod", "download", "github.com/kyverno/kyverno")
		cmd.Dir = filepath.Join(r, "tools", "kyverno")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("download the Kyverno module: %v: %s", err, out)
		}
		return upstreamManifest(t, r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config", "install-latest-testing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVendoredKyvernoIsUpstream: the vendored install manifest is byte for byte the file of the
// pinned Kyverno release, and its recorded checksum is the file's.
func TestVendoredKyvernoIsUpstream(t *testing.T) {
	r := repo.MustRoot(t)
	vendored, err := os.ReadFile(filepath.Join(r, KyvernoDeclaration, "upstream", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(filepath.Join(r, KyvernoDeclaration, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkVendored(vendored, upstreamManifest(t, r), k); err != nil {
		t.Fatal(err)
	}
	// The check itself: one changed byte, or a stale checksum, is caught.
	tampered := bytes.Replace(vendored, []byte("--allowInsecureRegistry=false"), []byte("--allowInsecureRegistry=true "), 1)
	if err := checkVendored(tampered, upstreamManifest(t, r), k); err == nil {
		t.Fatal("a tampered vendored manifest passes the check")
	}
	stale := checksumLine.ReplaceAll(k, []byte("#   sha256 "+strings.Repeat("0", 64)))
	if err := checkVendored(vendored, upstreamManifest(t, r), stale); err == nil {
		t.Fatal("a wrong recorded checksum passes the check")
	}
}

func checkVendored(vendored, upstream, kustomization []byte) error {
	m := checksumLine.FindSubmatch(kustomization)
	if m == nil {
		return fmt.Errorf("the kustomization records no sha256 of upstream/install.yaml")
	}
	sum := sha256.Sum256(vendored)
	if got := hex.EncodeToString(sum[:]); got != string(m[1]) {
		return fmt.Errorf("upstream/install.yaml has sha256 %s, the kustomization records %s", got, m[1])
	}
	if !bytes.Equal(vendored, upstream) {
		return fmt.Errorf("upstream/install.yaml differs from config/install-latest-testing.yaml of Kyverno %s", kyvernoVersion)
	}
	return nil
}

// TestDeclarations: both declarations render; every Kyverno image is the release's; the flags
// the policies need are set everywhere; plain-HTTP registries are allowed only in the local
// declaration, never in the one real clusters get; the image names are the ones the local
// images are built under.
func TestDeclarations(t *testing.T) {
	base, local := render(t, KyvernoDeclaration), render(t, LocalDeclaration)
	for _, tc := range []struct {
		name     string
		objs     []*unstructured.Unstructured
		insecure bool
	}{{"kyverno", base, false}, {"local", local, true}} {
		t.Run(tc.name, func(t *testing.T) {
			args := containerArgs(t, tc.objs, "kyverno-admission-controller")
			for _, want := range []string{"--enablePolicyException=true", "--exceptionNamespace=kyverno", "--generateValidatingAdmissionPolicy=false"} {
				if last(args, flagName(want)) != want {
					t.Errorf("admission controller: %s is %q, want %s", flagName(want), last(args, flagName(want)), want)
				}
			}
			if got := last(args, "--allowInsecureRegistry") == "--allowInsecureRegistry=true"; got != tc.insecure {
				t.Errorf("allowInsecureRegistry=%v, want %v", got, tc.insecure)
			}
			if !hasProtection(tc.objs) {
				t.Error("no ValidatingAdmissionPolicy platform-protect-kyverno bound with Deny: scaling Kyverno to zero would turn every policy off")
			}
			for _, img := range allImages(tc.objs) {
				if strings.HasPrefix(img, "reg.kyverno.io/") && !strings.HasSuffix(img, ":"+kyvernoVersion) {
					t.Errorf("image %s is not Kyverno %s", img, kyvernoVersion)
				}
			}
		})
	}
	want := map[string]bool{images.KyvernoImage: true, images.KyvernoInitImage: true, images.KyvernoBackgroundImage: true, images.RegistryImage: true}
	for _, img := range allImages(local) {
		delete(want, img)
	}
	for img := range want {
		t.Errorf("the local images include %s, which the local declaration does not run", img)
	}
}

// TestKyvernoConfigIsThePlatforms: both declarations run Kyverno with the platform's own
// configuration (k8s/cluster/kyverno-config.yaml), unchanged, in place of upstream's.
func TestKyvernoConfigIsThePlatforms(t *testing.T) {
	want, err := kube.DecodeFile(filepath.Join(repo.MustRoot(t), "k8s", "cluster", "kyverno-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantData, _, _ := unstructured.NestedStringMap(want[0].Object, "data")
	for _, dir := range []string{KyvernoDeclaration, LocalDeclaration} {
		var found []map[string]string
		for _, o := range render(t, dir) {
			if o.GetKind() == "ConfigMap" && o.GetNamespace() == KyvernoNamespace && o.GetName() == "kyverno" {
				d, _, _ := unstructured.NestedStringMap(o.Object, "data")
				found = append(found, d)
			}
		}
		if len(found) != 1 || !reflect.DeepEqual(found[0], wantData) {
			t.Errorf("%s: Kyverno's ConfigMap is not k8s/cluster/kyverno-config.yaml's (%d found)", dir, len(found))
		}
	}
}

func containerArgs(t *testing.T, objs []*unstructured.Unstructured, deployment string) []string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == deployment {
			cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			var args []string
			for _, a := range cs[0].(map[string]any)["args"].([]any) {
				args = append(args, a.(string))
			}
			return args
		}
	}
	t.Fatalf("no Deployment %s", deployment)
	return nil
}

func flagName(f string) string { n, _, _ := strings.Cut(f, "="); return n }

// last is the last occurrence of a flag (the one Go's flag package keeps).
func last(args []string, flag string) string {
	got := ""
	for _, a := range args {
		if flagName(a) == flag {
			got = a
		}
	}
	return got
}

func allImages(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		for _, field := range []string{"containers", "initContainers"} {
			cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", field)
			for _, c := range cs {
				out = append(out, c.(map[string]any)["image"].(string))
			}
		}
	}
	return out
}

func hasProtection(objs []*unstructured.Unstructured) bool {
	policy, bound := false, false
	for _, o := range objs {
		switch {
		case o.GetKind() == "ValidatingAdmissionPolicy" && o.GetName() == "platform-protect-kyverno":
			policy = true
		case o.GetKind() == "ValidatingAdmissionPolicyBinding" && o.GetName() == "platform-protect-kyverno":
			actions, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "validationActions")
			bound = strings.Join(actions, ",") == "Deny"
		}
	}
	return policy && bound
}

// TestReportsControllerReads: the reports controller may read every resource a platform policy
// matches, or Kyverno never calls that policy Ready. A ValidatingAdmissionPolicy is scanned only
// when it carries the label reports.kyverno.io/enabled: "true" (Kyverno v1.19.1,
// pkg/controllers/report/utils/utils.go, FetchValidatingAdmissionPolicies); the API server
// enforces the others without Kyverno reading what they match (Secrets, for one).
func TestReportsControllerReads(t *testing.T) {
	r := repo.MustRoot(t)
	granted := map[string]bool{}
	for _, o := range render(t, KyvernoDeclaration) {
		if o.GetKind() != "ClusterRole" || o.GetLabels()["rbac.kyverno.io/aggregate-to-reports-controller"] != "true" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
		for _, rule := range rules {
			m := rule.(map[string]any)
			if !hasAll(m["verbs"], "get", "list", "watch") {
				continue
			}
			for _, g := range m["apiGroups"].([]any) {
				for _, res := range m["resources"].([]any) {
					granted[g.(string)+"/"+res.(string)] = true
				}
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(r, "policies", "kyverno", "base", "*", "policy.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no policies found (%v)", err)
	}
	matched := 0
	for _, f := range files {
		objs, err := kube.DecodeFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.GetKind() == "ValidatingAdmissionPolicy" && o.GetLabels()["reports.kyverno.io/enabled"] != "true" {
				continue
			}
			rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "matchConstraints", "resourceRules")
			for _, rule := range rules {
				m := rule.(map[string]any)
				for _, g := range m["apiGroups"].([]any) {
					for _, res := range m["resources"].([]any) {
						matched++
						if key := g.(string) + "/" + res.(string); !granted[key] {
							t.Errorf("%s matches %s, which the reports controller may not read: add it to k8s/platform/kyverno/reports-rbac.yaml", o.GetName(), key)
						}
					}
				}
			}
		}
	}
	if matched == 0 {
		t.Fatal("no policy matches any resource: the check saw nothing")
	}
}

func hasAll(list any, want ...string) bool {
	have := map[string]bool{}
	items, _ := list.([]any)
	for _, v := range items {
		have[v.(string)] = true
	}
	for _, w := range want {
		if !have[w] && !have["*"] {
			return false
		}
	}
	return true
}
