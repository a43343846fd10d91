package rules

import (
	"strings"
	"testing"

	"github.com/platform-template/template-api/test/workflows/cond"
	"github.com/platform-template/template-api/test/workflows/pipeline"
	"github.com/platform-template/template-api/test/workflows/shell"
)

func TestRulesAreNamedOnceAndSayWhatTheyGuarantee(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.Name] {
			t.Errorf("rule %s is listed twice", r.Name)
		}
		seen[r.Name] = true
		if len(r.Guarantee) < 40 {
			t.Errorf("rule %s: guarantee %q says too little", r.Name, r.Guarantee)
		}
	}
}

// GitHub's branch and tag filters, and which scenarios a trigger admits.
func TestTriggerFilters(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"main", "main", true},
		{"main", "main2", false},
		{"release/*", "release/v1", true},
		{"release/*", "release/v1/x", false},
		{"release/**", "release/v1/x", true},
		{"v*.*.*", "v1.2.3", true},
		{"v*.*.*", "v1.2", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
	if !filtered("feature", []string{"**", "!main"}, nil) || filtered("main", []string{"**", "!main"}, nil) {
		t.Error("a negated pattern does not exclude")
	}
	push := &pipeline.Trigger{Event: "push", Branches: []string{"main"}, HasBranches: true}
	pr := &pipeline.Trigger{Event: "pull_request", Types: []string{"labeled"}}
	for _, sc := range cond.Scenarios() {
		want := sc.Event == "push" && sc.Ref == "refs/heads/main"
		if got := admits(push, sc); got != want {
			t.Errorf("push to main only admits %q: %v", sc.Name, got)
		}
		if admits(pr, sc) {
			t.Errorf("pull_request types [labeled] admits %q", sc.Name)
		}
	}
	// The untrusted branch and tag of the scenarios stand for every other name: a filter wider
	// than main and release tags admits them, whatever the names it widens to.
	for _, tc := range []struct {
		branches, tags []string
		other          bool
	}{
		{[]string{"main"}, []string{"v*.*.*"}, false},
		{[]string{"main", "release/**"}, nil, true},
		{[]string{"main", "hotfix/*"}, nil, true},
		{[]string{"mai*"}, nil, true},
		{nil, []string{"v*"}, true},
		{nil, []string{"*"}, true},
		{[]string{"**", "!feature"}, nil, true},
	} {
		tr := &pipeline.Trigger{Event: "push", Branches: tc.branches, HasBranches: tc.branches != nil, Tags: tc.tags, HasTags: tc.tags != nil}
		got := false
		for _, sc := range cond.Scenarios() {
			if sc.Event == "push" && !sc.Trusted && admits(tr, sc) {
				got = true
			}
		}
		if got != tc.other {
			t.Errorf("push branches %v tags %v admits an untrusted push: %v, want %v", tc.branches, tc.tags, got, tc.other)
		}
	}
}

func TestLookalikeOwners(t *testing.T) {
	trusted := []string{"actions", "docker", "aquasecurity"}
	for owner, want := range map[string]string{"action": "actions", "dockr": "docker", "aquasecurlty": "aquasecurity", "docker-io": "docker", "actions-x": "actions", "hashicorp": ""} {
		if got := lookalike(owner, trusted); got != want {
			t.Errorf("lookalike(%q) = %q, want %q", owner, got, want)
		}
	}
}

func TestRoleKeys(t *testing.T) {
	j := &pipeline.Job{Matrix: map[string][]string{"plan-role": {"A", "B"}}}
	for v, want := range map[string]string{
		"${{ vars.X }}":                 "vars.X",
		"${{ vars['X'] }}":              "vars.X",
		"${{ vars[matrix.plan-role] }}": "vars.A vars.B",
		"arn:aws:iam::1:role/r":         "arn:aws:iam::1:role/r",
	} {
		got := roleKeys(j, v)
		s := ""
		for i, k := range got {
			if i > 0 {
				s += " "
			}
			s += k
		}
		if s != want {
			t.Errorf("roleKeys(%q) = %q, want %q", v, s, want)
		}
	}
}

// Where a privileged job may unpack artifacts: the runner's temporary directory, spelt as the
// expression or the variable, and nothing that climbs out of it or only starts like it.
func TestUnderRunnerTemp(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"${{ runner.temp }}/digest", true},
		{"${{runner.temp}}", true},
		{"$RUNNER_TEMP/digest", true},
		{"${RUNNER_TEMP}/a/b", true},
		{"", false},
		{".", false},
		{"k8s/overlays/production", false},
		{"${{ runner.temp }}/../work", false},
		{"$RUNNER_TEMPLATES/x", false},
		{"${{ github.workspace }}/x", false},
	}
	for _, tc := range tests {
		if got := underRunnerTemp(tc.path); got != tc.want {
			t.Errorf("underRunnerTemp(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// How gh run download is read: the run, the repository (-R, --repo, -Rowner/repo, --repo=) and
// the directory, whichever way the flags are spelt.
func TestGhRunDownload(t *testing.T) {
	tests := []struct {
		script, run, repo, dir string
	}{
		{`gh run download "$GITHUB_RUN_ID" -n digest -D "$RUNNER_TEMP/d"`, "$GITHUB_RUN_ID", "", "$RUNNER_TEMP/d"},
		{`gh run download 123 --repo someone/fork --dir=out`, "123", "someone/fork", "out"},
		{`gh run download -Rsomeone/fork -Dout 123`, "123", "someone/fork", "out"},
		{`gh run download --name digest --pattern 'x*'`, "", "", ""},
	}
	for _, tc := range tests {
		sc, err := shell.Parse(tc.script, shell.Options{})
		if err != nil || len(sc.Commands) != 1 {
			t.Fatalf("%s: %v", tc.script, err)
		}
		run, repo, dir, ok := ghRunDownload(sc.Commands[0])
		if !ok || run != tc.run || repo != tc.repo || dir != tc.dir {
			t.Errorf("%s: run %q repo %q dir %q (%v), want %q %q %q", tc.script, run, repo, dir, ok, tc.run, tc.repo, tc.dir)
		}
	}
}

// Tool configuration written by a command or into a file: what is refused, with why, and what a
// privileged job may still do (write its own files under $RUNNER_TEMP, read settings, commit as
// a named user).
func TestToolConfiguration(t *testing.T) {
	tests := []struct {
		script string
		want   string // words of the reason; "" when the script changes no tool's configuration
	}{
		{`go env -w GOPROXY=https://proxy.example.com`, "GOPROXY into Go's settings"},
		{`go env -w GOFLAGS=-mod=mod`, "GOFLAGS into Go's settings"},
		{`go env GOPATH`, ""},
		{`go env -w GOBIN="$RUNNER_TEMP/bin"`, ""},
		{`git config --global url."https://git.example.com/".insteadOf https://github.com/`, "writes git setting url."},
		{`git config set --global core.hooksPath .ci/hooks`, "writes git setting core.hooksPath"},
		{`git -C src config credential.helper '!sh .ci/cred'`, "writes git setting credential.helper"},
		{`git config --add --global include.path /tmp/x`, "writes git setting include.path"},
		{`git config --global user.email ci@example.com`, ""},
		{`git config --global --add safe.directory "$GITHUB_WORKSPACE"`, ""},
		{`git config --get remote.origin.url`, ""},
		{`git config core.hooksPath`, ""},
		{`git config get core.hooksPath`, ""},
		{`git config --unset core.hooksPath`, ""},
		{`npm config set registry https://registry.example.com`, "package manager's settings"},
		{`npm set registry https://registry.example.com`, "package manager's settings"},
		{`pip config set global.index-url https://pypi.example.com`, "package manager's settings"},
		{`npm config get registry`, ""},
		{`docker context use remote`, "another daemon"},
		{`docker context ls`, ""},
		{`kubectl config set-cluster prod --server=https://203.0.113.7`, "which cluster kubectl talks to"},
		{`kubectl config view --minify`, ""},
		{`aws configure set sts.endpoint_url https://sts.example.com`, "writes sts.endpoint_url"},
		{`aws configure set region eu-west-1`, ""},
		{`gh config set http_unix_socket /tmp/gh.sock`, "another socket"},
		{`cosign initialize --mirror https://tuf.example.com`, "trust root"},
		{`cosign initialize`, ""},
		{`sudo update-ca-certificates`, "certificate authorities"},
		{`echo "203.0.113.7 fulcio.sigstore.dev" | sudo tee -a /etc/hosts`, "sends a host name"},
		{`echo nameserver 203.0.113.7 > /etc/resolv.conf`, "another DNS server"},
		{`sed -i '1i nameserver 203.0.113.7' /etc/resolv.conf`, "another DNS server"},
		{`perl -pi -e 's/x/y/' /etc/hosts`, "sends a host name"},
		{`sed -i 's/a/b/' "$RUNNER_TEMP/values.yaml"`, ""},
		{`sudo install -m 0755 .ci/cosign /usr/local/bin/cosign`, "replaces or shadows a tool"},
		{`cp -t /usr/local/bin .ci/kubectl`, "replaces or shadows a tool"},
		{`ln -sf "$RUNNER_TEMP/x" /usr/bin/terraform`, "replaces a tool"},
		{`curl -fsSL -o ~/.terraformrc https://example.com/rc`, "Terraform providers"},
		{`printf 'machine github.com\n' > ~/.netrc`, "credentials and hosts"},
		{`cat .ci/cfg >> "$HOME/.docker/config.json"`, "credential helpers"},
		{`cp .ci/kubeconfig /home/runner/.kube/config`, "another cluster"},
		{`cp .ci/env "$XDG_CONFIG_HOME/go/env"`, "Go's settings"},
		{`cp .ci/hook .git/hooks/pre-push`, "hooks"},
		{`cp .ci/hook "$GITHUB_WORKSPACE/.git/config"`, "hooks"},
		{`dd if=.ci/lib.so of=/etc/ld.so.preload`, "loads a library"},
		{`tar -xzf "$RUNNER_TEMP/tools.tgz" -C /usr/local/bin`, "replaces or shadows a tool"},
		{`tar xzf tools.tgz --directory=/usr/local/bin`, "replaces or shadows a tool"},
		{`unzip -o tools.zip -d ~/.local/bin`, "shadows a tool"},
		{`sudo update-alternatives --install /usr/bin/cosign cosign ./cosign 100`, "replaces a tool"},
		{`aws s3 cp s3://tools/kubectl /usr/local/bin/kubectl`, "replaces or shadows a tool"},
		{`gh release download v1 -R o/r -O ~/.terraformrc`, "Terraform providers"},
		{`docker cp "$c:/etc/hosts" /etc/hosts`, "sends a host name"},
		{`ln -s /etc/hosts "$RUNNER_TEMP/h"`, "sends a host name"},
		{`echo "203.0.113.7 rekor.sigstore.dev" >> /etc//hosts`, "sends a host name"},
		{`cp .ci/cfg ~/.docker/../.docker/config.json`, "credential helpers"},
		{`ln -s "$RUNNER_TEMP/kubectl" "$RUNNER_TEMP/bin/kubectl"`, ""},
		{`tar -xzf "$RUNNER_TEMP/x.tgz" -C "$RUNNER_TEMP"`, ""},
		{`aws s3 cp ./report.txt s3://reports/`, ""},
		{`cp "$RUNNER_TEMP/api" "$RUNNER_TEMP/api.bak"`, ""},
		{`echo "digest=$D" > "$RUNNER_TEMP/digest.txt"`, ""},
		{`aws eks update-kubeconfig --name c --region r`, ""},
		{`docker cp "$c:/api" "$RUNNER_TEMP/api"`, ""},
	}
	for _, tc := range tests {
		sc, err := shell.Parse(tc.script, shell.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.script, err)
		}
		var reasons []string
		for _, cmd := range sc.Commands {
			if why := toolConfigCommand(cmd); why != "" {
				reasons = append(reasons, why)
			}
			for _, f := range writtenFiles(cmd) {
				if why := toolConfigFile(f.Text); why != "" {
					reasons = append(reasons, f.Text+": "+why)
				}
			}
		}
		got := strings.Join(reasons, "; ")
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s: refused (%s), want admitted", tc.script, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("%s: reasons %q, want one saying %q", tc.script, got, tc.want)
		}
	}
}
