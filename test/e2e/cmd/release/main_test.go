package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadArguments(t *testing.T) {
	none := func(string) string { return "" }
	cases := []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"provenance"}, "unknown command"},
		{[]string{"run"}, "-root is required"},
		{[]string{"run", "-root", "/nonexistent", "-cosign", "/nonexistent/cosign"}, "cosign not found"},
		{[]string{"run", "-root", "/nonexistent", "-cosign", "/bin/true", "-cyclonedx-gomod", "/nonexistent"}, "cyclonedx-gomod at /nonexistent"},
		{[]string{"run", "-no-such-flag"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, none, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v = %v, want an error naming %q", c.args, err, c.want)
		}
	}
}
