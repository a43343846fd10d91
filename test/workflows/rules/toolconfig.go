package rules

import (
	"path"
	"strings"

	"github.com/platform-template/template-api/test/workflows/shell"
)

// Tool configuration written by a command or into a file (supply family, rule tool-environment):
// what a variable in env: would change can as well be written where the tools read their
// settings, for every later step of the job. `go env -w GOPROXY=...` is GOPROXY for every go
// command after it, `git config --global url.X.insteadOf Y` sends every fetch elsewhere, a line
// appended to /etc/hosts sends Sigstore's or AWS's traffic to another address, a file copied
// into /usr/local/bin replaces a tool the rules read, and a hook written under .git/hooks runs
// at the next git command.

// toolConfigCommand says why a command changes a tool's configuration for the later steps, or "".
func toolConfigCommand(cmd *shell.Command) string {
	switch base(cmd.Name) {
	case "go":
		if sub, i := cmd.Subcommand(nil); sub == "env" && cmd.Has("-w") {
			for _, a := range cmd.Args[i+1:] {
				if k, v, ok := strings.Cut(a.Text, "="); ok {
					if why := toolVariable(k, v); why != "" {
						return "writes " + k + " into Go's settings file for every later go command: it " + why
					}
				}
			}
		}
	case "git":
		return gitConfigWrite(cmd)
	case "npm", "pnpm", "yarn", "pip", "pip3", "poetry":
		if sub, i := cmd.Subcommand(nil); sub == "config" || sub == "set" && base(cmd.Name) == "npm" {
			if sub == "set" || i+1 < len(cmd.Args) && cmd.Args[i+1].Text == "set" {
				return "changes the package manager's settings (registry, certificates, scripts) for every later install"
			}
		}
	case "docker":
		if sub, i := cmd.Subcommand(dockerValued); sub == "context" && i+1 < len(cmd.Args) {
			if op := cmd.Args[i+1].Text; op == "use" || op == "create" || op == "update" || op == "import" {
				return "points docker at another daemon: later builds and pushes run there"
			}
		}
	case "kubectl":
		if sub, i := cmd.Subcommand(nil); sub == "config" && i+1 < len(cmd.Args) {
			switch cmd.Args[i+1].Text {
			case "set-cluster", "set-credentials", "set-context", "set", "use-context", "use":
				return "changes which cluster kubectl talks to, or with which credentials (an exec plugin runs a program)"
			}
		}
	case "aws":
		if sub, i := cmd.Subcommand(nil); sub == "configure" && i+1 < len(cmd.Args) && cmd.Args[i+1].Text == "set" {
			for _, a := range cmd.Args[i+2:] {
				k := strings.ToLower(a.Text)
				for _, risky := range []string{"endpoint_url", "ca_bundle", "credential_process", "role_arn", "source_profile", "credential_source", "web_identity_token_file"} {
					if strings.HasSuffix(k, risky) {
						return "writes " + a.Text + " into the AWS settings: later calls go elsewhere, trust other certificates or run a program for credentials"
					}
				}
			}
		}
	case "gh":
		if sub, i := cmd.Subcommand(nil); sub == "config" && i+2 < len(cmd.Args) && cmd.Args[i+1].Text == "set" && cmd.Args[i+2].Text == "http_unix_socket" {
			return "sends gh's requests through another socket"
		}
	case "cosign":
		if sub, _ := cmd.Subcommand(nil); sub == "initialize" && cmd.Has("--mirror", "--root") {
			return "replaces the Sigstore trust root that every later cosign verify uses"
		}
	case "update-ca-certificates", "update-ca-trust", "trust":
		return "changes the certificate authorities every tool trusts"
	}
	return ""
}

// gitConfigKeys are the settings a privileged job may write: who commits, and which checkout
// git may work in. Any other (url.*.insteadOf, http.proxy, core.hooksPath, core.sshCommand,
// credential.helper, include.path, core.fsmonitor...) sends fetches elsewhere or runs a program.
var gitConfigKeys = map[string]bool{"user.name": true, "user.email": true, "safe.directory": true}

// gitConfigValued are the flags of git config that take a separate value.
var gitConfigValued = valued("--file", "-f", "--blob", "--type", "--default", "--comment", "--value")

// gitConfigWrite says why a git config command writes a setting outside gitConfigKeys, or "".
func gitConfigWrite(cmd *shell.Command) string {
	sub, i := cmd.Subcommand(gitValued)
	if sub != "config" {
		return ""
	}
	rest := &shell.Command{Name: "git-config", Args: cmd.Args[i+1:]}
	if rest.Has("--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l", "--unset", "--unset-all", "--show-origin", "--edit", "-e") {
		return ""
	}
	ops := rest.Operands(gitConfigValued)
	switch {
	case len(ops) > 0 && (ops[0].Text == "get" || ops[0].Text == "list" || ops[0].Text == "unset"):
		return ""
	case len(ops) > 0 && ops[0].Text == "set":
		ops = ops[1:]
	case len(ops) < 2 && !rest.Has("--add", "--replace-all"):
		return "" // git config key: a read
	}
	if len(ops) == 0 {
		return ""
	}
	if key := strings.ToLower(ops[0].Text); !gitConfigKeys[key] {
		return "writes git setting " + ops[0].Text + ": later fetches, pushes or checkouts could go elsewhere or run a program"
	}
	return ""
}

// homePath writes a path in the home with ~/, and an absolute one cleaned (/etc//hosts,
// ~/.docker/../.docker/config.json).
func homePath(p string) string {
	p = strings.Trim(p, `"'`)
	for _, home := range []string{"~/", "$HOME/", "${HOME}/", "/home/runner/", "/root/", "/github/home/"} {
		if rest, ok := strings.CutPrefix(p, home); ok {
			return "~/" + strings.TrimPrefix(path.Clean("/"+rest), "/")
		}
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return p
}

// toolConfigFile says why writing path changes what the tools run, fetch or trust, or "".
func toolConfigFile(file string) string {
	p := homePath(file)
	for _, cfg := range []string{"$XDG_CONFIG_HOME/", "${XDG_CONFIG_HOME}/"} {
		if rest, ok := strings.CutPrefix(p, cfg); ok {
			p = "~/.config/" + rest
		}
	}
	p = strings.TrimPrefix(p, "./")
	for _, f := range toolConfigFiles {
		dir, isDir := strings.CutSuffix(f.path, "/")
		switch {
		case isDir && (p == dir || strings.HasPrefix(p, dir+"/")),
			!isDir && p == f.path,
			f.path == ".git/" && strings.Contains(p, "/.git/"):
			return f.why
		}
	}
	return ""
}

// toolConfigFiles are where the tools of a job read what they run, fetch or trust; a path
// ending in / stands for everything below it.
var toolConfigFiles = []struct{ path, why string }{
	{"/etc/hosts", "sends a host name (Sigstore, AWS, the registry) to another address"},
	{"/etc/resolv.conf", "asks another DNS server for every name"},
	{"/etc/nsswitch.conf", "changes how names are resolved"},
	{"/etc/gai.conf", "changes how names are resolved"},
	{"/etc/ld.so.preload", "loads a library into every program"},
	{"/etc/ld.so.conf", "loads other libraries into every program"},
	{"/etc/ld.so.conf.d/", "loads other libraries into every program"},
	{"/etc/environment", "sets variables for every later program"},
	{"/etc/profile", "runs code in every login shell"},
	{"/etc/profile.d/", "runs code in every login shell"},
	{"/etc/bash.bashrc", "runs code in every shell"},
	{"/etc/ssl/", "changes the certificate authorities every tool trusts"},
	{"/etc/pki/", "changes the certificate authorities every tool trusts"},
	{"/etc/ca-certificates/", "changes the certificate authorities every tool trusts"},
	{"/etc/ca-certificates.conf", "changes the certificate authorities every tool trusts"},
	{"/usr/local/share/ca-certificates/", "changes the certificate authorities every tool trusts"},
	{"/usr/share/ca-certificates/", "changes the certificate authorities every tool trusts"},
	{"/etc/apt/", "installs packages from elsewhere"},
	{"/etc/docker/", "changes the docker daemon's registries, mirrors and proxies"},
	{"/etc/containers/", "changes where images are pulled from"},
	{"/etc/gitconfig", "gives git configuration (hooks, helpers, other remotes)"},
	{"/etc/pip.conf", "installs Python packages from elsewhere"},
	{"/etc/npmrc", "installs Node packages from elsewhere"},
	{"/etc/sudoers", "changes what runs as root"},
	{"/etc/sudoers.d/", "changes what runs as root"},
	{"/usr/local/bin/", "replaces or shadows a tool on PATH"},
	{"/usr/local/sbin/", "replaces or shadows a tool on PATH"},
	{"/usr/bin/", "replaces a tool on PATH"},
	{"/usr/sbin/", "replaces a tool on PATH"},
	{"/bin/", "replaces a tool on PATH"},
	{"/sbin/", "replaces a tool on PATH"},
	{"/opt/hostedtoolcache/", "replaces a tool the setup actions put on PATH"},
	{"~/.local/bin/", "shadows a tool on PATH"},
	{"~/.netrc", "gives credentials and hosts to curl, git and Go"},
	{"~/.gitconfig", "gives git configuration (hooks, helpers, other remotes)"},
	{"~/.config/git/", "gives git configuration (hooks, helpers, other remotes)"},
	{"~/.terraformrc", "installs Terraform providers from where it says"},
	{"~/.terraform.d/", "installs Terraform providers from that folder"},
	{"~/.docker/", "runs the credential helpers and proxies it names, or builds on another daemon"},
	{"~/.kube/", "talks to another cluster, or runs the exec credential plugin it names"},
	{"~/.aws/", "sends AWS calls elsewhere or runs the credential_process it names"},
	{"~/.npmrc", "installs Node packages from elsewhere"},
	{"~/.yarnrc", "installs Node packages from elsewhere"},
	{"~/.yarnrc.yml", "installs Node packages from elsewhere"},
	{"~/.pip/", "installs Python packages from elsewhere"},
	{"~/.config/pip/", "installs Python packages from elsewhere"},
	{"~/.pypirc", "uploads Python packages elsewhere"},
	{"~/.config/go/", "changes Go's settings (GOPROXY, GOFLAGS) for every go command"},
	{"~/.config/gh/", "points gh at another host or token"},
	{"~/.sigstore/", "replaces the Sigstore trust root"},
	{"~/.ssh/", "changes which hosts and keys git's ssh trusts"},
	{"~/.curlrc", "adds options to every curl"},
	{"~/.wgetrc", "adds options to every wget"},
	{"~/.bashrc", "runs code in every later shell"},
	{"~/.bash_profile", "runs code in every later login shell"},
	{"~/.bash_login", "runs code in every later login shell"},
	{"~/.profile", "runs code in every later login shell"},
	{".git/", "changes the checkout's git configuration or hooks: the next git command runs them"},
}

// writtenFiles lists the files and folders a command writes: its redirections, the destinations
// of tee, cp, mv, install, ln, dd, downloads (curl -o, wget -O, gh release download),
// extractions (tar -x, unzip), copies out of a container or a bucket, and in-place edits (sed
// -i, perl -i). Rules tool-environment, env-file-injection, reviewed-inputs and build-evidence
// read what a script writes through it.
func writtenFiles(cmd *shell.Command) []shell.Word {
	out := append([]shell.Word(nil), cmd.Stdout...)
	here := shell.Word{Text: ".", Known: true}
	switch base(cmd.Name) {
	case "tar", "bsdtar":
		if cmd.Has("-x", "--extract", "--get") || len(cmd.Args) > 0 && !strings.HasPrefix(cmd.Args[0].Text, "-") && strings.Contains(cmd.Args[0].Text, "x") || hasShortFlag(cmd, 'x') {
			if dirs := cmd.Flag("-C", "--directory"); len(dirs) > 0 {
				out = append(out, dirs...)
			} else {
				out = append(out, here)
			}
		}
	case "unzip":
		if dirs := cmd.Flag("-d"); len(dirs) > 0 {
			out = append(out, dirs...)
		} else {
			out = append(out, here)
		}
	case "docker", "podman":
		if sub, i := cmd.Subcommand(dockerValued); sub == "cp" {
			if ops := (&shell.Command{Args: cmd.Args[i+1:]}).Operands(nil); len(ops) == 2 {
				out = append(out, ops[1])
			}
		}
	case "aws":
		switch svc, op := awsCall(cmd); {
		case svc == "s3" && (op == "cp" || op == "sync" || op == "mv"):
			if ops := cmd.Operands(awsValued); len(ops) >= 2 && !strings.HasPrefix(ops[len(ops)-1].Text, "s3://") {
				out = append(out, ops[len(ops)-1])
			}
		case svc == "eks" && op == "update-kubeconfig":
			// Where kubectl reads it anyway (~/.kube/config, also without the flag) is its job; any
			// other file is a write like another.
			for _, f := range cmd.Flag("--kubeconfig") {
				if homePath(f.Text) != "~/.kube/config" {
					out = append(out, f)
				}
			}
		}
	case "gh":
		if sub, i := cmd.Subcommand(nil); sub == "release" && i+1 < len(cmd.Args) && cmd.Args[i+1].Text == "download" {
			if dirs := cmd.Flag("-D", "--dir", "-O", "--output"); len(dirs) > 0 {
				out = append(out, dirs...)
			} else {
				out = append(out, here)
			}
		}
	case "update-alternatives":
		if cmd.Has("--install") {
			out = append(out, cmd.Flag("--install")...) // the link: a path on PATH
		}
	case "tee":
		out = append(out, cmd.Operands(nil)...)
	case "ln", "mount":
		// a link to a tool's file (ln -s /etc/hosts h; echo ... >> h) writes it through the link
		out = append(out, cmd.Operands(valued("-t", "--target-directory", "-S", "--suffix", "-o", "--options", "--types"))...)
	case "cp", "mv", "install", "rsync":
		out = append(out, cmd.Flag("-t", "--target-directory")...)
		if ops := cmd.Operands(copyValued); len(ops) > 1 {
			out = append(out, ops[len(ops)-1])
		}
	case "dd":
		for _, a := range cmd.Args {
			if of, ok := strings.CutPrefix(a.Text, "of="); ok {
				out = append(out, shell.Word{Text: of, Known: a.Known})
			}
		}
	case "curl":
		out = append(out, cmd.Flag("-o", "--output")...)
	case "wget":
		out = append(out, cmd.Flag("-O", "--output-document")...)
	case "sed", "perl":
		if cmd.Has("--in-place") || hasShortFlag(cmd, 'i') {
			scripts := []string{"-e", "--expression", "-f", "--file"}
			ops := cmd.Operands(valued(scripts...))
			if !cmd.Has(scripts...) && len(ops) > 0 {
				ops = ops[1:] // the first operand is the program, not a file
			}
			out = append(out, ops...)
		}
	}
	return out
}

// copyValued are the flags of cp, mv, install and ln that take a separate value.
var copyValued = valued("-t", "--target-directory", "-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix")

// hasShortFlag reports whether a bundle of short flags (-ni, -pi.bak) holds f.
func hasShortFlag(cmd *shell.Command, f byte) bool {
	for _, a := range cmd.Args {
		t := a.Text
		if len(t) > 1 && t[0] == '-' && t[1] != '-' && strings.IndexByte(t[1:], f) >= 0 {
			return true
		}
	}
	return false
}

// toolInput says why an input of a setup or credential action fetches the tool from elsewhere
// than its publisher, or sends the job's traffic through another host (the same redirections
// as the variables and files above, spelt as an action's input), or "".
func toolInput(action, input string) string {
	switch action + " " + input {
	case "actions/setup-go go-download-base-url":
		return "downloads Go from that host instead of go.dev"
	case "actions/setup-node mirror", "actions/setup-node mirror-token":
		return "downloads Node.js from a mirror"
	case "azure/setup-kubectl downloadBaseURL":
		return "downloads kubectl from that host instead of dl.k8s.io"
	case "aws-actions/configure-aws-credentials http-proxy":
		return "sends the OIDC token and the role's credentials through that proxy"
	case "docker/setup-buildx-action endpoint":
		return "builds on that remote builder, which sees the build's context and pushes"
	}
	return ""
}
