package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{name: "an overlay", args: []string{filepath.Join("..", "..", "..", "..", "k8s", "overlays", "kind")}, wantOut: "kind: StatefulSet"},
		{name: "no argument", args: nil, wantErr: "usage: render"},
		{name: "not a kustomization", args: []string{t.TempDir()}, wantErr: "kustomize build"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tc.args, &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output does not contain %q", tc.wantOut)
			}
		})
	}
}
