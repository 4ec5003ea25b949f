package config_test

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tessera-geo/tessera/internal/config"
)

func TestSecurityFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"TESSERA_AUTH_ANONYMOUS":       "read",
		"TESSERA_AUTH_API_KEYS":        `[{"name":"k","sha256":"00"}]`,
		"TESSERA_CORS_ORIGINS":         "https://a.test,https://b.test",
		"TESSERA_RATE_LIMIT":           "5",
		"TESSERA_HOOK_SECRET":          "s",
		"TESSERA_PRE_HOOK_URL":         "http://127.0.0.1:9/hook",
		"TESSERA_AUTH_JWKS_URL":        "https://idp.test/jwks.json",
		"TESSERA_AUTH_TRUSTED_HEADERS": "true",
	}
	var c config.Serve
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse([]string{"--auth-audience=tessera"}); err != nil {
		t.Fatal(err)
	}
	if err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.AuthAnonymous != "read" || c.AuthAudience != "tessera" || len(c.CORSOrigins) != 2 || c.RateLimit != 5 || !c.AuthTrustedHeaders || !c.Gzip {
		t.Fatalf("%+v", c.Security)
	}
	if err := c.Security.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSecurityValidate(t *testing.T) {
	cases := []struct {
		name string
		s    config.Security
		want string
	}{
		{"open", config.Security{}, ""},
		{"bad anonymous", config.Security{AuthAnonymous: "some"}, "--auth-anonymous"},
		{"closed without credentials", config.Security{AuthAnonymous: "none"}, "needs --auth-jwks-url"},
		{"hook without secret", config.Security{PreHookURL: "https://h.test"}, "--hook-secret"},
		{"hook not a URL", config.Security{PostHookURL: "h.test", HookSecret: "s"}, "--post-hook-url"},
		{"credentials with any origin", config.Security{CORSOrigins: []string{"*"}, CORSCredentials: true}, "--cors-credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
