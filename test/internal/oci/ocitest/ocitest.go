// Package ocitest is the loopback registry of package oci for a test: started on a free port and
// stopped when the test ends (apart from oci so that the programs serving oci's registry do not
// link the testing package).
package ocitest

import (
	"context"
	"testing"

	"github.com/platform-template/template-api/test/internal/oci"
)

// Serve starts an in-memory registry on a free loopback port and stops it when the test ends.
// Not starting fails the test, and so does not stopping.
func Serve(t testing.TB) *oci.Registry {
	t.Helper()
	reg, err := oci.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := reg.Close(context.Background()); err != nil {
			t.Errorf("stop the registry: %v", err)
		}
	})
	return reg
}
