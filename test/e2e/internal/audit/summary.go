package audit

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/platform-template/template-api/test/e2e/internal/kube"
)

// Summary counts the refused requests of an audit log: who was refused, by what, how often.
type Summary struct {
	Events  int // events read
	Refused int // requests a guardrail refused
	counts  map[countKey]*Count
}

type countKey struct{ who, by string }

// Count is how often one requester was refused by one component.
type Count struct {
	Who   string // the user acted as (impersonated, if so)
	By    string // the component: "Kyverno", "Pod Security Admission (restricted:latest)", "RBAC", ...
	Times int
	// Details counts what, within the component, refused: Kyverno's and admission policies'
	// names, RBAC's "<verb> <resource>".
	Details map[string]int
}

// Add counts one event (only refused requests are counted beyond Events).
func (s *Summary) Add(e *Event) {
	s.Events++
	if !e.Refused() {
		return
	}
	s.Refused++
	r := e.Refusal()
	by := string(r.Component)
	if r.Component == kube.PodSecurity {
		by = e.By()
	}
	k := countKey{who: e.Actor(), by: by}
	if s.counts == nil {
		s.counts = map[countKey]*Count{}
	}
	c := s.counts[k]
	if c == nil {
		c = &Count{Who: k.who, By: k.by, Details: map[string]int{}}
		s.counts[k] = c
	}
	c.Times++
	switch {
	case len(r.Policies) > 0:
		for _, p := range r.PolicyNames() {
			c.Details[p]++
		}
	case r.Component == kube.RBAC && e.ObjectRef != nil:
		res := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			res += "/" + e.ObjectRef.Subresource
		}
		c.Details[e.Verb+" "+res]++
	}
}

// Counts lists the counts, most refused first.
func (s *Summary) Counts() []Count {
	out := make([]Count, 0, len(s.counts))
	for _, c := range s.counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Times != out[j].Times {
			return out[i].Times > out[j].Times
		}
		if out[i].Who != out[j].Who {
			return out[i].Who < out[j].Who
		}
		return out[i].By < out[j].By
	})
	return out
}

// Summarize reads a whole audit log into a Summary.
func Summarize(r io.Reader) (*Summary, error) {
	s := &Summary{}
	err := Scan(r, func(_ []byte, e *Event) error {
		s.Add(e)
		return nil
	})
	return s, err
}

// Write prints the summary, one line per requester and component, with the details most
// frequent first (at most maxDetails of them).
func (s *Summary) Write(w io.Writer, maxDetails int) {
	counts := s.Counts()
	width := len("who")
	for _, c := range counts {
		width = max(width, len(c.Who))
	}
	fmt.Fprintf(w, "%-*s  %-42s %5s  %s\n", width, "who", "refused by", "times", "what")
	for _, c := range counts {
		fmt.Fprintf(w, "%-*s  %-42s %5d  %s\n", width, c.Who, c.By, c.Times, details(c.Details, maxDetails))
	}
}

func details(d map[string]int, maxDetails int) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if d[keys[i]] != d[keys[j]] {
			return d[keys[i]] > d[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for i, k := range keys {
		if i == maxDetails {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-maxDetails))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, d[k]))
	}
	return strings.Join(parts, ", ")
}
