// Package identity holds the three names a copy of the template is known by (Go module path,
// app name, GitHub repository), their validation, and how the current ones are read from a tree.
package identity

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Identity is what the rename rewrites.
type Identity struct {
	// Module is the Go module path of the service, e.g. github.com/acme/payments.
	Module string
	// Name is the app name: image, Kubernetes namespace, Deployment, labels, Terraform prefixes.
	Name string
	// Repo is the GitHub repository owner/name that the signature subject and the OIDC trust name.
	Repo string
}

// Owner is the owner part of Repo.
func (id Identity) Owner() string {
	owner, _, _ := strings.Cut(id.Repo, "/")
	return owner
}

func (id Identity) String() string {
	return fmt.Sprintf("module %s, name %s, repository %s", id.Module, id.Name, id.Repo)
}

// MaxNameLength keeps the names Terraform derives from the app name within AWS limits: the state
// bucket "<name>-tfstate-<12-digit account>" (S3: 63) and roles such as "<name>-production-..."
// (IAM: 64).
const MaxNameLength = 30

// reservedNames are namespaces the cluster or the platform already owns, or to which a
// guardrail gives a meaning: the app's namespace takes the app's name, and in these it would run
// unguarded (local-path-storage: Pod Security and Kyverno skip it, like kube-system) or allowed
// more (ingress-nginx: NodePort and LoadBalancer Services). Every kube- name is Kubernetes'.
var reservedNames = map[string]string{
	"default":            "the default namespace is refused by the disallow-default-namespace policy",
	"kyverno":            "it is the admission controller's namespace",
	"local-path-storage": "it is the storage provisioner's namespace, which Pod Security and Kyverno do not judge: the app would run unguarded",
	"ingress-nginx":      "it is the ingress controller's namespace, where NodePort and LoadBalancer Services are allowed",
}

var dns1035Label = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// ValidateName accepts a name Kubernetes takes as a namespace, a Deployment, a label value and a
// Service name (a DNS-1035 label: the strictest of the four), short enough for the AWS names
// derived from it.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("NAME is empty: give the app name, e.g. NAME=payments")
	case len(name) > MaxNameLength:
		return fmt.Errorf("NAME %q is %d characters: at most %d, so that the AWS names derived from it (state bucket %s-tfstate-<account>, IAM roles %s-production-...) stay within AWS limits", name, len(name), MaxNameLength, name, name)
	case !dns1035Label.MatchString(name):
		return fmt.Errorf("NAME %q is not a name Kubernetes accepts for a namespace and a Service: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (a DNS-1035 label), e.g. payments or order-api", name)
	}
	if why, ok := reservedNames[name]; ok {
		return fmt.Errorf("NAME %q is reserved: %s", name, why)
	}
	if strings.HasPrefix(name, "kube-") {
		return fmt.Errorf("NAME %q is reserved: names starting with kube- are the cluster's own namespaces", name)
	}
	return nil
}

// ReservedNamespaces are the namespaces ValidateName refuses by name (kube-* aside), for the
// test that keeps them equal to what the guardrails skip or allow more.
func ReservedNamespaces() []string {
	return slices.Sorted(maps.Keys(reservedNames))
}

// ValidateModule accepts a Go module path the go command accepts for a module of its own: the
// rules of golang.org/x/mod/module.CheckPath (a dotted, lowercase first element; elements of
// letters, digits and "-._~"; no empty, dot-only or dot-edged element).
func ValidateModule(path string) error {
	if path == "" {
		return errors.New("MODULE is empty: give the Go module path, e.g. MODULE=github.com/acme/payments")
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("MODULE %q is not a Go module path: %s (e.g. github.com/acme/payments)", path, fmt.Sprintf(format, a...))
	}
	if strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return bad("leading or trailing slash")
	}
	elems := strings.Split(path, "/")
	if len(elems) < 2 {
		return bad("it needs a host and a path, like host.tld/owner/name")
	}
	for i, e := range elems {
		if e == "" {
			return bad("empty element (double slash)")
		}
		if e == "." || e == ".." || strings.HasPrefix(e, ".") || strings.HasSuffix(e, ".") {
			return bad("element %q starts or ends with a dot", e)
		}
		for _, r := range e {
			ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' ||
				i > 0 && (r >= 'A' && r <= 'Z' || r == '_' || r == '~')
			if !ok {
				if i == 0 {
					return bad("the first element %q may hold only lowercase letters, digits, '-' and '.'", e)
				}
				return bad("element %q holds %q; allowed are letters, digits and '-', '.', '_', '~'", e, r)
			}
		}
	}
	if !strings.Contains(elems[0], ".") {
		return bad("the first element %q is not a domain name (no dot)", elems[0])
	}
	if strings.HasPrefix(elems[0], "-") {
		return bad("the first element %q starts with '-'", elems[0])
	}
	if elems[0] == "github.com" && len(elems) < 3 {
		return bad("a github.com path needs an owner and a repository")
	}
	return nil
}

var (
	repoOwner = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$`)
	repoName  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
)

// ValidateRepo accepts a GitHub owner/name.
func ValidateRepo(repo string) error {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || strings.Contains(name, "/") || !repoOwner.MatchString(owner) || !repoName.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("REPO %q is not a GitHub repository owner/name (e.g. acme/payments)", repo)
	}
	return nil
}

// RepoFromModule derives owner/name from a github.com module path, or "" for other hosts.
func RepoFromModule(module string) string {
	elems := strings.Split(module, "/")
	if len(elems) >= 3 && elems[0] == "github.com" {
		return elems[1] + "/" + elems[2]
	}
	return ""
}

// New validates a requested identity. repo may be empty for a github.com module (it is derived).
func New(module, name, repo string) (Identity, error) {
	var errs []error
	if err := ValidateModule(module); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateName(name); err != nil {
		errs = append(errs, err)
	}
	if repo == "" && module != "" {
		repo = RepoFromModule(module)
		if repo == "" && ValidateModule(module) == nil {
			errs = append(errs, fmt.Errorf("MODULE %q is not on github.com: give the GitHub repository the workflows run in as REPO=owner/name", module))
		}
	}
	if repo != "" {
		if err := ValidateRepo(repo); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Identity{}, errors.Join(errs...)
	}
	return Identity{Module: module, Name: name, Repo: repo}, nil
}

// Where the current identity is read from, relative to the repository root.
const (
	ModuleFile = "go.mod"
	NameFile   = "k8s/base/deployment.yaml"
	RepoFile   = "terraform/modules/identity/variables.tf"
)

var (
	moduleLine  = regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`)
	nameLabel   = regexp.MustCompile(`(?m)^\s*app\.kubernetes\.io/name:\s*"?([a-z0-9-]+)"?\s*$`)
	repoDefault = regexp.MustCompile(`(?s)variable\s+"github_repository"\s*\{.*?default\s*=\s*"([^"]+)"`)
)

// metadataName is the name of a Kubernetes object in a manifest: the name: line right under a
// top-level metadata: key.
var metadataName = regexp.MustCompile(`(?m)^metadata:\n(?:[ \t]+.*\n|\n)*?  name:[ \t]*"?([a-z0-9.-]+)"?[ \t]*$`)

// CheckNameFree refuses a new app name that would make two objects of the app's manifests one:
// the other objects there keep their names (the demo database postgres, the CI deployer
// ci-deployer, default-deny-all), and the app's own objects take names derived from the app's
// (<name>, <name>-db, <name>-allow-egress-dns...). A Service or ServiceAccount of the app named
// like the database's would fail to render, or replace it. The names are read from the
// manifests of the app's namespace, k8s/base and k8s/overlays.
func CheckNameFree(root, current, next string) error {
	var fixed, derived []string
	for _, dir := range []string{"k8s/base", "k8s/overlays"} {
		if _, err := os.Stat(filepath.Join(root, dir)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			b, err := os.ReadFile(path) //nolint:gosec // a file of the tree being renamed
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			for _, m := range metadataName.FindAllSubmatch(b, -1) {
				if n := string(m[1]); strings.Contains(n, current) {
					derived = append(derived, strings.ReplaceAll(n, current, next))
				} else {
					fixed = append(fixed, n)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the manifests' object names: %w", err)
		}
	}
	for _, n := range derived {
		if slices.Contains(fixed, n) {
			return fmt.Errorf("NAME %q would name the app's objects like others of its namespace (%s is taken): choose another name", next, n)
		}
	}
	return nil
}

// Current reads the identity the tree at root has now: the module line of the root go.mod, the
// app.kubernetes.io/name label of the base Deployment, and the default GitHub repository of the
// Terraform identity module.
func Current(root string) (Identity, error) {
	find := func(rel string, re *regexp.Regexp, what string) (string, error) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return "", fmt.Errorf("read the current %s: %w (is %s the root of a copy of the template?)", what, err, root)
		}
		m := re.FindSubmatch(b)
		if m == nil {
			return "", fmt.Errorf("no %s found in %s", what, rel)
		}
		return string(m[1]), nil
	}
	var id Identity
	var err error
	if id.Module, err = find(ModuleFile, moduleLine, "module path"); err != nil {
		return Identity{}, err
	}
	if id.Name, err = find(NameFile, nameLabel, "app name (label app.kubernetes.io/name)"); err != nil {
		return Identity{}, err
	}
	if id.Repo, err = find(RepoFile, repoDefault, `GitHub repository (variable "github_repository")`); err != nil {
		return Identity{}, err
	}
	return id, nil
}
