// Package redact masks secrets in text that is about to be shown: an error printed on stderr, a
// log line, a message from a library. It knows the shapes a credential takes in this service's
// world: the password in a URL's userinfo (postgres://user:password@host), password-like
// key=value settings (password=..., sslpassword=..., PGPASSWORD=..., "password": "...") and the
// signature and session token of an AWS presigned URL (an RDS IAM auth token is one).
//
// It is a last line of defence, applied where text leaves the process; the first is not to put a
// secret in a message at all (configuration errors never quote a value).
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces every secret this package finds.
const Mask = "xxxxx"

var (
	// A URL from its scheme to the next space, quote or bracket. Its userinfo ends at the last '@'
	// of that run, so a password holding an unescaped '/' or '@' is still covered.
	urlToken = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'`<>()\\[\\]{}]*")
	// key=value pairs whose value is a credential, and key:value without spaces or with a quoted
	// key (JSON, YAML). The key may be part of a longer name (PGPASSWORD, sslpassword,
	// db_password); the value may be quoted; in a URL the '=' may be escaped (%3D). "password: no such file" (a path ending in
	// "password" in an error) is left alone.
	keyValue = regexp.MustCompile(`(?i)((?:passw(?:or)?d|pwd|x-amz-signature|x-amz-security-token|x-amz-credential)(?:\s*=\s*|%3[dD]|["']\s*:\s*|:))` +
		`('(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?|[^\s&;,"'` + "`" + `]+)`)
)

// String returns s with every secret it recognises replaced by Mask.
func String(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	s = urlToken.ReplaceAllStringFunc(s, maskUserinfo)
	return keyValue.ReplaceAllString(s, "${1}"+Mask)
}

// mayHoldSecret is a cheap first look, so that the common message costs no regular expression.
func mayHoldSecret(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	l := strings.ToLower(s)
	return strings.Contains(l, "passw") || strings.Contains(l, "pwd") || strings.Contains(l, "x-amz-")
}

// maskUserinfo masks the password of one URL's userinfo: user:password@ becomes user:xxxxx@.
// A userinfo without ':' is a user name and is kept.
func maskUserinfo(u string) string {
	i := strings.Index(u, "://") + 3
	at := strings.LastIndexByte(u[i:], '@')
	if at < 0 {
		return u
	}
	userinfo := u[i : i+at]
	colon := strings.IndexByte(userinfo, ':')
	if colon < 0 {
		return u
	}
	return u[:i+colon+1] + Mask + u[i+at:]
}

// Error returns the text of err with its secrets masked ("" for nil).
func Error(err error) string {
	if err == nil {
		return ""
	}
	return String(err.Error())
}
