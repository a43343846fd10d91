package kube

import (
	"context"
	"net/http"
)

// AuditIDHeader is the header the API server takes a request's audit ID from (when the client
// sends one) and always answers with.
const AuditIDHeader = "Audit-ID"

type auditIDKey struct{}

// WithAuditID makes every request sent with ctx carry id as its Audit-ID: the API server
// records the request in its audit log under that ID instead of a random one, so that a test
// can find exactly the requests it made (package audit).
func WithAuditID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, auditIDKey{}, id)
}

// AuditIDFrom returns the audit ID WithAuditID put in ctx ("" if none).
func AuditIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(auditIDKey{}).(string)
	return id
}

// auditIDTransport sets the Audit-ID header of requests whose context carries one.
type auditIDTransport struct{ next http.RoundTripper }

func (t auditIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if id := AuditIDFrom(req.Context()); id != "" {
		req = req.Clone(req.Context())
		req.Header.Set(AuditIDHeader, id)
	}
	return t.next.RoundTrip(req)
}

func withAuditIDs(rt http.RoundTripper) http.RoundTripper { return auditIDTransport{next: rt} }
