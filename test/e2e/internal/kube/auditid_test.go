package kube

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestAuditIDRidesOnTheContext: a request made with WithAuditID carries that Audit-ID header,
// through an impersonating client too; one made without carries none (the API server then
// picks a random one).
func TestAuditIDRidesOnTheContext(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(AuditIDHeader)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"}}`))
	}))
	defer srv.Close()
	c, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.Impersonate("someone")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Client
		ctx  context.Context
		want string
	}{
		{"tagged", c, WithAuditID(context.Background(), "e2e-1"), "e2e-1"},
		{"impersonating", imp, WithAuditID(context.Background(), "e2e-2"), "e2e-2"},
		{"untagged", c, context.Background(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.c.Typed.CoreV1().Namespaces().Get(tc.ctx, "x", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if h := <-got; h != tc.want {
				t.Errorf("Audit-ID header %q, want %q", h, tc.want)
			}
		})
	}
}
