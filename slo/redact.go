package slo

import (
	"regexp"
	"strings"
)

// Redacted replaces every secret in printed output.
const Redacted = "xxxxx"

// userinfoPassword matches the password of a URL's userinfo anywhere in text.
var userinfoPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)@`)

// Redact removes secrets from s: the password of any URL userinfo in it and
// every listed secret value (a plan's Secrets, TargetSecrets of a target).
// It lives beside the rules that collect the secrets because whatever
// shows a plan's values, the engine's messages or a result's workload
// identity, redacts them the same way.
func Redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	return userinfoPassword.ReplaceAllString(s, "${1}"+Redacted+"@")
}
