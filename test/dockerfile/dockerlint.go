// Package dockerfile checks the repository's Dockerfile with BuildKit's own parser (the one
// `docker build` uses), since no Docker engine runs where the tests do. The rules refuse what
// would weaken the image's supply chain or runtime: an image the build pulls (a base, COPY
// --from, RUN --mount from=) not pinned by digest, a final stage that runs as root, ADD from a
// URL, secrets passed through ENV or ARG, by name or as a URL's credentials, and RUN steps that
// ask the builder for privileges (--security=insecure, --network=host, --device).
package dockerfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Violation is one broken rule, with the line it is on.
type Violation struct {
	Rule string
	Line int
	Text string
}

func (v Violation) String() string { return fmt.Sprintf("line %d: %s: %s", v.Line, v.Rule, v.Text) }

// Rule names, as the test output and README use them.
const (
	RuleBaseDigest  = "base-pinned-by-digest"
	RuleNonRoot     = "final-stage-non-root"
	RuleNoADDURL    = "no-add-from-url"
	RuleNoSecretEnv = "no-secret-in-env-or-arg"
	RuleNoBuildPriv = "run-without-build-privileges"
)

var (
	digestRef  = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	secretName = regexp.MustCompile(`(?i)(passw(or)?d|secret|token|api_?key|private_?key|access_?key|credential|auth)`)
	urlSource  = regexp.MustCompile(`(?i)^(https?|ftp)://|^git@|\.git(#|$)`)
	syntaxLine = regexp.MustCompile(`(?m)^#\s*syntax\s*=\s*(\S+)`)
	numericID  = regexp.MustCompile(`^[0-9]+$`)
	// urlCredential is a URL with a password in it: scheme://user:password@host.
	urlCredential = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]+:[^/@\s]+@`)
)

// Check parses a Dockerfile and returns every violation (none: the file passes).
func Check(src []byte) ([]Violation, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	var out []Violation
	if m := syntaxLine.FindSubmatch(src); m != nil && !digestRef.Match(m[1]) {
		out = append(out, Violation{RuleBaseDigest, 1, "syntax frontend " + string(m[1]) + " is not pinned by digest"})
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("Dockerfile has no stage")
	}
	for _, a := range metaArgs {
		out = append(out, checkArgs(&a)...)
	}
	names := map[string]bool{}
	// pulled refuses an image the build pulls from elsewhere than an earlier stage (COPY
	// --from=alpine:3, RUN --mount=from=...) unless pinned by digest: it is a base as much as
	// FROM's.
	pulled := func(ref, how string, line int) {
		if _, err := strconv.Atoi(ref); err == nil || ref == "" || names[strings.ToLower(ref)] {
			return
		}
		if !digestRef.MatchString(ref) {
			out = append(out, Violation{RuleBaseDigest, line, how + " pulls image " + ref + ", not pinned by digest (@sha256:...)"})
		}
	}
	for i, st := range stages {
		line := startLine(st.Location)
		base := st.BaseName
		switch {
		case names[strings.ToLower(base)], base == "scratch":
		case strings.Contains(base, "$"):
			out = append(out, Violation{RuleBaseDigest, line, "base " + base + " comes from a variable; pin it literally"})
		case !digestRef.MatchString(base):
			out = append(out, Violation{RuleBaseDigest, line, "base " + base + " is not pinned by digest (@sha256:...)"})
		}
		if st.Name != "" {
			names[strings.ToLower(st.Name)] = true
		}
		user := ""
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.AddCommand:
				for _, s := range c.SourcePaths {
					if urlSource.MatchString(s) {
						out = append(out, Violation{RuleNoADDURL, startLine(c.Location()), "ADD " + s + " fetches from a URL; download in a stage with a checksum, or COPY"})
					}
				}
			case *instructions.CopyCommand:
				pulled(c.From, "COPY --from", startLine(c.Location()))
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					pulled(m.From, "RUN --mount from=", startLine(c.Location()))
				}
				out = append(out, runPrivileges(c)...)
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if secretName.MatchString(kv.Key) {
						out = append(out, Violation{RuleNoSecretEnv, startLine(c.Location()), "ENV " + kv.Key + " looks like a secret; use a build secret mount or runtime secret"})
					}
					if urlCredential.MatchString(kv.Value) {
						out = append(out, Violation{RuleNoSecretEnv, startLine(c.Location()), "ENV " + kv.Key + " holds a URL with a password; it stays in the image's config for anyone who pulls it"})
					}
				}
			case *instructions.ArgCommand:
				out = append(out, checkArgs(c)...)
			case *instructions.UserCommand:
				user = c.User
			}
		}
		if i == len(stages)-1 && !nonRoot(user) {
			what := "has no USER (the image default may be root)"
			if user != "" {
				what = "runs as " + user
			}
			out = append(out, Violation{RuleNonRoot, line, "final stage " + what + "; set USER to a non-root uid such as 65532:65532"})
		}
	}
	return out, nil
}

// runPrivileges refuses a RUN step that asks the builder for more than a build step has: a
// privileged container (--security=insecure), the host's network namespace (--network=host:
// the build machine's local services and its cloud metadata endpoint) or a device of the host
// (--device). Each needs an entitlement the build must be given (allow:), which the workflow
// rules refuse too.
func runPrivileges(c *instructions.RunCommand) []Violation {
	var out []Violation
	line := startLine(c.Location())
	if instructions.GetSecurity(c) == "insecure" {
		out = append(out, Violation{RuleNoBuildPriv, line, "RUN --security=insecure runs the step in a privileged container"})
	}
	if instructions.GetNetwork(c) == instructions.NetworkHost {
		out = append(out, Violation{RuleNoBuildPriv, line, "RUN --network=host runs the step on the build machine's network (its local services, the cloud metadata endpoint)"})
	}
	for _, d := range instructions.GetDevices(c) {
		out = append(out, Violation{RuleNoBuildPriv, line, "RUN --device=" + d.Name + " gives the step a device of the build machine"})
	}
	return out
}

func checkArgs(c *instructions.ArgCommand) []Violation {
	var out []Violation
	for _, a := range c.Args {
		if secretName.MatchString(a.Key) {
			out = append(out, Violation{RuleNoSecretEnv, startLine(c.Location()), "ARG " + a.Key + " looks like a secret; build args are kept in the image history"})
		}
		if a.Value != nil && urlCredential.MatchString(*a.Value) {
			out = append(out, Violation{RuleNoSecretEnv, startLine(c.Location()), "ARG " + a.Key + " holds a URL with a password; build args are kept in the image history"})
		}
	}
	return out
}

// nonRoot reports whether a USER value names a non-root user (and group): not empty, not root,
// not uid 0, and a numeric uid so that Kubernetes' runAsNonRoot can verify it.
func nonRoot(user string) bool {
	if user == "" {
		return false
	}
	u, g, _ := strings.Cut(user, ":")
	if !numericID.MatchString(u) || strings.TrimLeft(u, "0") == "" {
		return false
	}
	return g == "" || (numericID.MatchString(g) && strings.TrimLeft(g, "0") != "")
}

func startLine(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}
