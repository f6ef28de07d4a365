package workloads

import "github.com/tailgate-dev/tailgate/slo"

// Redacted replaces every secret in printed output (slo.Redacted).
const Redacted = slo.Redacted

// Redact removes secrets from s: the password of any URL userinfo in it and
// every listed secret value. It is slo.Redact, the one rule, named here for
// the drivers, which redact every target and error they show.
func Redact(s string, secrets []string) string { return slo.Redact(s, secrets) }

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
