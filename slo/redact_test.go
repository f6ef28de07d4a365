package slo

import "testing"

func TestRedactRemovesEveryListedSecretAndAnyUserinfoPassword(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"a listed secret anywhere", "token abc123 rejected", []string{"abc123"}, "token xxxxx rejected"},
		{"every occurrence", "abc123/abc123", []string{"abc123"}, "xxxxx/xxxxx"},
		{"an empty secret is none", "nothing here", []string{""}, "nothing here"},
		{"a URL's password, listed or not", "dial redis://user:pw@127.0.0.1:6379: refused", nil, "dial redis://user:xxxxx@127.0.0.1:6379: refused"},
		{"a user alone is left to the listed secrets", "redis://Sup3r@127.0.0.1:1", []string{"Sup3r"}, "redis://xxxxx@127.0.0.1:1"},
		{"text without secrets is unchanged", "get 127.0.0.1:1: timeout", []string{"abc"}, "get 127.0.0.1:1: timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.secrets); got != tc.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
			}
		})
	}
}
