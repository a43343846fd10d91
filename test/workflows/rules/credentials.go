package rules

import (
	"slices"
	"strings"

	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

// Credentials a privileged job holds stay where they are used (token family). A run's log is
// read by whoever can read the repository, and GitHub masks only the values it was told are
// secret: a registry password printed by `aws ecr get-login-password`, the keys `aws configure
// export-credentials` prints, a kubeconfig shown --raw, a file of logins, every variable of the
// job (`env`), and the runner's own tokens (ACTIONS_ID_TOKEN_REQUEST_TOKEN mints OIDC tokens for
// the job's roles while it runs) are not. A command that makes a credential hands it only to the
// login that takes it on standard input (`| docker login --password-stdin`).

func checkNoPrintedCredentials(c *Context) []Finding {
	const name = "no-printed-credentials"
	var out []Finding
	c.privilegedJobs(func(w *pipeline.Workflow, j *pipeline.Job) {
		cmds := c.commands(w, j)
		for _, cm := range cmds {
			at := c.atCommand(&out, name, w, j, cm, true)
			if what := makesCredential(cm.cmd); what != "" && !intoLogin(cm.cmd, cmds) {
				at("prints %s in a privileged job, where the log or the next command can take it: hand it only to a login that reads standard input (| docker login --password-stdin)", what)
			}
			if why := showsCredentials(cm.cmd); why != "" {
				at("%s in a privileged job: the log is read by whoever can read the repository, and GitHub masks only what it was told is secret", why)
			}
			for _, a := range append([]shell.Word{{Text: cm.cmd.Name}}, cm.cmd.Args...) {
				if v := runnerToken(a.Text); v != "" {
					at("uses the runner's own %s: only actions do (it mints OIDC tokens or reaches the run's caches and artifacts for as long as the job runs)", v)
					break
				}
			}
		}
		for _, s := range c.flow(j) {
			for k, v := range s.Env.Vars {
				if t := runnerToken(v); t != "" {
					out = append(out, finding(name, c.stepPath(w, s), s.Env.Line, j.ID, "step %q passes the runner's own %s to its script as %s: only actions use it", s.Label(), t, k))
				}
			}
		}
	})
	return out
}

// makesCredential names the credential a command prints on standard output, or "".
func makesCredential(cmd *shell.Command) string {
	switch base(cmd.Name) {
	case "aws":
		svc, op := awsCall(cmd)
		switch {
		case (svc == "ecr" || svc == "ecr-public") && op == "get-login-password":
			return "a registry password"
		case (svc == "ecr" || svc == "codeartifact") && op == "get-authorization-token":
			return "a registry token"
		case svc == "sts" && (op == "get-session-token" || op == "get-federation-token" || strings.HasPrefix(op, "assume-role")):
			return "cloud keys"
		case svc == "configure" && op == "export-credentials":
			return "the job's cloud keys"
		case svc == "eks" && op == "get-token":
			return "a cluster token"
		}
	case "gh":
		if sub, i := cmd.Subcommand(nil); sub == "auth" && i+1 < len(cmd.Args) && cmd.Args[i+1].Text == "token" {
			return "the GitHub token"
		}
	case "kubectl":
		if sub, _ := cmd.Subcommand(kubectlValued); sub == "create" && slices.ContainsFunc(cmd.Args, func(a shell.Word) bool { return a.Text == "token" }) {
			return "a ServiceAccount token"
		}
	}
	return ""
}

// intoLogin reports whether a command's output goes straight into a login that reads its
// password on standard input, and nowhere else.
func intoLogin(cmd *shell.Command, cmds []command) bool {
	if len(cmd.Stdout) > 0 {
		return false
	}
	for _, next := range cmds {
		if next.cmd.PipedFrom != cmd {
			continue
		}
		sub, _ := next.cmd.Subcommand(dockerValued)
		switch base(next.cmd.Name) {
		case "docker", "podman", "helm", "oras", "crane", "skopeo", "buildah", "cosign":
			return (sub == "login" || sub == "registry") && next.cmd.Has("--password-stdin")
		}
		return false
	}
	return false
}

// credentialFiles are where the tools keep logins.
var credentialFiles = []string{"~/.docker/config.json", "~/.kube/config", "~/.aws/credentials", "~/.aws/cli/cache", "~/.aws/sso/cache",
	"~/.netrc", "~/.git-credentials", "~/.config/gh/hosts.yml", "~/.config/containers/auth.json", "~/.terraform.d/credentials.tfrc.json"}

// fileReaders print what they read.
var fileReaders = map[string]bool{"cat": true, "head": true, "tail": true, "less": true, "more": true, "base64": true, "xxd": true,
	"od": true, "hexdump": true, "strings": true, "jq": true, "yq": true, "grep": true, "sed": true, "awk": true, "tac": true, "nl": true}

// showsCredentials says why a command shows credentials the job holds, or "".
func showsCredentials(cmd *shell.Command) string {
	n := base(cmd.Name)
	switch {
	case (n == "env" || n == "printenv") && len(cmd.Args) == 0, (n == "set" || n == "export" || n == "declare") && len(cmd.Args) == 1 && cmd.Args[0].Text == "-p",
		n == "set" && len(cmd.Args) == 0:
		return "prints every variable of the job (the cloud keys and the runner's tokens among them)"
	case n == "kubectl":
		if sub, i := cmd.Subcommand(kubectlValued); sub == "config" && i+1 < len(cmd.Args) && cmd.Args[i+1].Text == "view" && cmd.Has("--raw", "--flatten") {
			return "prints the kubeconfig with its credentials"
		}
	case fileReaders[n]:
		for _, op := range cmd.Operands(nil) {
			p := homePath(op.Text)
			for _, f := range credentialFiles {
				if p == f || strings.HasPrefix(p, f+"/") {
					return "prints " + f + ", where a tool keeps its login"
				}
			}
		}
	}
	return ""
}

// runnerTokens are the runner's own credentials, given to actions (ACTIONS_ID_TOKEN_REQUEST_*
// when the job may ask for OIDC tokens, ACTIONS_RUNTIME_TOKEN for caches and artifacts).
var runnerTokens = []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL", "ACTIONS_CACHE_URL", "ACTIONS_RUNTIME_URL"}

// runnerToken returns the runner token a text names, or "".
func runnerToken(text string) string {
	for _, t := range runnerTokens {
		if strings.Contains(text, t) {
			return t
		}
	}
	return ""
}
