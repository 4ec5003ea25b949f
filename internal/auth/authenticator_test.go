package auth_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/auth/authtest"
	"github.com/tessera-geo/tessera/internal/cql2"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// echo answers 200 with the principal the middleware stored.
func echo(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	out := map[string]any{"sub": p.Subject, "method": p.Method, "scopes": p.Scopes, "collections": p.Collections}
	if p.Filter != nil {
		out["filter"] = cql2.Text(p.Filter)
	}
	out["query"] = r.URL.RawQuery
	b, _ := io.ReadAll(r.Body)
	out["body"] = string(b)
	_ = json.NewEncoder(w).Encode(out)
}

type result struct {
	status int
	www    string
	body   map[string]any
}

func do(t *testing.T, h http.Handler, method, target, authz string, hdr map[string]string, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return result{rec.Code, rec.Header().Get("WWW-Authenticate"), m}
}

func newAuth(t *testing.T, mod func(*auth.Config)) http.Handler {
	t.Helper()
	cfg := auth.Defaults()
	mod(&cfg)
	a, err := auth.New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return a.Middleware()(http.HandlerFunc(echo))
}

func TestJWT(t *testing.T) {
	is := authtest.New(t)
	is.AddKey("rsa-2", jwa.RS256(), false) // rotated in later
	is.AddKey("rogue", jwa.RS256(), false) // never published
	h := newAuth(t, func(c *auth.Config) {
		c.JWKSURL, c.Issuer, c.Audience = is.URL, is.Name, is.Audience
		c.Anonymous = auth.AnonymousRead
		c.JWKSMinRefresh = 0
		c.Leeway = 0
	})
	bearer := func(kid string, c authtest.Claims) string { return "Bearer " + is.Token(kid, c) }
	now := time.Now()
	cases := []struct {
		name, method, authz string
		want                int
		wantErr             string
	}{
		{"anonymous read", "GET", "", 200, ""},
		{"anonymous write", "POST /collections", "", 401, ""},
		{"rsa", "GET", bearer("rsa-1", authtest.Claims{Subject: "alice"}), 200, ""},
		{"ec", "GET", bearer("ec-1", authtest.Claims{Subject: "alice"}), 200, ""},
		{"eddsa", "GET", bearer("ed-1", authtest.Claims{Subject: "alice"}), 200, ""},
		{"expired", "GET", bearer("rsa-1", authtest.Claims{Expires: now.Add(-time.Minute)}), 401, "expired"},
		{"not yet valid", "GET", bearer("rsa-1", authtest.Claims{NotBefore: now.Add(time.Hour)}), 401, "not valid yet"},
		{"wrong audience", "GET", bearer("rsa-1", authtest.Claims{Audience: "other"}), 401, "wrong audience"},
		{"wrong issuer", "GET", bearer("rsa-1", authtest.Claims{Issuer: "https://evil.test"}), 401, "wrong issuer"},
		{"no expiry", "GET", bearer("rsa-1", authtest.Claims{NoExpiry: true}), 401, "no expiry"},
		{"unknown kid", "GET", bearer("rogue", authtest.Claims{}), 401, "unknown key id"},
		{"garbage", "GET", "Bearer a.b.c", 401, "malformed"},
		{"alg none", "GET", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", 401, ""},
		{"basic", "GET", "Basic dXNlcjpwYXNz", 401, "unsupported"},
		{"read scope cannot write", "POST /collections", bearer("rsa-1", authtest.Claims{Extra: map[string]any{"scope": "read"}}), 403, "write"},
		{"write scope writes", "POST /collections", bearer("rsa-1", authtest.Claims{Extra: map[string]any{"scope": "openid write"}}), 200, ""},
		{"admin writes", "DELETE", bearer("rsa-1", authtest.Claims{Extra: map[string]any{"scope": []string{"stac:admin"}}}), 200, ""},
		{"search POST is a read", "POST /search", bearer("rsa-1", authtest.Claims{}), 200, ""},
		{"aggregate POST is a read", "POST /collections/a/aggregate", bearer("rsa-1", authtest.Claims{}), 200, ""},
		{"encoded slash is still a write", "POST /collections/a%2Fb/items", bearer("rsa-1", authtest.Claims{Extra: map[string]any{"scope": "read"}}), 403, ""},
		{"unknown POST is a write", "POST /collections/a/items/x/whatever", "", 401, ""},
		{"unknown method is a write", "PROPFIND /", "", 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, target := tc.method, "/collections/a/items/x"
			if m, p, ok := strings.Cut(tc.method, " "); ok {
				method, target = m, p
			}
			res := do(t, h, method, target, tc.authz, nil, "")
			if res.status != tc.want {
				t.Fatalf("status %d, want %d (%v)", res.status, tc.want, res.body)
			}
			if tc.want == 401 && !strings.HasPrefix(res.www, "Bearer realm=") {
				t.Errorf("WWW-Authenticate = %q", res.www)
			}
			if tc.wantErr != "" && !strings.Contains(res.body["description"].(string), tc.wantErr) {
				t.Errorf("description %q lacks %q", res.body["description"], tc.wantErr)
			}
		})
	}

	t.Run("rotation: unknown kid refreshes the JWKS", func(t *testing.T) {
		tok := bearer("rsa-2", authtest.Claims{Subject: "bob"})
		if res := do(t, h, "GET", "/", tok, nil, ""); res.status != 401 {
			t.Fatalf("unpublished key: status %d", res.status)
		}
		is.Publish("rsa-2")
		before := is.Fetches.Load()
		res := do(t, h, "GET", "/", tok, nil, "")
		if res.status != 200 || res.body["sub"] != "bob" {
			t.Fatalf("after rotation: %d %v", res.status, res.body)
		}
		if is.Fetches.Load() != before+1 {
			t.Errorf("fetches %d → %d, want one refresh", before, is.Fetches.Load())
		}
		// Cached: known keys cause no fetch.
		before = is.Fetches.Load()
		for range 5 {
			do(t, h, "GET", "/", tok, nil, "")
		}
		if is.Fetches.Load() != before {
			t.Errorf("known kid refetched the JWKS")
		}
	})

	t.Run("claims map to a restriction", func(t *testing.T) {
		tok := bearer("ec-1", authtest.Claims{Subject: "carol", Extra: map[string]any{
			"scope": "read", "stac_collections": []string{"a", "b"}, "stac_filter": "eo:cloud_cover < 10"}})
		res := do(t, h, "GET", "/", tok, nil, "")
		if res.status != 200 {
			t.Fatal(res)
		}
		if got := res.body["collections"]; len(got.([]any)) != 2 {
			t.Errorf("collections %v", got)
		}
		if got := res.body["filter"]; got != `"eo:cloud_cover" < 10` && got != "eo:cloud_cover < 10" {
			t.Errorf("filter %v", got)
		}
	})
}

func TestJWKSUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) }))
	defer srv.Close()
	is := authtest.New(t)
	h := newAuth(t, func(c *auth.Config) { c.JWKSURL = srv.URL; c.Anonymous = auth.AnonymousNone })
	res := do(t, h, "GET", "/", "Bearer "+is.Token("", authtest.Claims{}), nil, "")
	if res.status != 503 || strings.Contains(res.body["description"].(string), "127.0.0.1") {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

func TestStaticKeyAndAPIKeys(t *testing.T) {
	dir := t.TempDir()
	keys := `[{"name":"ci","sha256":"` + auth.HashAPIKey("s3cret-writer") + `","scopes":["write"]},
	          {"name":"partner","sha256":"` + auth.HashAPIKey("s3cret-reader") + `","scopes":["read"],"collections":["a"],"filter":"platform = 'x'"}]`
	path := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(path, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := auth.LoadAPIKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	h := newAuth(t, func(c *auth.Config) { c.APIKeys = loaded; c.Anonymous = auth.AnonymousNone })
	cases := []struct {
		name string
		hdr  map[string]string
		want int
		sub  string
	}{
		{"none", nil, 401, ""},
		{"header", map[string]string{"X-API-Key": "s3cret-writer"}, 200, "ci"},
		{"scheme", map[string]string{"Authorization": "ApiKey s3cret-reader"}, 200, "partner"},
		{"bearer", map[string]string{"Authorization": "Bearer s3cret-reader"}, 200, "partner"},
		{"wrong", map[string]string{"X-API-Key": "s3cret"}, 401, ""},
		{"hash is not the key", map[string]string{"X-API-Key": auth.HashAPIKey("s3cret-writer")}, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, h, "GET", "/search", "", tc.hdr, "")
			if res.status != tc.want || (tc.sub != "" && res.body["sub"] != tc.sub) {
				t.Fatalf("%d %v", res.status, res.body)
			}
		})
	}
	if _, err := auth.ParseAPIKeys([]byte(`[{"name":"x","sha256":"plaintext-key"}]`)); err == nil {
		t.Error("a plaintext key was accepted as a hash")
	}
}

func TestStaticPEMKey(t *testing.T) {
	is := authtest.New(t)
	// Fetch the JWKS and keep it as a static file.
	resp, err := http.Get(is.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	path := filepath.Join(t.TempDir(), "jwks.json")
	_ = os.WriteFile(path, b, 0o600)
	h := newAuth(t, func(c *auth.Config) { c.KeyFile = path; c.Audience = is.Audience; c.Anonymous = auth.AnonymousNone })
	if res := do(t, h, "GET", "/", "Bearer "+is.Token("ed-1", authtest.Claims{Subject: "s"}), nil, ""); res.status != 200 {
		t.Fatalf("%d %v", res.status, res.body)
	}
}

func TestTrustedHeaders(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		h := newAuth(t, func(c *auth.Config) { c.TrustedHeaders = trusted })
		res := do(t, h, "GET", "/search?_collections=a,b&limit=3&_filter=x%3D1", "", map[string]string{auth.HeaderCollections: "b,c"}, "")
		if !trusted {
			if res.body["collections"] != nil || !strings.Contains(res.body["query"].(string), "_collections") {
				t.Errorf("untrusted: %v", res.body)
			}
			continue
		}
		if c := res.body["collections"].([]any); len(c) != 1 || c[0] != "b" {
			t.Errorf("trusted collections %v", c)
		}
		if res.body["query"] != "limit=3" || res.body["filter"] == nil {
			t.Errorf("trusted query %v", res.body)
		}
		res = do(t, h, "POST", "/search", "", map[string]string{"Content-Type": "application/json"}, `{"limit":2,"_collections":["z"],"_filter":{"op":"=","args":[{"property":"x"},1]}}`)
		if c := res.body["collections"].([]any); len(c) != 1 || c[0] != "z" || res.body["body"] != `{"limit":2}` {
			t.Errorf("trusted POST %v", res.body)
		}
	}
}

func TestCacheKey(t *testing.T) {
	ctx := t.Context()
	if auth.CacheKey(ctx) != "" {
		t.Fatal("unrestricted context has a cache key")
	}
	f, _ := cql2.ParseText("x = 1")
	a := auth.CacheKey(auth.WithPrincipal(ctx, auth.Principal{Restriction: auth.Restriction{Collections: []string{"b", "a"}}}))
	b := auth.CacheKey(auth.WithPrincipal(ctx, auth.Principal{Restriction: auth.Restriction{Collections: []string{"a", "b"}}}))
	c := auth.CacheKey(auth.WithPrincipal(ctx, auth.Principal{Restriction: auth.Restriction{Collections: []string{"a", "b"}, Filter: f}}))
	if a == "" || a != b || a == c {
		t.Fatalf("keys %q %q %q", a, b, c)
	}
}

func TestRequiredScope(t *testing.T) {
	cases := []struct {
		method, path string
		want         auth.Scope
	}{
		{"GET", "/collections/a/items", auth.ScopeRead},
		{"POST", "/search", auth.ScopeRead},
		{"POST", "/search/", auth.ScopeRead},
		{"POST", "/aggregate", auth.ScopeRead},
		{"POST", "/collections/a/aggregate", auth.ScopeRead},
		{"POST", "/collections/a/items/aggregate", auth.ScopeWrite},
		{"POST", "/searches/register", auth.ScopeRead},
		{"POST", "/collections/a/items/b/statistics", auth.ScopeRead},
		{"POST", "/collections", auth.ScopeWrite},
		{"POST", "/collections/a/items", auth.ScopeWrite},
		{"POST", "/collections/a%2Fb/items", auth.ScopeWrite},
		{"PUT", "/collections/a", auth.ScopeWrite},
		{"PATCH", "/collections/a/items/b", auth.ScopeWrite},
		{"DELETE", "/collections/a", auth.ScopeWrite},
	}
	for _, tc := range cases {
		if got := auth.RequiredScope(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}
