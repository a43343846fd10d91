package audit

import (
	"io"
	"strings"
)

// Filter selects refused requests (zero value: every one).
type Filter struct {
	// Grep is a piece of text the request's line must contain (case-insensitive): a user, a
	// policy, a word of the reason ("privileged").
	Grep string
	// Resource is the resource the request was about (e.g. pods).
	Resource string
	// Who is a user the request was made as, or by (impersonating).
	Who string
}

// Match reports whether a refused request passes the filter.
func (f Filter) Match(e *Event) bool {
	if !e.Refused() {
		return false
	}
	if f.Resource != "" && (e.ObjectRef == nil || e.ObjectRef.Resource != f.Resource) {
		return false
	}
	if f.Who != "" && e.User.Username != f.Who && e.Actor() != f.Who {
		return false
	}
	return f.Grep == "" || strings.Contains(strings.ToLower(e.Line()), strings.ToLower(f.Grep))
}

// Refusals returns the line of every refused request of an audit log that passes the filter,
// oldest first.
func Refusals(r io.Reader, f Filter) ([]string, error) {
	var out []string
	err := Scan(r, func(_ []byte, e *Event) error {
		if f.Match(e) {
			out = append(out, e.Line())
		}
		return nil
	})
	return out, err
}
