package main

import (
	"slices"
	"strings"
	"testing"
)

func TestEnvFlagKeepsEachKeyValueAndRefusesOthers(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{"one", []string{"GOMAXPROCS=1"}, []string{"GOMAXPROCS=1"}, ""},
		{"repeated, in order", []string{"A=1", "B=", "A=2"}, []string{"A=1", "B=", "A=2"}, ""},
		{"no equals", []string{"A=1", "GOGC"}, []string{"A=1"}, `want KEY=VALUE, got "GOGC"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			set := envFlag(&env)
			var err error
			for _, v := range tc.args {
				if err = set(v); err != nil {
					break
				}
			}
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if !slices.Equal(env, tc.want) {
				t.Errorf("env = %q, want %q", env, tc.want)
			}
		})
	}
}
