package workloads

import (
	"regexp"
	"strings"
)

// Redacted replaces every secret in printed output.
const Redacted = "xxxxx"

// userinfoPassword matches the password of a URL's userinfo anywhere in text.
var userinfoPassword = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)@`)

// Redact removes secrets from s: the password of any URL userinfo in it and
// every listed secret value.
func Redact(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, Redacted)
		}
	}
	return userinfoPassword.ReplaceAllString(s, "${1}"+Redacted+"@")
}

// redactErr returns err with its message redacted, keeping it unwrappable.
func redactErr(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := Redact(msg, secrets); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

// RedactError returns err with secrets removed from its message; errors.Is
// and errors.As still see the original.
func RedactError(err error, secrets []string) error { return redactErr(err, secrets) }

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
