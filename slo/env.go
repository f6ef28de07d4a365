package slo

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// variableName is the form of NAME in a ${NAME} reference.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces every ${NAME} in s with the value lookup gives NAME, and
// returns the values it used (they are secrets). "$${" stands for a literal
// "${"; any other "$" is kept as written. An unset variable is an error
// wrapping ErrUnsetVariable: a silently empty password or host would only
// fail later, far from its cause.
func expand(s string, lookup func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var out strings.Builder
	var values []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			out.WriteString(s)
			return out.String(), values, nil
		}
		if i > 0 && s[i-1] == '$' {
			out.WriteString(s[:i-1])
			out.WriteString("${")
			s = s[i+2:]
			continue
		}
		out.WriteString(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf(`unterminated "${": close it with "}", or write "$${" for a literal "${"`)
		}
		name := s[i+2 : i+2+end]
		if !variableName.MatchString(name) {
			return "", nil, fmt.Errorf("invalid variable name %q in ${...}: use letters, digits and _, not starting with a digit", clip(name))
		}
		value, ok := lookup(name)
		if !ok {
			return "", nil, fmt.Errorf("${%s}: %w", name, ErrUnsetVariable)
		}
		out.WriteString(value)
		values = append(values, value)
		s = s[i+3+end:]
	}
}

// TargetSecrets returns the secrets in a target URL's userinfo, in every
// form output may show them: decoded, as written (percent-encoding
// included) and as net/url encodes it again. The secret is the password,
// or, when a user is given alone, the user name: redis://TOKEN@host is a
// common way to write a password-only AUTH, and a lone user of any scheme
// may be a token. A user name beside a password is not a secret.
func TargetSecrets(target string) []string {
	u, err := ParseTarget(target)
	if err != nil || u.User == nil {
		return nil
	}
	user, password := rawUserinfo(target)
	var forms []string
	if decoded, ok := u.User.Password(); ok {
		forms = []string{decoded, password, strings.TrimPrefix(url.UserPassword("", decoded).String(), ":")}
	} else {
		forms = []string{u.User.Username(), user, url.User(u.User.Username()).String()}
	}
	var secrets []string
	for _, s := range forms {
		if s != "" && !slices.Contains(secrets, s) {
			secrets = append(secrets, s)
		}
	}
	return secrets
}

// rawUserinfo returns the user and password of a URL's userinfo exactly as
// written, percent-encoding included.
func rawUserinfo(target string) (user, password string) {
	rest := target
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return "", ""
	}
	user, password, _ = strings.Cut(rest[:at], ":")
	return user, password
}

// redactTarget returns target with any userinfo replaced, for messages.
func redactTarget(target string) string {
	scheme := strings.Index(target, "://")
	if scheme < 0 {
		return target
	}
	rest := target[scheme+3:]
	authority := rest
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return target
	}
	return target[:scheme+3] + "xxxxx" + rest[at:]
}

// addSecret records a secret once; empty values are not secrets.
func (p *Plan) addSecret(secret string) {
	if secret == "" {
		return
	}
	for _, s := range p.Secrets {
		if s == secret {
			return
		}
	}
	p.Secrets = append(p.Secrets, secret)
}

// collectSecrets adds the secrets the plan's structure reveals: target
// passwords, values of headers listed in secret_headers, and Authorization.
func (p *Plan) collectSecrets() {
	for _, c := range p.Components {
		for _, s := range TargetSecrets(c.Target) {
			p.addSecret(s)
		}
		for _, r := range c.Workload.Requests {
			for _, name := range sortedKeys(r.Headers) {
				if strings.EqualFold(name, "Authorization") || containsFold(r.SecretHeaders, name) {
					p.addSecret(r.Headers[name])
				}
			}
		}
	}
}
