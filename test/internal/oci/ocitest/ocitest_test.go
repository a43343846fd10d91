package ocitest

import (
	"context"
	"testing"

	"github.com/platform-template/template-api/test/internal/oci"
)

// TestServe: the registry answers while the test runs, and no longer once the test has ended.
func TestServe(t *testing.T) {
	var addr string
	t.Run("serve", func(t *testing.T) {
		addr = Serve(t).Addr
		if err := oci.Ping(context.Background(), addr); err != nil {
			t.Fatal(err)
		}
	})
	if err := oci.Ping(context.Background(), addr); err == nil {
		t.Errorf("the registry on %s still answers after its test", addr)
	}
}
