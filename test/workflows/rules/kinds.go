package rules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// What commands do, by program. Flags that take a separate value are listed so that the
// subcommand is found however many flags come before it.

var kubectlValued = valued("-n", "--namespace", "--context", "--cluster", "--kubeconfig", "--user", "-s", "--server",
	"--token", "--as", "--as-group", "--as-uid", "--certificate-authority", "--client-certificate", "--client-key",
	"--cache-dir", "--request-timeout", "-v", "--v", "--log-file", "--tls-server-name", "--username", "--password",
	"--profile", "--profile-output", "--vmodule", "--log-dir", "--log-file-max-size", "--stderrthreshold")

var helmValued = valued("-n", "--namespace", "--kube-context", "--kubeconfig", "--kube-apiserver", "--kube-token",
	"--kube-as-user", "--kube-as-group", "--kube-ca-file", "--registry-config", "--repository-cache", "--repository-config", "--burst-limit", "--qps")

var cosignValued = valued("--timeout", "-t", "--verbose")

var dockerValued = valued("-H", "--host", "--config", "-c", "--context", "-l", "--log-level", "--tlscacert", "--tlscert", "--tlskey")

var dockerRunValued = valued("-e", "--env", "--env-file", "-v", "--volume", "-p", "--publish", "--name", "-w", "--workdir",
	"--entrypoint", "--network", "--net", "-u", "--user", "--platform", "--mount", "-l", "--label", "--label-file", "--cpus",
	"-m", "--memory", "--add-host", "--device", "--dns", "-h", "--hostname", "--ipc", "--pid", "--restart", "--runtime",
	"--security-opt", "--shm-size", "--tmpfs", "--ulimit", "--volumes-from", "--cap-add", "--cap-drop", "--log-driver",
	"--log-opt", "--gpus", "--pull", "--stop-signal", "--stop-timeout", "--health-cmd", "--cidfile", "-a", "--attach",
	"--group-add", "--userns", "--uts", "--cgroupns", "--memory-swap", "--cpuset-cpus", "--expose", "--link", "--mac-address",
	"--ip", "--ip6", "--isolation", "--storage-opt", "--sysctl", "--init-path", "--oom-score-adj")

var trivyValued = valued("--cache-dir", "-q", "--config", "-c", "--timeout", "--format", "-f", "--output", "-o",
	"--severity", "-s", "--exit-code", "--scanners", "--pkg-types", "--vuln-type", "--ignorefile", "--skip-dirs",
	"--skip-files", "--ignore-policy", "--template", "-t", "--input", "-i", "--platform", "--db-repository",
	"--java-db-repository", "--checks-bundle-repository", "--image-src", "--docker-host", "--username", "--password",
	"--registry-token", "--tf-vars", "--secret-config", "--vex", "--license-confidence-level", "--parallel",
	"--ignore-status", "--sbom-sources", "--rekor-url", "--token", "--server", "--custom-headers")

var terraformValued = valued()

func valued(flags ...string) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		m[f] = true
	}
	return m
}

func base(name string) string { return path.Base(name) }

// kubectlReadOnly are the kubectl subcommands that change nothing in a cluster, with the second
// words that keep a subcommand read-only where it has writing ones too. Every other subcommand
// counts as a change: the writing ones, proxy and port-forward (a way past kubectl to the API
// server and the pods), certificate approve, auth reconcile (RBAC), and plugins (kubectl-<name>,
// programs the rules do not read).
var kubectlReadOnly = map[string][]string{
	"": nil, "get": nil, "describe": nil, "logs": nil, "explain": nil, "api-resources": nil, "api-versions": nil,
	"version": nil, "cluster-info": nil, "top": nil, "wait": nil, "diff": nil, "kustomize": nil, "config": nil,
	"events": nil, "completion": nil, "options": nil, "help": nil,
	"auth": {"can-i", "whoami"}, "rollout": {"status", "history"}, "plugin": {"list"},
}

// deploys reports whether a command changes a cluster, or reaches it other than by reading.
func deploys(c *shell.Command) bool {
	switch base(c.Name) {
	case "kubectl", "oc":
		sub, i := c.Subcommand(kubectlValued)
		second, ok := kubectlReadOnly[sub]
		if !ok {
			return true
		}
		if second == nil {
			return false
		}
		next := ""
		if i+1 < len(c.Args) {
			next = c.Args[i+1].Text
		}
		return !slices.Contains(second, next)
	case "helm":
		sub, _ := c.Subcommand(helmValued)
		return sub == "install" || sub == "upgrade" || sub == "uninstall" || sub == "rollback" || sub == "delete"
	case "argocd", "flux", "kapp", "skaffold", "kubectl-slice", "kustomize-apply":
		sub, _ := c.Subcommand(nil)
		switch sub {
		case "app", "reconcile", "deploy", "run", "apply", "create", "delete", "sync":
			return true
		}
	}
	return false
}

// kubectlApply reports whether a command is `kubectl apply`.
func kubectlApply(c *shell.Command) bool {
	if base(c.Name) != "kubectl" && base(c.Name) != "oc" {
		return false
	}
	sub, _ := c.Subcommand(kubectlValued)
	return sub == "apply"
}

// pushes reports whether a command publishes an image to a registry.
func pushes(c *shell.Command) bool {
	sub, i := c.Subcommand(dockerValued)
	rest := func() []shell.Word {
		if i < 0 || i+1 > len(c.Args) {
			return nil
		}
		return c.Args[i+1:]
	}
	restCmd := &shell.Command{Name: sub, Args: rest()}
	switch base(c.Name) {
	case "docker", "podman", "nerdctl":
		switch sub {
		case "push":
			return true
		case "image", "manifest":
			next, _ := restCmd.Subcommand(nil)
			return next == "push"
		case "build", "buildx":
			b := restCmd
			if sub == "buildx" {
				next, j := restCmd.Subcommand(nil)
				switch next {
				case "imagetools":
					n2, _ := (&shell.Command{Args: restCmd.Args[j+1:]}).Subcommand(nil)
					return n2 == "create" && !restCmd.Has("--dry-run")
				case "build", "bake":
				default:
					return false
				}
			}
			if b.Has("--push") {
				return true
			}
			for _, o := range b.Flag("--output", "-o") {
				if outputPushes(o.Text) {
					return true
				}
			}
		}
	case "crane", "gcrane":
		switch sub {
		case "push", "copy", "cp", "append", "mutate", "tag", "rebase", "flatten", "index":
			return true
		}
	case "skopeo":
		return sub == "copy" || sub == "sync"
	case "regctl":
		next, _ := restCmd.Subcommand(nil)
		return sub == "image" && (next == "copy" || next == "mod" || next == "import" || next == "put")
	case "oras":
		return sub == "push" || sub == "copy" || sub == "cp" || sub == "tag"
	case "ko":
		if sub == "build" || sub == "publish" || sub == "resolve" || sub == "apply" || sub == "create" {
			return !c.Has("--local", "-L") && !hasFlagValue(c, "--push", "false")
		}
	case "buildah":
		return sub == "push"
	case "cosign":
		return sub == "copy"
	}
	return false
}

func hasFlagValue(c *shell.Command, flag, value string) bool {
	for _, v := range c.Flag(flag) {
		if v.Text == value {
			return true
		}
	}
	return false
}

// outputPushes reads a buildx --output/outputs: value.
func outputPushes(v string) bool {
	for _, line := range strings.Split(v, "\n") {
		l := strings.ReplaceAll(line, " ", "")
		if strings.Contains(l, "type=registry") || (strings.Contains(l, "type=image") && strings.Contains(l, "push=true")) {
			return true
		}
	}
	return false
}

// pushStep reports whether an action step publishes an image.
func pushStep(s *pipeline.Step) bool {
	switch s.Action() {
	case "docker/build-push-action", "docker/bake-action":
		p := strings.TrimSpace(s.With["push"])
		if p != "" && p != "false" {
			return true
		}
		return outputPushes(s.With["outputs"])
	case "redhat-actions/push-to-registry", "ko-build/setup-ko":
		return s.Action() == "redhat-actions/push-to-registry"
	}
	return false
}

// cosign returns the cosign subcommand of a command, or "".
func cosign(c *shell.Command) string {
	if base(c.Name) != "cosign" {
		return ""
	}
	sub, _ := c.Subcommand(cosignValued)
	return sub
}

func signs(c *shell.Command) bool {
	s := cosign(c)
	return s == "sign" || s == "attest"
}

// terraform returns the subcommand of a terraform (or tofu, terragrunt) command, or "".
func terraform(c *shell.Command) string {
	switch base(c.Name) {
	case "terraform", "tofu", "terragrunt":
	default:
		return ""
	}
	sub, i := c.Subcommand(terraformValued)
	if sub == "run-all" || sub == "run" {
		if i+1 < len(c.Args) {
			n, _ := (&shell.Command{Args: c.Args[i+1:]}).Subcommand(nil)
			return n
		}
	}
	return sub
}

// terraformChanges reports whether a terraform command changes infrastructure or its state.
func terraformChanges(c *shell.Command) bool {
	switch terraform(c) {
	case "apply", "destroy", "import", "taint", "untaint", "force-unlock":
		return true
	case "state":
		_, i := c.Subcommand(terraformValued)
		if i+1 < len(c.Args) {
			switch c.Args[i+1].Text {
			case "rm", "mv", "push", "replace-provider":
				return true
			}
		}
	}
	return false
}

// trivy returns the subcommand of a trivy command, or "".
func trivy(c *shell.Command) string {
	if base(c.Name) != "trivy" {
		return ""
	}
	sub, _ := c.Subcommand(trivyValued)
	return sub
}

// imageRef splits an image reference into repository, tag and digest.
func imageRef(ref string) (repo, tag, digest string) {
	repo = ref
	if i := strings.Index(repo, "@"); i >= 0 {
		repo, digest = repo[:i], repo[i+1:]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

var imageDigest = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// privileged reports whether a job holds power worth stealing: an OIDC token (cloud roles,
// signing identity), a GitHub environment (its secrets and approvals), or write access.
func privileged(w *pipeline.Workflow, j *pipeline.Job) bool {
	if j.Environment != "" || hasWrite(w, j, "id-token") {
		return true
	}
	p := j.Permissions
	if p == nil {
		p = w.Permissions
	}
	if p == nil {
		return true
	}
	for _, s := range p.Writes() {
		if s != "security-events" {
			return true
		}
	}
	return false
}

var deployActionName = regexp.MustCompile(`(^|/)(k8s-deploy|k8s-set-context-and-deploy|kubectl[a-z-]*|helm[a-z-]*|kustomize[a-z-]*|argocd[a-z-]*|flux[a-z-]*|kapp[a-z-]*)$`)

// deployAction reports whether an action step changes a cluster (azure/k8s-deploy, a kubectl
// or helm action...). Setup actions (setup-kubectl, setup-helm) install a tool and change nothing.
func deployAction(s *pipeline.Step) bool {
	a := s.Action()
	if a == "" || strings.Contains(a, "/setup-") {
		return false
	}
	return deployActionName.MatchString(a)
}
