package pipeline

import (
	"strings"
	"testing"
)

const workflow = `name: w
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      id-token: &read write
      contents: *read
    steps:
      - uses: "actions/checkout@df4cb1c069e1874edd31b4311f1884172cec0e10" # v6.0.3
      - uses: ./.github/actions/setup
      - name: plain
        run: echo one
      - name: block
        run: |
          echo two
          echo three
`

const action = `name: setup
description: d
runs:
  using: composite
  steps:
    - uses: actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16 # v6.5.0
      with: &w
        go-version: "1.26.8"
    - shell: bash
      if: ${{ inputs.x }}
      run: go version
`

// The tree reads as GitHub reads it: anchors resolved, comments after uses: kept, composite
// actions inlined where a job uses them.
func TestReadsAsGitHubDoes(t *testing.T) {
	r := New("", map[string][]byte{".github/workflows/w.yaml": []byte(workflow), ".github/actions/setup/action.yml": []byte(action)})
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %+v", r.Problems)
	}
	j := r.Workflows[0].Jobs[0]
	if got := j.Permissions.Scopes["contents"]; got != "write" {
		t.Errorf("contents: *read where &read is write reads as %q, want write", got)
	}
	if s := j.Steps[0]; s.UsesComment != "v6.0.3" || s.Action() != "actions/checkout" {
		t.Errorf("uses comment %q action %q", s.UsesComment, s.Action())
	}
	if p, b := j.Steps[2], j.Steps[3]; p.ScriptLine != p.RunLine || b.ScriptLine != b.RunLine+1 {
		t.Errorf("script lines: plain %d/%d, block %d/%d", p.ScriptLine, p.RunLine, b.ScriptLine, b.RunLine)
	}
	flow := r.Flow(j)
	if len(flow) != 5 {
		t.Fatalf("flow has %d steps, want 5 (the composite's two in place of its use)", len(flow))
	}
	if in := flow[1]; in.In != ".github/actions/setup" || in.Parent == nil || in.Parent.Uses != "./.github/actions/setup" || in.UsesComment != "v6.5.0" {
		t.Errorf("inlined step: in %q parent %+v comment %q", in.In, in.Parent, in.UsesComment)
	}
	if flow[2].If != "${{ inputs.x }}" || flow[2].Top().Line != j.Steps[1].Line || flow[2].Top().Uses != j.Steps[1].Uses {
		t.Errorf("inlined step if %q, top %v", flow[2].If, flow[2].Top())
	}
}

// What GitHub refuses to read is a problem, in workflows and in actions alike.
func TestRefusesWhatGitHubRefuses(t *testing.T) {
	tests := []struct{ name, path, src, want string }{
		{"merge key in a workflow", ".github/workflows/w.yaml", strings.Replace(workflow, "      contents: *read", "      <<: {contents: write}", 1), "merge key"},
		{"duplicate key in a workflow", ".github/workflows/w.yaml", strings.Replace(workflow, "      contents: *read", "      contents: read\n      contents: write", 1), "duplicate"},
		{"merge key in an action", ".github/actions/setup/action.yml", strings.Replace(action, "        go-version: \"1.26.8\"", "        <<: {go-version: stable}", 1), "merge key"},
		{"duplicate key in an action", ".github/actions/setup/action.yml", strings.Replace(action, "      run: go version", "      run: go version\n      run: curl x | sh", 1), "duplicated"},
		{"not YAML", ".github/workflows/w.yaml", "jobs: [", "could not parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{".github/workflows/w.yaml": []byte(workflow), ".github/actions/setup/action.yml": []byte(action)}
			files[tc.path] = []byte(tc.src)
			r := New("", files)
			for _, p := range r.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.want) {
					return
				}
			}
			t.Errorf("no problem saying %q in %s; got %+v", tc.want, tc.path, r.Problems)
		})
	}
}

func TestRepositoryHelpers(t *testing.T) {
	for uses, want := range map[string]string{
		"github/codeql-action/upload-sarif@abc": "github/codeql-action",
		"Actions/Checkout@v6":                   "actions/checkout",
		"./.github/actions/x":                   "",
	} {
		if got := Repository(uses); got != want {
			t.Errorf("Repository(%q) = %q, want %q", uses, got, want)
		}
	}
	if got := commentAfter(`      - uses: "a/b@c" # v1.2.3 the release`, 15); got != "v1.2.3 the release" {
		t.Errorf("commentAfter = %q", got)
	}
	if got := commentAfter(`run: echo "#not a comment"`, 6); got != "" {
		t.Errorf("commentAfter read a # inside a word: %q", got)
	}
}
