package release

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/platform-template/template-api/test/e2e/internal/manifests"
)

// Admission asks the real Kyverno engine (the pinned CLI) what the cluster will decide about the
// image: the image policies of the set the demo installs (policies/kyverno/overlays/local,
// trusting the release's key: signature, SBOM, provenance) on the app's Deployment of the kind
// overlay, running the released digest. A release admission would refuse is not a release. (The
// other policies judge the manifests, not the image; they look the cluster up, and are tested
// against the rendered overlays by make test-policies.)
type Admission struct {
	Kyverno string // the kyverno CLI
}

// Decision is what the policies said about the app's Deployment.
type Decision struct {
	Policies []string // the policies applied
	Refusals []string // "REFUSED by Kyverno <policy>: <message>", sorted
}

// Check renders the policies and the Deployment into work and runs `kyverno apply`.
func (a Admission) Check(ctx context.Context, root, work, image string, publicKeyPEM []byte) (Decision, error) {
	if _, err := os.Stat(a.Kyverno); err != nil {
		return Decision{}, fmt.Errorf("the Kyverno CLI (make kyverno-tools): %w", err)
	}
	objs, err := manifests.LocalPolicies(root, work, publicKeyPEM)
	if err != nil {
		return Decision{}, err
	}
	var policies, exceptions []*unstructured.Unstructured
	for _, o := range objs {
		switch group := o.GroupVersionKind().Group; {
		case group == "policies.kyverno.io" && o.GetKind() == "PolicyException":
			exceptions = append(exceptions, o)
		case group == "policies.kyverno.io" && (o.GetKind() == "ImageValidatingPolicy" || o.GetKind() == "NamespacedImageValidatingPolicy"):
			policies = append(policies, o)
		}
	}
	app, err := manifests.KindOverlayWithImage(root, work, image, "")
	if err != nil {
		return Decision{}, err
	}
	var deploy []*unstructured.Unstructured
	for _, o := range app {
		if o.GetKind() == "Deployment" && o.GetName() == ImageName {
			deploy = append(deploy, o)
		}
	}
	if len(deploy) != 1 {
		return Decision{}, fmt.Errorf("the kind overlay has %d Deployments named %s, want 1", len(deploy), ImageName)
	}
	files := map[string][]*unstructured.Unstructured{"policies.yaml": policies, "exceptions.yaml": exceptions, "app.yaml": deploy}
	for name, list := range files {
		if err := writeYAML(filepath.Join(work, name), list); err != nil {
			return Decision{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.Kyverno, "apply", filepath.Join(work, "policies.yaml"), // the pinned Kyverno CLI on the release's files
		"--resource", filepath.Join(work, "app.yaml"), "--exception", filepath.Join(work, "exceptions.yaml"),
		"--policy-report", "--output-format", "json", "--remove-color")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return Decision{}, fmt.Errorf("run kyverno apply: %w", runErr)
	}
	results, err := reportResults(stdout.String())
	if err != nil {
		return Decision{}, fmt.Errorf("%w\n%s%s", err, stdout.String(), stderr.String())
	}
	if len(policies) == 0 {
		return Decision{}, errors.New("the local policy set has no image policy: nothing would check the image")
	}
	var d Decision
	for _, p := range policies {
		d.Policies = append(d.Policies, p.GetName())
	}
	for _, r := range results {
		if r.Result == "fail" || r.Result == "error" {
			d.Refusals = append(d.Refusals, "REFUSED by Kyverno "+r.Policy+": "+r.Message)
		}
	}
	sort.Strings(d.Refusals)
	if runErr != nil && len(d.Refusals) == 0 {
		return Decision{}, fmt.Errorf("kyverno apply failed without a refusal: %w\n%s", runErr, stderr.String())
	}
	return d, nil
}

func writeYAML(path string, objs []*unstructured.Unstructured) error {
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("encode %s/%s: %w", o.GetKind(), o.GetName(), err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

type reportResult struct {
	Policy  string `json:"policy"`
	Result  string `json:"result"`
	Message string `json:"message"`
}

// reportResults reads the policy report `kyverno apply --policy-report --output-format json`
// prints (one JSON document on a line, possibly after other text).
func reportResults(stdout string) ([]reportResult, error) {
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	found := false
	var out []reportResult
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, `{"kind":`)
		if i < 0 {
			continue
		}
		var rep struct {
			Results []reportResult `json:"results"`
		}
		if err := json.Unmarshal([]byte(line[i:]), &rep); err != nil {
			return nil, fmt.Errorf("read the kyverno policy report: %w", err)
		}
		found = true
		out = append(out, rep.Results...)
	}
	if !found {
		return nil, errors.New("kyverno apply printed no policy report")
	}
	return out, sc.Err()
}
